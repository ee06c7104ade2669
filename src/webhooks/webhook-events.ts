import type { EntityManager } from 'typeorm';
import type { AiProvider } from '../providers/ai-provider.enum';
import type { KeyHealth } from '../providers/key-health.enum';

// What the service tells the platform, in one place: every event type of the contract ("Webhooks")
// and the body each carries. A capability that reports a change calls a PublishWebhook inside the
// transaction of that change (the composition root hands it one), so the event exists exactly when the
// change does; the dispatcher delivers it later. Adding a type is adding it to the list below.

export const WEBHOOK_EVENT_TYPES = [
  'provider_key.added',
  'provider_key.rotated',
  'provider_key.removed',
  'provider_key.health_changed',
  'provider_key.expiring',
  'provider_key.expired',
  'ai_route.unavailable',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/**
 * The body's `data`. Every field is present in every event (null where it does not apply), so a
 * receiver reads one shape; a type may add its own fields. Never key material beyond the masked form.
 */
export interface WebhookData {
  accountId: string;
  provider: AiProvider | null;
  keyId: string | null;
  /** "****" and the key's last four characters. */
  maskedKey: string | null;
  health: KeyHealth | null;
  previousHealth: KeyHealth | null;
  /** A user id, "service:<name>" or "monitor". */
  actorId: string;
  [field: string]: string | number | boolean | null;
}

/** The JSON body POSTed for one event: the same bytes on every retry (it is what the signature covers). */
export interface WebhookBody {
  type: WebhookEventType;
  /** When the change happened (ISO 8601). */
  timestamp: string;
  data: WebhookData;
}

/** Records an event in the transaction `manager` runs; it is delivered once that transaction commits. */
export type PublishWebhook = (
  manager: EntityManager,
  type: WebhookEventType,
  data: WebhookData,
) => Promise<void>;

/** What a capability is handed when WEBHOOK_URL is not set: no outbox rows that nobody would deliver. */
export const NO_WEBHOOKS: PublishWebhook = () => Promise.resolve();

/**
 * Runs `change` inside the transaction `manager` runs, and records `ai_route.unavailable` when the
 * account's AI tasks had a route before it and have none after (keys stored, none usable, built-in
 * fallback off): once per transition, whatever the number of requests that meet it later. `before` is
 * the time the earlier state is judged at (an expiry: just before it); the change is judged at now.
 * The composition root builds it from routing's rule; capabilities that change keys or settings call it.
 */
export type RouteGuard = <T>(
  manager: EntityManager,
  accountId: string,
  actorId: string,
  change: () => Promise<T>,
  before?: Date,
) => Promise<T>;

/** No webhooks: nobody to tell, so nothing to read. */
export const NO_ROUTE_GUARD: RouteGuard = (_manager, _accountId, _actorId, change) => change();
