import { AiProvider } from './ai-provider.enum';
import { adapterFor } from './adapters';
import { KeyHealth } from './key-health.enum';

// The sentence a customer reads after a test. Always ours: provider texts echo keys and speak in
// terms the customer cannot act on. One sentence per health saying what to do next; an adapter gives
// its own advice only where the fix differs (where to grant a permission, what an endpoint is).

type Phrase = (name: string) => string;

const GENERIC: Readonly<Record<KeyHealth, Phrase>> = {
  [KeyHealth.UNTESTED]: () => 'This key has not been tested yet.',
  [KeyHealth.VALID]: (name) => `${name} accepted this key, and it can use every model the platform needs.`,
  [KeyHealth.INVALID_KEY]: (name) =>
    `${name} rejected this key: check that you copied the whole key, including its prefix, and that it has not been revoked.`,
  [KeyHealth.INSUFFICIENT_PERMISSIONS]: (name) =>
    `${name} accepted this key but denied it access: check the permissions of the key and its workspace in the ${name} console.`,
  [KeyHealth.QUOTA_EXCEEDED]: (name) =>
    `The ${name} account behind this key has run out of credit or quota: add credit or raise its limit, then test again.`,
  [KeyHealth.RATE_LIMITED]: (name) =>
    `${name} is rate-limiting this key right now, so the test could not finish: wait a minute and test again.`,
  [KeyHealth.PROVIDER_UNREACHABLE]: (name) =>
    `We could not reach ${name}: try again in a minute, and check the provider's status page if it keeps failing.`,
  [KeyHealth.PROVIDER_ERROR]: (name) =>
    `${name} answered with an error we could not interpret: try again in a few minutes; the key itself may be fine.`,
};

/** missing lists catalog model ids (never provider text); it matters only for VALID. */
export function healthMessage(
  provider: AiProvider,
  health: KeyHealth,
  missing: readonly string[] = [],
): string {
  const adapter = adapterFor(provider);
  if (health === KeyHealth.VALID && missing.length > 0) {
    return `${adapter.displayName} accepted this key, but it cannot use ${missing.join(', ')}, which the platform needs: ${adapter.enableModels}, then test again.`;
  }
  return adapter.healthAdvice?.[health] ?? GENERIC[health](adapter.displayName);
}
