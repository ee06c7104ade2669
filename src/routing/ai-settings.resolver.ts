import { Ctx, Query, Resolver } from 'type-graphql';
import { planAllowsByok } from '../accounts/plan.enum';
import { AuthContext, viewerOf } from '../auth/viewer';
import { AccountKeys } from '../provider-keys/provider-key.store';
import { AiSettings, ProviderOption } from './ai-settings.type';
import { RouteService } from './route.service';

/** What these resolvers need of a request's context. */
type RoutingContext = AuthContext<AccountKeys> & { services: { routes: RouteService } };

@Resolver()
export class AiSettingsResolver {
  @Query(() => [ProviderOption], {
    description: 'Any member. The provider dropdown; `key` is null for a member.',
  })
  aiProviders(@Ctx() context: RoutingContext): ProviderOption[] {
    return context.services.routes.providerOptions(viewerOf(context));
  }

  @Query(() => AiSettings, { description: 'Any member. The plan and the route of every AI task.' })
  aiSettings(@Ctx() context: RoutingContext): AiSettings {
    const viewer = viewerOf(context);
    return {
      plan: viewer.plan,
      byokAvailable: planAllowsByok(viewer.plan),
      routes: context.services.routes.routes(viewer),
    };
  }
}
