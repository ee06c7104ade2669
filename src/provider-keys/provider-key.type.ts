import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { BillingMode, billingModeFor } from '../accounts/billing-mode.enum';
import { Plan, planAllowsByok } from '../accounts/plan.enum';
import { badUserInput } from '../graphql/errors';
import { MaskedKeyScalar } from '../graphql/masked-key.scalar';
import { AiProvider } from '../providers/ai-provider.enum';
import { ConnectionTestResult } from '../providers/connection-tester';
import { KeyHealth } from '../providers/key-health.enum';
import { PublicProviderKey } from './provider-key.entity';
import { ProviderKeyAction, ProviderKeyEvent } from './provider-key-event.entity';

// What clients see of stored keys, tests and the audit trail. Built from the entities by the functions
// below, which copy only these fields: ciphertext and wrapped keys have no path into a response.

registerEnumType(ProviderKeyAction, { name: 'ProviderKeyAction' });

@ObjectType('ProviderKey', { simpleResolvers: true })
export class ProviderKeyType {
  @Field(() => ID)
  id: string;

  @Field(() => AiProvider)
  provider: AiProvider;

  @Field(() => MaskedKeyScalar)
  maskedKey: string;

  @Field(() => String, { nullable: true })
  label: string | null;

  @Field(() => String, { nullable: true, description: 'AZURE_OPENAI only.' })
  endpoint: string | null;

  @Field(() => String, { nullable: true, description: 'AZURE_OPENAI only.' })
  deployment: string | null;

  @Field(() => KeyHealth)
  health: KeyHealth;

  @Field(() => Date, { nullable: true })
  lastTestedAt: Date | null;

  @Field(() => String, { nullable: true })
  lastTestMessage: string | null;

  @Field(() => BillingMode, { description: 'BYOK while the plan allows BYOK, else BUILT_IN.' })
  billingMode: BillingMode;

  @Field(() => Int, { description: '1 when added, +1 on every rotation.' })
  version: number;

  @Field(() => Date)
  createdAt: Date;

  @Field(() => ID)
  createdBy: string;

  @Field(() => Date)
  updatedAt: Date;

  @Field(() => Date, {
    nullable: true,
    description: 'The last time a pipeline was handed this key (to the minute).',
  })
  lastUsedAt: Date | null;

  @Field(() => Date, {
    nullable: true,
    description: 'Set while routing skips the key after transient failures.',
  })
  coolingDownUntil: Date | null;

  @Field(() => Date, {
    nullable: true,
    description: 'Set by the admin: from then on routing skips the key.',
  })
  expiresAt: Date | null;

  @Field(() => Date, {
    nullable: true,
    description:
      'When the key monitor tests the key next (null when the monitor is off, or the plan is below GROWTH).',
  })
  nextCheckAt: Date | null;

  @Field(() => [String], {
    description:
      "The model ids the key's last passing test listed ([] before one): what updateAiSettings may choose from.",
  })
  availableModels: string[];
}

@ObjectType('KeyUsageDay', {
  simpleResolvers: true,
  description: "One UTC day of a key's use by the pipelines.",
})
export class KeyUsageDay {
  @Field(() => String, { description: 'YYYY-MM-DD (UTC).' })
  day: string;

  @Field(() => Int, { description: 'How often a pipeline was handed the key.' })
  resolves: number;

  @Field(() => Int, { description: 'How often a pipeline reported a failure of a call made with it.' })
  failures: number;
}

export function toProviderKeyType(key: PublicProviderKey, plan: Plan): ProviderKeyType {
  return {
    id: key.id,
    provider: key.provider,
    maskedKey: key.lastFour,
    label: key.label,
    endpoint: key.endpoint,
    deployment: key.deployment,
    health: key.health,
    lastTestedAt: key.lastTestedAt,
    lastTestMessage: key.lastTestMessage,
    billingMode: billingModeFor(plan),
    version: key.version,
    createdAt: key.createdAt,
    createdBy: key.createdBy,
    updatedAt: key.updatedAt,
    lastUsedAt: key.lastUsedAt,
    coolingDownUntil: key.coolingDownUntil,
    expiresAt: key.expiresAt,
    // Keys below GROWTH are kept but never tested.
    nextCheckAt: planAllowsByok(plan) ? key.nextCheckAt : null,
    availableModels: key.availableModels ?? [],
  };
}

@ObjectType('ConnectionTest', { simpleResolvers: true })
export class ConnectionTestType implements Omit<ConnectionTestResult, 'listedModels'> {
  @Field(() => AiProvider)
  provider: AiProvider;

