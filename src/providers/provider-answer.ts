import { KeyHealth } from './key-health.enum';
import type { DeepVerdict, ProviderAdapter } from './provider-adapter';

// Reading provider answers without trusting them: bodies are untyped JSON from a third party (or from
// whatever a customer's endpoint points at), so every field is looked up defensively. Nothing read
// here is ever returned to a client except model ids compared against our own catalog.

/** The value at a path of object keys, or undefined when any step is missing or not an object. */
export function valueAt(body: unknown, ...path: string[]): unknown {
  let current = body;
  for (const key of path) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

export function stringAt(body: unknown, ...path: string[]): string | undefined {
  const value = valueAt(body, ...path);
  return typeof value === 'string' ? value : undefined;
}

/** The string `field` of every object in the array at `path`; undefined when there is no array. */
export function stringsIn(body: unknown, path: string[], field: string): string[] | undefined {
  const list = valueAt(body, ...path);
  if (!Array.isArray(list)) return undefined;
  return list.map((item) => stringAt(item, field)).filter((value): value is string => value !== undefined);
}

/**
 * The providers.md table for a status whose body named nothing more specific. A body we could not
 * parse means something other than the provider's API answered (a proxy, a captive portal), so its
 * status is not trusted to judge the key; 429 and 5xx mean the same whoever sends them.
 */
export function healthFromStatus(status: number, body: unknown): KeyHealth {
  if (status === 429) return KeyHealth.RATE_LIMITED;
  if (body === undefined || status >= 500) return KeyHealth.PROVIDER_ERROR;
  if (status === 401) return KeyHealth.INVALID_KEY;
  if (status === 403) return KeyHealth.INSUFFICIENT_PERMISSIONS;
  return KeyHealth.PROVIDER_ERROR;
}

/** Joins a configured base URL and a path; operators may write the base with a trailing slash. */
export function joinUrl(base: string, path: string, query: Record<string, string | undefined> = {}): string {
  const url = new URL(base.replace(/\/+$/, '') + path);
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) url.searchParams.set(name, value);
  }
  return url.toString();
}

/** The words of a billed request, the same for every provider: nothing of the customer's in them. */
export const PING = [{ role: 'user', content: 'ping' }] as const;

/**
 * How a deep test's answer reads where a provider says nothing more specific: a 404 for the model asked
 * for means the key cannot use it (providers.md); everything else reads like a model-list answer.
 */
export function deepVerdictFrom(
  status: number,
  body: unknown,
  adapter: Pick<ProviderAdapter, 'classifyError'>,
): DeepVerdict {
  if (status === 404 && body !== undefined) return { health: KeyHealth.VALID, modelMissing: true };
  return { health: adapter.classifyError(status, body) };
}
