import { Arg, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import { AuthContext, viewerOf } from '../auth/viewer';
import { AccountKeys } from '../provider-keys/provider-key.store';
import { UpdateAiSettingsInput } from './ai-settings.inputs';
import { AiSettingsService } from './ai-settings.service';
import { AccountSettings } from './ai-settings.store';
import { AiSettings, ProviderOption } from './ai-settings.type';
import { RouteService } from './route.service';

/** What these resolvers need of a request's context. */
type RoutingContext = AuthContext<AccountKeys & AccountSettings> & {
  services: { routes: RouteService; aiSettings: AiSettingsService };
};

@Resolver()
export class AiSettingsResolver {
  @Query(() => [ProviderOption], {
    description: 'Any member. The provider dropdown; `key` is null for a member.',
  })
  aiProviders(@Ctx() context: RoutingContext): ProviderOption[] {
    return context.services.routes.providerOptions(viewerOf(context));
  }

  @Query(() => AiSettings, {
    description: "Any member. The plan, the route of every AI task and why, and the admin's choices.",
  })
  aiSettings(@Ctx() context: RoutingContext): AiSettings {
    return context.services.routes.settings(viewerOf(context));
  }

  @Mutation(() => AiSettings, {
    description:
      'ADMIN. Changes how AI tasks are routed; omitted fields stay as they are. Needs the Growth plan.',
  })
  updateAiSettings(
    @Ctx() context: RoutingContext,
    @Arg('input', () => UpdateAiSettingsInput) input: UpdateAiSettingsInput,
  ): Promise<AiSettings> {
    return context.services.aiSettings.update(viewerOf(context), input);
  }
}
