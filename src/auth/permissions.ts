import { GraphQLSchema } from 'graphql';
import { IMiddlewareTypeMap } from 'graphql-middleware';
import { allow, deny, IRules, shield } from 'graphql-shield';
import { forbidden } from '../graphql/errors';
import { admin, member } from './rules';

// The one permission map. Anything not named here is denied (`fallbackRule: deny`). Root fields carry
// the access rules; output types are allowed as a whole because reaching them already passed a root rule.

/** Whether a rule turns away a request without a valid token (lets unauthenticated.plugin.ts answer early). */
export const requiresAuthentication = (rule: unknown): boolean => rule === member || rule === admin;

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

/**
 * Shield's middleware for the schema, minus the fields whose rule is `allow`. Shield would wrap those
 * too, turning every leaf of every result into an awaited rule that always says yes (graphql-shield
 * #416, #812: 2–8× slower responses). Dropping them changes no decision: fields the map does not name
 * keep the `deny` fallback, and every root field keeps its rule.
 */
export function permissionMiddleware(schema: GraphQLSchema): IMiddlewareTypeMap {
  const generated = permissions.generate(schema) as Record<string, Record<string, unknown>>;
  for (const [typeName, rules] of Object.entries(PERMISSIONS) as [string, unknown][]) {
    if (rules === allow) {
      delete generated[typeName];
      continue;
    }
    const fieldRules = rules as Record<string, unknown>;
    for (const field of Object.keys(generated[typeName] ?? {})) {
      if ((fieldRules[field] ?? fieldRules['*']) === allow) delete generated[typeName][field];
    }
  }
  return generated as IMiddlewareTypeMap;
}
