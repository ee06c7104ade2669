import { AiProvider, AiTask } from '../../src/providers/ai-provider.enum';
import { MODEL_CATALOG, missingModels, requiredModels } from '../../src/providers/model-catalog';

describe('model catalog', () => {
  it('describes every provider with a model for every task', () => {
    for (const provider of Object.values(AiProvider)) {
      const entry = MODEL_CATALOG[provider];
      expect(entry.displayName).toBeTruthy();
      expect(entry.keyHint).toBeTruthy();
      expect(entry.requiresEndpoint).toBe(provider === AiProvider.AZURE_OPENAI);
      for (const task of Object.values(AiTask)) expect(entry.models[task]).toMatch(/^[a-z0-9][a-z0-9.-]+$/);
    }
  });

  it('lists each required model once', () => {
    expect(requiredModels(AiProvider.OPENAI)).toEqual(['gpt-4.1', 'gpt-4.1-mini', 'o4-mini']);
    expect(requiredModels(AiProvider.ANTHROPIC)).toEqual(['claude-sonnet-4-5', 'claude-haiku-4-5']);
    for (const provider of Object.values(AiProvider)) {
      const models = requiredModels(provider);
      expect(new Set(models).size).toBe(models.length);
    }
  });

  it('accepts an exact id or a dated/versioned snapshot of it', () => {
    expect(missingModels(AiProvider.ANTHROPIC, ['claude-sonnet-4-5-20250929', 'claude-haiku-4-5'])).toEqual([]);
    expect(missingModels(AiProvider.OPENAI, ['gpt-4.1-2025-04-14', 'gpt-4.1-mini-2025-04-14', 'o4-mini-2025-04-16'])).toEqual([]);
    expect(missingModels(AiProvider.GOOGLE_GEMINI, ['gemini-2.5-pro-001', 'gemini-2.5-flash'])).toEqual([]);
  });

  it('does not take another model, a preview or a fine-tune for the one needed', () => {
    expect(missingModels(AiProvider.OPENAI, ['gpt-4.1-mini', 'o4-mini-deep-research', 'gpt-4.1o'])).toEqual(['gpt-4.1', 'o4-mini']);
    expect(missingModels(AiProvider.GOOGLE_GEMINI, ['gemini-2.5-pro-preview-06-05', 'gemini-2.5-flash-lite'])).toEqual([
      'gemini-2.5-flash',
      'gemini-2.5-pro',
    ]);
    expect(missingModels(AiProvider.AZURE_OPENAI, ['gpt-4.1-2025-04-14.ft-0123abcd'])).toEqual(['gpt-4.1']);
    expect(missingModels(AiProvider.MISTRAL, [])).toEqual(['mistral-large-latest', 'mistral-small-latest']);
  });
});
