import { Ctx, Query, Resolver } from 'type-graphql';
import { planAllowsByok } from '../accounts/plan.enum';
import { RequestContext, viewerOf } from '../graphql/context';
import { AiSettings, ProviderOption } from './ai-settings.type';

@Resolver()
export class AiSettingsResolver {
  @Query(() => [ProviderOption], { description: 'Any member. The provider dropdown; `key` is for admins only.' })
  aiProviders(@Ctx() context: RequestContext): Promise<ProviderOption[]> {
    return context.services.routes.providerOptions(viewerOf(context));
  }

  @Query(() => AiSettings, { description: 'Any member. The plan and the route of every AI task.' })
  async aiSettings(@Ctx() context: RequestContext): Promise<AiSettings> {
    const viewer = viewerOf(context);
    return {
      plan: viewer.plan,
      byokAvailable: planAllowsByok(viewer.plan),
      routes: await context.services.routes.routes(viewer.accountId, viewer.plan),
    };
  }
}
