import { ApolloServerPlugin, HeaderMap } from '@apollo/server';
import { getLocation, GraphQLFormattedError, isNonNullType, Kind, OperationTypeNode } from 'graphql';
import { unauthenticated } from '../graphql/errors';
import { AuthContext } from './viewer';
import { PERMISSIONS, requiresAuthentication } from './permissions';

// Requests without a valid token are the cheapest thing to send and the likeliest flood. When every root
// field of the operation requires authentication (as the permission map says), the answer is known
// before execution: the same UNAUTHENTICATED error per field that the rules would give, without running
// the executor, the rules or graphql-js's error machinery. Anything else (introspection, __typename,
// fragments at the root, a valid token) goes the ordinary way, through the rules.

export function unauthenticatedPlugin(): ApolloServerPlugin<AuthContext> {
  const { message, extensions } = unauthenticated();
  return {
    async requestDidStart() {
      return {
        async responseForOperation({ operation, contextValue, schema }) {
          if ((await contextValue.auth.verifiedToken()).status === 'verified') return null;
          const rules =
            operation.operation === OperationTypeNode.MUTATION
              ? PERMISSIONS.Mutation
              : operation.operation === OperationTypeNode.QUERY
                ? PERMISSIONS.Query
                : undefined;
          const rootFields = schema.getRootType(operation.operation)?.getFields();
          const fields = operation.selectionSet.selections;
          for (const selection of fields) {
            if (selection.kind !== Kind.FIELD) return null;
            const rule = rules?.[selection.name.value as keyof typeof rules];
            if (
              !rule ||
              !requiresAuthentication(rule) ||
              !isNonNullType(rootFields?.[selection.name.value]?.type)
            )
              return null;
          }
          // A non-null root field's denial nulls the whole result; like the executor (serial for
          // mutations, failing fast for queries), we report the first.
          const first = fields[0];
          if (!first || first.kind !== Kind.FIELD) return null;
          const error: GraphQLFormattedError = {
            message,
            locations: first.loc ? [getLocation(first.loc.source, first.loc.start)] : undefined,
            path: [(first.alias ?? first.name).value],
            extensions: { code: extensions.code },
          };
          return {
            http: { status: undefined, headers: new HeaderMap() },
            body: { kind: 'single', singleResult: { data: null, errors: [error] } },
          };
        },
      };
    },
  };
}
