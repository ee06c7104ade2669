import { Ctx, Query, Resolver } from 'type-graphql';
import { planAllowsByok } from '../accounts/plan.enum';
import { RequestContext, viewerOf } from '../graphql/context';
import { AiSettings, ProviderOption } from './ai-settings.type';

@Resolver()
export class AiSettingsResolver {
  @Query(() => [ProviderOption], { description: 'Any member. The provider dropdown; `key` is null for a member.' })
  aiProviders(@Ctx() context: RequestContext): ProviderOption[] {
    return context.services.routes.providerOptions(viewerOf(context));
  }

  @Query(() => AiSettings, { description: 'Any member. The plan and the route of every AI task.' })
  aiSettings(@Ctx() context: RequestContext): AiSettings {
    const viewer = viewerOf(context);
    return {
      plan: viewer.plan,
      byokAvailable: planAllowsByok(viewer.plan),
      routes: context.services.routes.routes(viewer),
    };
  }
}
