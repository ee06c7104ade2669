import { Logger } from 'pino';
import { Identity, Viewer } from '../auth/viewer';
import { Services } from './services';

export interface RequestContext {
  identity: Identity;
  services: Services;
  log: Logger;
}

/** The viewer of a request that passed the permission rules; resolvers behind `isMember` may rely on it. */
export function viewerOf(context: RequestContext): Viewer {
  if (context.identity.status !== 'member') throw new Error('viewerOf called on a request without a member');
  return context.identity.viewer;
}
