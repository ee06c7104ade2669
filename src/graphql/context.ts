import { Logger } from 'pino';
import { IdentityLoader, Viewer } from '../auth/viewer';
import { Services } from './services';

export interface RequestContext {
  auth: IdentityLoader;
  /** Set by the member and admin rules once the membership is loaded. */
  viewer?: Viewer;
  services: Services;
  log: Logger;
}

/** The viewer of a request that passed the permission rules; resolvers behind `member` or `admin` may rely on it. */
export function viewerOf(context: RequestContext): Viewer {
  if (!context.viewer) throw new Error('viewerOf called on a request without a member');
  return context.viewer;
}
