import type {
  AiTask,
  BillingMode,
  KeyHealth,
  Plan,
  ProviderKeyAction,
  Role,
  RouteStatus,
} from './generated/graphql';

// The words the page uses for the API's enum values. Records over the generated unions: a value the
// schema adds (a new health, an audit action) fails `npm run typecheck` until it has its words here.

export const HEALTH: Readonly<
  Record<KeyHealth, { label: string; tone: 'good' | 'neutral' | 'warn' | 'bad' }>
> = {
  VALID: { label: 'Valid', tone: 'good' },
  UNTESTED: { label: 'Not tested', tone: 'neutral' },
  RATE_LIMITED: { label: 'Rate limited', tone: 'warn' },
  PROVIDER_UNREACHABLE: { label: 'Provider unreachable', tone: 'warn' },
  PROVIDER_ERROR: { label: 'Provider error', tone: 'warn' },
  INVALID_KEY: { label: 'Invalid key', tone: 'bad' },
  INSUFFICIENT_PERMISSIONS: { label: 'Missing permissions', tone: 'bad' },
  QUOTA_EXCEEDED: { label: 'Out of quota', tone: 'bad' },
};

export const BILLING: Readonly<Record<BillingMode, string>> = {
  BYOK: 'Your own key (BYOK)',
  BUILT_IN: 'Built-in allocation',
};

export const TASKS: Readonly<Record<AiTask, string>> = {
  INTERVIEW_CONVERSATION: 'Interview conversation',
  ANALYSIS: 'Analysis',
  INSIGHT_GENERATION: 'Insight generation',
};

export const ACTIONS: Readonly<Record<ProviderKeyAction, string>> = {
  ADDED: 'Added',
  TESTED: 'Tested',
  ROTATED: 'Rotated',
  REMOVED: 'Removed',
  HEALTH_CHANGED: 'Health changed',
  UPDATED: 'Updated',
};

/** A route's status as a badge: what serves the task. "Paused" is the one that needs the admin. */
export const ROUTE_STATUS: Readonly<
  Record<RouteStatus, { label: string; tone: 'good' | 'neutral' | 'warn' | 'bad' }>
> = {
  BYOK_KEY: { label: 'Your first key', tone: 'good' },
  FALLBACK_KEY: { label: 'Fallback key', tone: 'warn' },
  BUILT_IN: { label: 'Platform', tone: 'neutral' },
  UNAVAILABLE: { label: 'Paused: no key can serve', tone: 'bad' },
};

export const PLANS: Readonly<Record<Plan, string>> = {
  STARTER: 'Starter',
  GROWTH: 'Growth',
  ENTERPRISE: 'Enterprise',
};

export const ROLES: Readonly<Record<Role, string>> = { ADMIN: 'Admin', MEMBER: 'Member' };

const TIME = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** A DateTime of the API (ISO 8601, UTC) in the reader's own locale and time zone. */
export const formatTime = (iso: string): string => TIME.format(new Date(iso));

/** Whether a DateTime of the API has passed (an expiry, the end of a cooldown). */
export const hasPassed = (iso: string | null | undefined, now = Date.now()): boolean =>
  iso != null && Date.parse(iso) <= now;
