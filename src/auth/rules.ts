import { rule } from 'graphql-shield';
import { forbidden, unauthenticated } from '../graphql/errors';
import { RequestContext } from '../graphql/context';
import { Role } from '../accounts/plan.enum';

// The permission rules. Each reads nothing but the request context, so `contextual` caching (one
// evaluation per request, whatever the parent) is safe. A rule answers with our own error, never
// shield's generic "Not Authorised!".

export const isAuthenticated = rule({ cache: 'contextual' })((_parent, _args, { identity }: RequestContext) =>
  identity.status === 'anonymous' || identity.status === 'invalid-token' ? unauthenticated() : true,
);

export const isMember = rule({ cache: 'contextual' })((_parent, _args, { identity }: RequestContext) =>
  identity.status === 'member' ? true : forbidden('You are not a member of this account.'),
);

export const isAdmin = rule({ cache: 'contextual' })((_parent, _args, { identity }: RequestContext) =>
  identity.status === 'member' && identity.viewer.role === Role.ADMIN
    ? true
    : forbidden('Only an account admin may do this.'),
);