  @Field(() => Boolean, { description: 'True only for VALID with no missing models.' })
  ok: boolean;

  @Field(() => KeyHealth)
  health: KeyHealth;

  @Field(() => String, { description: "Actionable, written by us, never the provider's raw text." })
  message: string;

  @Field(() => [String], { description: 'Models the platform needs that this key cannot use.' })
  missingModels: string[];

  @Field(() => Int)
  latencyMs: number;

  @Field(() => Date)
  testedAt: Date;

  @Field(() => Boolean, {
    description: 'Whether billed minimal requests were made too (deep: true, after a passing model list).',
  })
  deep: boolean;

  @Field(() => ProviderKeyType, {
    nullable: true,
    description:
      "The stored key after a test of the stored key, so a client's cache shows its new health; null for a candidate.",
  })
  key: ProviderKeyType | null;
}

/** What a client sees of a test: the listed models are stored (availableModels), not answered. */
export function toConnectionTest(
  result: ConnectionTestResult,
  key: ProviderKeyType | null,
): ConnectionTestType {
  const { listedModels: _stored, ...shown } = result;
  return { ...shown, key };
}

@ObjectType('RemoveProviderKeyPayload', { simpleResolvers: true })
export class RemoveProviderKeyPayload {
  @Field(() => ID, { description: "The removed key's id, for a client's cache." })
  id: string;

  @Field(() => AiProvider)
  provider: AiProvider;

  @Field(() => BillingMode, { description: 'BUILT_IN after removal.' })
  billingMode: BillingMode;
}

@ObjectType('ProviderKeyEvent', { simpleResolvers: true })
export class ProviderKeyEventType {
  @Field(() => ID)
  id: string;

  @Field(() => AiProvider)
  provider: AiProvider;

  @Field(() => ProviderKeyAction)
  action: ProviderKeyAction;

  @Field(() => ID)
  actorId: string;

  @Field(() => MaskedKeyScalar, { nullable: true })
  maskedKey: string | null;

  @Field(() => KeyHealth, { nullable: true })
  health: KeyHealth | null;

  @Field(() => KeyHealth, { nullable: true, description: 'HEALTH_CHANGED: the health before.' })
  previousHealth: KeyHealth | null;

  @Field(() => Date)
  at: Date;
}

export function toProviderKeyEventType(event: ProviderKeyEvent): ProviderKeyEventType {
  return {
    id: String(event.id),
    provider: event.provider,
    action: event.action,
    actorId: event.actorId,
    maskedKey: event.lastFour,
    health: event.health,
    previousHealth: event.previousHealth,
    at: event.at,
  };
}

/**
 * One page of the audit trail from `first + 1` rows read (the extra one says a next page exists).
 * Forward-only paging: the events newer than the page are the cursor's own and any after it.
 */
export function toEventConnection(
  rows: ProviderKeyEvent[],
  first: number,
  hasNewer: boolean,
): ProviderKeyEventConnection {
  const edges = rows
    .slice(0, first)
    .map((event) => ({ cursor: encodeCursor(event.id), node: toProviderKeyEventType(event) }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > first,
      endCursor: edges.at(-1)?.cursor ?? null,
      hasPreviousPage: hasNewer,
      startCursor: edges[0]?.cursor ?? null,
    },
  };
}

/** Cursors name an event by its id; opaque to clients. */
export const encodeCursor = (id: number): string => Buffer.from(`event:${id}`).toString('base64url');

export function decodeCursor(cursor: string): number {
  const match = /^event:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match)
    throw badUserInput(
      'after is not a cursor this API returned: pass the endCursor of the previous page.',
      'after',
    );
  return Number(match[1]);
}

@ObjectType('PageInfo', { simpleResolvers: true })
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage: boolean;

  @Field(() => String, { nullable: true })
  endCursor: string | null;

  @Field(() => Boolean, {
    description: 'Forward-only paging: true when `after` was given and newer events exist.',
  })
  hasPreviousPage: boolean;

  @Field(() => String, { nullable: true, description: "The first edge's cursor." })
  startCursor: string | null;
}

@ObjectType('ProviderKeyEventEdge', { simpleResolvers: true })
export class ProviderKeyEventEdge {
  @Field(() => String)
  cursor: string;

  @Field(() => ProviderKeyEventType)
  node: ProviderKeyEventType;
}

@ObjectType('ProviderKeyEventConnection', { simpleResolvers: true })
export class ProviderKeyEventConnection {
  @Field(() => [ProviderKeyEventEdge])
  edges: ProviderKeyEventEdge[];

  @Field(() => PageInfo)
  pageInfo: PageInfo;
}
