import { GraphQLError, GraphQLScalarType } from 'graphql';

// Output only. Whatever a resolver hands it, the client gets "****" and the last four characters: even a
// resolver that passed a whole key by mistake could not print it. Clients can never send one.

export const MASK = '****';

export const MaskedKeyScalar = new GraphQLScalarType({
  name: 'MaskedKey',
  description: 'Output only: "****" followed by the key\'s last four characters, e.g. "****x9Qa".',
  serialize(value: unknown): string {
    if (typeof value !== 'string' || value.length < 4)
      throw new GraphQLError('MaskedKey cannot represent this value');
    return `${MASK}${value.slice(-4)}`;
  },
  parseValue(): never {
    throw new GraphQLError('MaskedKey is output only');
  },
  parseLiteral(): never {
    throw new GraphQLError('MaskedKey is output only');
  },
});
