import { registerEnumType } from 'type-graphql';

// The enums every capability shares. Values equal their names: they are stored in the database as such.

export enum AiProvider {
  OPENAI = 'OPENAI',
  ANTHROPIC = 'ANTHROPIC',
  GOOGLE_GEMINI = 'GOOGLE_GEMINI',
  AZURE_OPENAI = 'AZURE_OPENAI',
  MISTRAL = 'MISTRAL',
}

export enum AiTask {
  INTERVIEW_CONVERSATION = 'INTERVIEW_CONVERSATION',
  ANALYSIS = 'ANALYSIS',
  INSIGHT_GENERATION = 'INSIGHT_GENERATION',
}

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

/** The routing order of the contract: the first provider with a usable key wins. */
export const PROVIDER_ORDER: readonly AiProvider[] = [
  AiProvider.OPENAI,
  AiProvider.ANTHROPIC,
  AiProvider.GOOGLE_GEMINI,
  AiProvider.AZURE_OPENAI,
  AiProvider.MISTRAL,
];

registerEnumType(AiProvider, { name: 'AiProvider' });
registerEnumType(AiTask, { name: 'AiTask' });
registerEnumType(KeyHealth, { name: 'KeyHealth' });
