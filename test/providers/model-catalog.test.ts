import { AiProvider } from '../../src/providers/ai-provider.enum';
import { AiTask } from '../../src/providers/ai-task.enum';
import { adapterFor, PROVIDER_ADAPTERS } from '../../src/providers/adapters';
import { missingModels, requiredModels } from '../../src/providers/model-catalog';

describe('model catalog', () => {
  it('has one adapter per provider, each describing itself with a model for every task', () => {
    expect(PROVIDER_ADAPTERS.map((adapter) => adapter.provider)).toEqual(Object.values(AiProvider));
    for (const provider of Object.values(AiProvider)) {
      const entry = adapterFor(provider);
      expect(entry.displayName).toBeTruthy();
      expect(entry.keyHint).toBeTruthy();
      // Only Azure has no API of its own: each key names its resource endpoint.
      expect(entry.api === undefined).toBe(provider === AiProvider.AZURE_OPENAI);
      if (entry.api)
        expect(entry.api).toEqual({
          baseUrl: expect.stringMatching(/^https:\/\//),
          env: expect.stringMatching(/^[A-Z]+_BASE_URL$/),
        });
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
    expect(missingModels(AiProvider.ANTHROPIC, ['claude-sonnet-4-5-20250929', 'claude-haiku-4-5'])).toEqual(
      [],
    );
    expect(
      missingModels(AiProvider.OPENAI, [
        'gpt-4.1-2025-04-14',
        'gpt-4.1-mini-2025-04-14',
        'o4-mini-2025-04-16',
      ]),
    ).toEqual([]);
    expect(missingModels(AiProvider.GOOGLE_GEMINI, ['gemini-2.5-pro-001', 'gemini-2.5-flash'])).toEqual([]);
  });

  it('does not take another model, a preview or a fine-tune for the one needed', () => {
    expect(missingModels(AiProvider.OPENAI, ['gpt-4.1-mini', 'o4-mini-deep-research', 'gpt-4.1o'])).toEqual([
      'gpt-4.1',
      'o4-mini',
    ]);
    expect(
      missingModels(AiProvider.GOOGLE_GEMINI, ['gemini-2.5-pro-preview-06-05', 'gemini-2.5-flash-lite']),
    ).toEqual(['gemini-2.5-flash', 'gemini-2.5-pro']);
    expect(missingModels(AiProvider.AZURE_OPENAI, ['gpt-4.1-2025-04-14.ft-0123abcd'])).toEqual(['gpt-4.1']);
    expect(missingModels(AiProvider.MISTRAL, [])).toEqual(['mistral-large-latest', 'mistral-small-latest']);
  });
});
