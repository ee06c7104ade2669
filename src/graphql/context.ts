import { Logger } from 'pino';

/**
 * What every request's context holds. Capabilities extend it with what they read (auth/viewer.ts: the
 * identity; each resolver names the services it calls); the composition root (app/) builds the whole.
 */
export interface RequestContext {
  log: Logger;
  /** Whose request it is, once auth knows: the kernel only logs the account. */
  viewer?: { accountId: string };
}
