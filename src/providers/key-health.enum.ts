import { registerEnumType } from 'type-graphql';

// What a provider's answer says about a key (../shared/providers.md, "Classifying an answer").

export enum KeyHealth {
  UNTESTED = 'UNTESTED',
  VALID = 'VALID',
  INVALID_KEY = 'INVALID_KEY',
  INSUFFICIENT_PERMISSIONS = 'INSUFFICIENT_PERMISSIONS',
  QUOTA_EXCEEDED = 'QUOTA_EXCEEDED',
  RATE_LIMITED = 'RATE_LIMITED',
  PROVIDER_UNREACHABLE = 'PROVIDER_UNREACHABLE',
  PROVIDER_ERROR = 'PROVIDER_ERROR',
}

registerEnumType(KeyHealth, { name: 'KeyHealth' });

/**
 * The key itself cannot serve until someone acts (a new key, a permission, credit): routing skips it.
 * Every other health leaves a key usable: a rate limit or an outage passes, and UNTESTED is untested.
 */
const HARD_FAILURES: ReadonlySet<KeyHealth> = new Set([
  KeyHealth.INVALID_KEY,
  KeyHealth.INSUFFICIENT_PERMISSIONS,
  KeyHealth.QUOTA_EXCEEDED,
]);

export const isHardFailure = (health: KeyHealth): boolean => HARD_FAILURES.has(health);
