import { allow, chain, deny, IRules, shield } from 'graphql-shield';
import { forbidden } from '../graphql/errors';
import { isAdmin, isAuthenticated, isMember } from './rules';

// The one permission map. Anything not named here is denied (`fallbackRule: deny`). Root fields carry
// the access rules; output types are allowed as a whole because reaching them already passed a root rule.

export const member = chain(isAuthenticated, isMember);
export const admin = chain(isAuthenticated, isMember, isAdmin);

export const PERMISSIONS = {
  Query: {
    me: member,
    aiProviders: member,
    aiSettings: member,
    providerKeys: admin,
    providerKeyEvents: admin,
  },
  Mutation: {
    addProviderKey: admin,
    testProviderKey: admin,
    rotateProviderKey: admin,
    removeProviderKey: admin,
  },
  Viewer: allow,
  ProviderOption: { '*': allow, key: admin },
  AiSettings: allow,
  AiTaskRoute: allow,
  ProviderKey: allow,
  ConnectionTest: allow,
  RemoveProviderKeyPayload: allow,
  ProviderKeyEvent: allow,
  ProviderKeyEventConnection: allow,
  ProviderKeyEventEdge: allow,
  PageInfo: allow,
} satisfies IRules;

export const permissions = shield(PERMISSIONS, {
  fallbackRule: deny,
  fallbackError: () => forbidden(),
  // Errors thrown by resolvers are ours (AppError) or masked by formatError; shield must pass them on.
  allowExternalErrors: true,
  debug: false,
});
