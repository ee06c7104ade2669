import { graphql, GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import { MaskedKeyScalar } from '../../src/graphql/masked-key.scalar';

// The last line of defence: whatever a resolver hands the MaskedKey scalar, only "****" and the last
// four characters go out; and no client can send one in.

const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: 'Query',
    fields: {
      leaked: { type: MaskedKeyScalar, resolve: () => 'sk-proj-THE-WHOLE-KEY-BY-MISTAKE-x9Qa' },
      echo: { type: GraphQLString, args: { key: { type: MaskedKeyScalar } }, resolve: () => 'accepted' },
    },
  }),
});

describe('MaskedKey', () => {
  it('masks a whole key a resolver passed by mistake', async () => {
    expect(await graphql({ schema, source: '{ leaked }' })).toEqual({ data: { leaked: '****x9Qa' } });
  });

  it('refuses to be used as input, literal or variable', async () => {
    const literal = await graphql({ schema, source: '{ echo(key: "sk-abc") }' });
    expect(literal.errors?.[0].message).toMatch(/MaskedKey is output only/);
    const variable = await graphql({
      schema,
      source: 'query($k: MaskedKey) { echo(key: $k) }',
      variableValues: { k: 'sk-abc' },
    });
    expect(variable.errors?.[0].message).toMatch(/MaskedKey is output only/);
    expect(variable.data).toBeUndefined();
  });

  it('refuses what is not a key-like string rather than printing it', async () => {
    expect(() => MaskedKeyScalar.serialize(12345)).toThrow('MaskedKey cannot represent this value');
    expect(() => MaskedKeyScalar.serialize('abc')).toThrow('MaskedKey cannot represent this value');
  });
});
