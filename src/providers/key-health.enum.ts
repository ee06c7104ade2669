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
