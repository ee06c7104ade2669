import { Arg, Args, Ctx, FieldResolver, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { AuthContext, viewerOf } from '../auth/viewer';
import { AiProvider } from '../providers/ai-provider.enum';
import {
  AddProviderKeyInput,
  ProviderKeyEventsArgs,
  RotateProviderKeyInput,
  TestProviderKeyInput,
  UpdateProviderKeyInput,
} from './provider-key.inputs';
import {
  ConnectionTestType,
  KeyUsageDay,
  ProviderKeyEventConnection,
  ProviderKeyType,
  RemoveProviderKeyPayload,
} from './provider-key.type';
import { ProviderKeyService } from './provider-key.service';
import { AccountKeys } from './provider-key.store';

// Thin by design: access is decided by the permission map, the rules of the product by the service.

/** What these resolvers need of a request's context. */
type KeysContext = AuthContext<AccountKeys> & { services: { providerKeys: ProviderKeyService } };

@Resolver()
export class ProviderKeyResolver {
  @Query(() => [ProviderKeyType], { description: 'ADMIN. The keys this account has stored, masked.' })
  providerKeys(@Ctx() context: KeysContext): ProviderKeyType[] {
    return context.services.providerKeys.list(viewerOf(context));
  }

  @Query(() => ProviderKeyEventConnection, { description: 'ADMIN. The audit trail, newest first.' })
  providerKeyEvents(
    @Ctx() context: KeysContext,
    @Args() { first, after }: ProviderKeyEventsArgs,
  ): Promise<ProviderKeyEventConnection> {
    return context.services.providerKeys.events(viewerOf(context), first, after);
  }

  @Mutation(() => ProviderKeyType, {
    description: 'ADMIN. Stores a key; with verify (default) only after a passing connection test.',
  })
  addProviderKey(
    @Ctx() context: KeysContext,
    @Arg('input', () => AddProviderKeyInput) input: AddProviderKeyInput,
  ): Promise<ProviderKeyType> {
    return context.services.providerKeys.add(viewerOf(context), input);
  }

  @Mutation(() => ConnectionTestType, {
    description: 'ADMIN. Tests a candidate key (apiKey given, nothing stored) or the stored key.',
  })
  testProviderKey(
    @Ctx() context: KeysContext,
    @Arg('input', () => TestProviderKeyInput) input: TestProviderKeyInput,
  ): Promise<ConnectionTestType> {
    return context.services.providerKeys.test(viewerOf(context), input);
  }

  @Mutation(() => ProviderKeyType, {
    description: 'ADMIN. Replaces the stored key in one transaction; version + 1.',
  })
  rotateProviderKey(
    @Ctx() context: KeysContext,
    @Arg('input', () => RotateProviderKeyInput) input: RotateProviderKeyInput,
  ): Promise<ProviderKeyType> {
    return context.services.providerKeys.rotate(viewerOf(context), input);
  }

  @Mutation(() => ProviderKeyType, {
    description: 'ADMIN. Changes the label or expiry of the stored key, never the key itself.',
  })
  updateProviderKey(
    @Ctx() context: KeysContext,
    @Arg('input', () => UpdateProviderKeyInput) input: UpdateProviderKeyInput,
  ): Promise<ProviderKeyType> {
    return context.services.providerKeys.update(viewerOf(context), input);
  }

  @Mutation(() => RemoveProviderKeyPayload, {
    description: 'ADMIN. Deletes the key; the provider falls back to the built-in allocation.',
  })
  removeProviderKey(
    @Ctx() context: KeysContext,
    @Arg('provider', () => AiProvider) provider: AiProvider,
  ): Promise<RemoveProviderKeyPayload> {
    return context.services.providerKeys.remove(viewerOf(context), provider);
  }
}

@Resolver(() => ProviderKeyType)
export class ProviderKeyFieldsResolver {
  @FieldResolver(() => [KeyUsageDay], {
    description: 'The last `days` UTC days (1 to 90) with activity, newest first.',
  })
  usage(
    @Ctx() context: KeysContext,
    @Root() key: ProviderKeyType,
    @Arg('days', () => Int, { defaultValue: 30, nullable: true }) days: number | null,
  ): Promise<KeyUsageDay[]> {
    return context.services.providerKeys.usage(key.id, days ?? 30);
  }
}
