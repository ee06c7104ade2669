import { GraphQLFieldResolver, GraphQLResolveInfo, GraphQLSchema } from 'graphql';
import { IMiddlewareTypeMap } from 'graphql-middleware';
import { allow, deny, IRules, shield } from 'graphql-shield';
import { Role } from '../accounts/role.enum';
import { forbidden } from '../graphql/errors';
import { admin, member } from './rules';
import { AuthContext } from './viewer';

// The one permission map. Anything not named here is denied (`fallbackRule: deny`). Root fields carry
// the access rules; output types are allowed as a whole because reaching them already passed a root rule,
// except the fields of ADMIN_OR_NULL below.

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
    updateProviderKey: admin,
    updateAiSettings: admin,
  },
  Viewer: allow,
  ProviderOption: allow, // but its `key`: ADMIN_OR_NULL
  AiSettings: allow,
  AiTaskRoute: allow,
  TaskModel: allow,
  ProviderKey: allow,
  ConnectionTest: allow,
  RemoveProviderKeyPayload: allow,
  ProviderKeyEvent: allow,
  ProviderKeyEventConnection: allow,
  ProviderKeyEventEdge: allow,
  PageInfo: allow,
  KeyUsageDay: allow,
} satisfies IRules;

/**
 * Fields that an admin reads and anyone else reads as null, without an error: a member's settings screen
 * may send the admin's query (contract, second version: `ProviderOption.key` is null for a member). A
 * shield rule can only deny with an error, so these fields get a guard of their own. The services leave
 * them null for members too; this guard is the second line, so a member never gets key details.
 */
export const ADMIN_OR_NULL: Readonly<Record<string, readonly string[]>> = { ProviderOption: ['key'] };

/** Reads the context only: the root rule (member or admin) that let the request this far set the viewer. */
function adminOrNull(
  resolve: GraphQLFieldResolver<unknown, AuthContext>,
  parent: unknown,
  args: Record<string, unknown>,
  context: AuthContext,
  info: GraphQLResolveInfo,
) {
  return context.viewer?.role === Role.ADMIN ? resolve(parent, args, context, info) : null;
}

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
  for (const [typeName, fields] of Object.entries(ADMIN_OR_NULL)) {
    generated[typeName] = {
      ...generated[typeName],
      ...Object.fromEntries(fields.map((field) => [field, adminOrNull])),
    };
  }
  return generated as IMiddlewareTypeMap;
}
