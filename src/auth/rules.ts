import { rule } from 'graphql-shield';
import { forbidden, unauthenticated } from '../graphql/errors';
import { RequestContext } from '../graphql/context';
import { Role } from '../accounts/plan.enum';

// The permission rules. Each reads nothing but the request context, so `contextual` caching (one
// evaluation per request, whatever the parent) is safe. A rule answers with our own error, never
// shield's generic "Not Authorised!". isAuthenticated needs only the token; the database is asked
// about the membership only once the token is good.

type Check = (context: RequestContext) => Promise<true | Error>;

/**
 * Shield turns an exception inside a rule into a plain denial. A database that fails while loading the
 * membership is not a denial: the error is returned, so it is masked and logged as a server error.
 */
const contextRule = (check: Check) =>
  rule({ cache: 'contextual' })(async (_parent, _args, context: RequestContext) => {
    try {
      return await check(context);
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  });

export const isAuthenticated = contextRule(async (context) =>
  (await context.auth.verifiedToken()).status === 'verified' ? true : unauthenticated(),
);

export const isMember = contextRule(async (context) => {
  const identity = await context.auth.identity();
  if (identity.status !== 'member') return forbidden('You are not a member of this account.');
  context.viewer = identity.viewer;
  return true;
});

export const isAdmin = contextRule(async (context) => {
  const identity = await context.auth.identity();
  return identity.status === 'member' && identity.viewer.role === Role.ADMIN ? true : forbidden('Only an account admin may do this.');
});
