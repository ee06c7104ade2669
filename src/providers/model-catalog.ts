import { AiProvider } from './ai-provider.enum';
import { adapterFor } from './adapters';

// What a key must be able to reach: the models its adapter names for the platform's tasks. Changing a
// model in an adapter changes what a key must be able to use.

/** The distinct models a key for this provider must be able to use, in task order. */
export function requiredModels(provider: AiProvider): string[] {
  return [...new Set(Object.values(adapterFor(provider).models))];
}

// A provider may list a model only under a dated or versioned snapshot id (Anthropic lists
// claude-sonnet-4-5-20250929, Azure gpt-4.1-2025-04-14, Gemini gemini-1.5-flash-001). Such a
// snapshot proves access to the model; any other suffix names a different model (gpt-4.1-mini is
// not gpt-4.1, o4-mini-deep-research is not o4-mini, a -preview-… is not the stable model).
const SNAPSHOT_SUFFIX = /^-(\d{4}-\d{2}-\d{2}|\d{8}|\d{3,4})$/;

function offers(listedIds: ReadonlySet<string>, model: string): boolean {
  if (listedIds.has(model)) return true;
  for (const id of listedIds) {
    if (id.startsWith(model) && SNAPSHOT_SUFFIX.test(id.slice(model.length))) return true;
  }
  return false;
}

/** The required models of the provider that the listed ids do not cover (see SNAPSHOT_SUFFIX). */
export function missingModels(provider: AiProvider, listedIds: Iterable<string>): string[] {
  const listed = new Set(listedIds);
  return requiredModels(provider).filter((model) => !offers(listed, model));
}
