import { Field, ID, ObjectType } from 'type-graphql';
import { BillingMode } from '../accounts/billing-mode.enum';
import { Plan } from '../accounts/plan.enum';
import { AiProvider } from '../providers/ai-provider.enum';
import { AiTask } from '../providers/ai-task.enum';
import { KeyHealth } from '../providers/key-health.enum';
import { RouteStatus } from './route-status.enum';
import { ProviderKeyType } from '../provider-keys/provider-key.type';

@ObjectType('ProviderOption', { simpleResolvers: true, description: 'One entry of the provider dropdown.' })
export class ProviderOption {
  @Field(() => ID, { description: 'Stable per provider (its name), so that clients normalize.' })
  id: string;

  @Field(() => AiProvider)
  provider: AiProvider;

  @Field(() => String)
  displayName: string;

  @Field(() => String)
  keyHint: string;

  @Field(() => Boolean)
  requiresEndpoint: boolean;

  @Field(() => BillingMode, { description: 'For this account, now.' })
  billingMode: BillingMode;

  @Field(() => ProviderKeyType, {
    nullable: true,
    description: 'Null when no key is stored, and always for a member.',
  })
  key: ProviderKeyType | null;
}

/** The route of one task: what aiSettings shows, and what the credential resolver serves (with the key). */
@ObjectType('AiTaskRoute', { simpleResolvers: true })
export class AiTaskRoute {
  @Field(() => AiTask)
  task: AiTask;

  @Field(() => AiProvider)
  provider: AiProvider;

  @Field(() => String)
  model: string;

  @Field(() => BillingMode)
  billingMode: BillingMode;

  @Field(() => KeyHealth, { nullable: true })
  health: KeyHealth | null;

  @Field(() => RouteStatus, { description: 'Why the task is served this way.' })
  status: RouteStatus;

  @Field(() => ID, {
    nullable: true,
    description: 'The stored key that serves; null for BUILT_IN and UNAVAILABLE.',
  })
  keyId: string | null;

  @Field(() => String, {
    description: 'One sentence for the settings screen: why, and what to fix if anything.',
  })
  reason: string;
}

@ObjectType('TaskModel', {
  simpleResolvers: true,
  description: "The admin's model for one provider and task.",
})
export class TaskModel {
  @Field(() => AiProvider)
  provider: AiProvider;

  @Field(() => AiTask)
  task: AiTask;

  @Field(() => String)
  model: string;
}

@ObjectType('AiSettings', { simpleResolvers: true })
export class AiSettings {
  @Field(() => Plan)
  plan: Plan;

  @Field(() => Boolean)
  byokAvailable: boolean;

  @Field(() => [AiTaskRoute])
  routes: AiTaskRoute[];

  @Field(() => [AiProvider], { description: 'The order routing tries stored keys in.' })
  providerOrder: AiProvider[];

  @Field(() => Boolean, {
    description: 'May tasks run on the built-in allocation when no stored key is usable?',
  })
  builtInFallback: boolean;

  @Field(() => [TaskModel], {
    description: "The admin's model choices; tasks not listed use the catalog's model.",
  })
  taskModels: TaskModel[];
}
