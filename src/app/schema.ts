import 'reflect-metadata';
import { GraphQLSchema, printSchema } from 'graphql';
import { applyMiddleware } from 'graphql-middleware';
import { GraphQLDateTime } from 'graphql-scalars';
import { buildSchema } from 'type-graphql';
import { MeResolver } from '../auth/me.resolver';
import { permissionMiddleware } from '../auth/permissions';
import { ProviderKeyFieldsResolver, ProviderKeyResolver } from '../provider-keys/provider-key.resolver';
import { AiSettingsResolver } from '../routing/ai-settings.resolver';

// The schema as type-graphql builds it from every capability's resolvers, and the same schema behind the
// permission map.
// Output types are declared with `simpleResolvers: true`: this schema has no type-graphql middlewares or
// auth checker (access is the permission map's job), so their fields are read as plain properties
// instead of each going through type-graphql's middleware runner.

export const RESOLVERS = [
  MeResolver,
  AiSettingsResolver,
  ProviderKeyResolver,
  ProviderKeyFieldsResolver,
] as const;

export function buildBareSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [...RESOLVERS],
    validate: { forbidUnknownValues: true, validationError: { target: false, value: false } },
    scalarsMap: [{ type: Date, scalar: GraphQLDateTime }],
  });
}

export async function buildAppSchema(): Promise<GraphQLSchema> {
  const schema = await buildBareSchema();
  return applyMiddleware(schema, permissionMiddleware(schema));
}

/** The SDL committed as schema/schema.graphql. */
export function printSdl(schema: GraphQLSchema): string {
  return `${printSchema(schema)}\n`;
}
