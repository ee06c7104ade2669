import {
  defaultFieldResolver,
  graphql,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  isObjectType,
} from 'graphql';
import { applyMiddleware } from 'graphql-middleware';
import { buildBareSchema } from '../../src/app/schema';
import { PERMISSIONS, permissionMiddleware } from '../../src/auth/permissions';
import { buildAppSchema } from '../../src/app/schema';
import { RequestContext } from '../../src/graphql/context';
import { Plan } from '../../src/accounts/plan.enum';
import { Role } from '../../src/accounts/role.enum';

// The permission map is the one place access is decided: every root field must be named in it, and a
// field it does not name is denied with FORBIDDEN, not shield's internal "Not Authorised!".

const admin = {
  status: 'member',
  viewer: { userId: 'u', accountId: 'a', role: Role.ADMIN, plan: Plan.GROWTH },
} as const;
const adminContext = {
  auth: {
    verifiedToken: async () => ({ status: 'verified', claims: admin.viewer }),
    identity: async () => admin,
  },
} as unknown as RequestContext;

describe('permission map', () => {
  it('names every Query and Mutation field of the schema explicitly', async () => {
    const schema = await buildBareSchema();
    for (const root of [schema.getQueryType(), schema.getMutationType()]) {
      if (!root) continue;
      const rules = (PERMISSIONS as Record<string, unknown>)[root.name] as
        Record<string, unknown> | undefined;
      for (const field of Object.keys(root.getFields())) {
        expect({ field: `${root.name}.${field}`, hasRule: Boolean(rules?.[field]) }).toEqual({
          field: `${root.name}.${field}`,
          hasRule: true,
        });
      }
    }
  });

  it('allows every output type reachable from the roots, so no field is denied by accident', async () => {
    const schema = await buildBareSchema();
    const outputTypes = Object.values(schema.getTypeMap()).filter(
      (type) =>
        isObjectType(type) && !type.name.startsWith('__') && !['Query', 'Mutation'].includes(type.name),
    );
    for (const type of outputTypes)
      expect({ type: type.name, ruled: type.name in PERMISSIONS }).toEqual({ type: type.name, ruled: true });
  });

  it('denies, with FORBIDDEN, a field no rule names, even for an admin', async () => {
    const base = await buildBareSchema();
    const query = base.getQueryType()!;
    const extended = new GraphQLSchema({
      ...base.toConfig(),
      types: base.toConfig().types.filter((type) => type !== query),
      query: new GraphQLObjectType({
        ...query.toConfig(),
        fields: { ...query.toConfig().fields, unlisted: { type: GraphQLString, resolve: () => 'secret' } },
      }),
    });
    const result = await graphql({
      schema: applyMiddleware(extended, permissionMiddleware(extended)),
      source: '{ unlisted }',
      contextValue: { ...adminContext },
    });
    expect(result.data).toEqual({ unlisted: null });
    expect(result.errors?.[0].message).not.toMatch(/Not Authorised/i);
    expect(result.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });
});

describe('permission middleware', () => {
  it('guards the root and ruled fields, but leaves the leaves of allowed types synchronous', async () => {
    const schema = await buildAppSchema();
    const field = (type: string, name: string) =>
      (schema.getType(type) as GraphQLObjectType).getFields()[name];
    const anonymous = { auth: { verifiedToken: async () => ({ status: 'anonymous' }) } };
    const resolveOn = (type: string, name: string, parent: object, context: object) =>
      // A field without a resolver of its own is read by graphql-js's default resolver.
      (field(type, name).resolve ?? defaultFieldResolver)(parent, {}, context, {
        fieldName: name,
        parentType: schema.getType(type),
      } as never);
    // A leaf of an allowed type: a plain value, no awaited rule in front of it.
    expect(resolveOn('ProviderKey', 'maskedKey', { maskedKey: 'x9Qa' }, anonymous)).toBe('x9Qa');
    expect(resolveOn('ProviderOption', 'displayName', { displayName: 'OpenAI' }, anonymous)).toBe('OpenAI');
    // A ruled field: the rule runs first, and turns the anonymous caller away.
    expect(await resolveOn('Query', 'providerKeys', {}, anonymous)).toMatchObject({
      extensions: { code: 'UNAUTHENTICATED' },
    });
  });

  it('reads ProviderOption.key as null, without an error, for anyone but an admin, whatever the resolver hands it', async () => {
    const schema = await buildAppSchema();
    const key = (schema.getType('ProviderOption') as GraphQLObjectType).getFields().key;
    const read = (context: object) =>
      (key.resolve ?? defaultFieldResolver)({ key: { id: 'k1' } }, {}, context, {
        fieldName: 'key',
        parentType: schema.getType('ProviderOption'),
      } as never);
    expect(await read({ viewer: { ...admin.viewer, role: Role.MEMBER } })).toBeNull();
    expect(await read({ auth: { verifiedToken: async () => ({ status: 'anonymous' }) } })).toBeNull();
    expect(await read({ viewer: admin.viewer })).toEqual({ id: 'k1' });
  });
});
