import { rule } from 'graphql-shield';
import { Role } from '../accounts/role.enum';
import { forbidden, unauthenticated } from '../graphql/errors';
import { AuthContext } from './viewer';

// The permission rules. Each reads nothing but the request context, so `contextual` caching (one
// evaluation per request, whatever the parent) is safe. A rule answers with our own error, never
// shield's generic "Not Authorised!". One rule per level, each checking the token first: the database
// is asked about the membership only once the token is good, and one rule costs one evaluation.

type Check = (context: AuthContext) => Promise<true | Error>;

/**
 * Shield turns an exception inside a rule into a plain denial. A database that fails while loading the
 * membership is not a denial: the error is returned, so it is masked and logged as a server error.
 */
const contextRule = (check: Check) =>
  rule({ cache: 'contextual' })(async (_parent, _args, context: AuthContext) => {
    try {
      return await check(context);
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  });

/** A valid token (no database), then a membership in the token's account (one query per request). */
async function checkMember(context: AuthContext): Promise<true | Error> {
  if ((await context.auth.verifiedToken()).status !== 'verified') return unauthenticated();
  const identity = await context.auth.identity();
  if (identity.status !== 'member') return forbidden('You are not a member of this account.');
  context.viewer = identity.viewer;
  return true;
}

/** Any member of the account. */
export const member = contextRule(checkMember);

/** An admin of the account. */
export const admin = contextRule(async (context) => {
  const check = await checkMember(context);
  if (check !== true) return check;
  return context.viewer?.role === Role.ADMIN ? true : forbidden('Only an account admin may do this.');
});
