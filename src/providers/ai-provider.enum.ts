import { registerEnumType } from 'type-graphql';

// The providers a customer can bring a key for. Values equal their names: they are stored as such.
// Adding one: a value here, its adapter (see openai.adapter.ts) and its place in providers.ts.

export enum AiProvider {
  OPENAI = 'OPENAI',
  ANTHROPIC = 'ANTHROPIC',
  GOOGLE_GEMINI = 'GOOGLE_GEMINI',
  AZURE_OPENAI = 'AZURE_OPENAI',
  MISTRAL = 'MISTRAL',
}

registerEnumType(AiProvider, { name: 'AiProvider' });
