import { ApolloServerPlugin } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import {
  ASTVisitor,
  DocumentNode,
  FieldNode,
  GraphQLError,
  GraphQLSchema,
  Kind,
  OperationDefinitionNode,
  OperationTypeNode,
  TypeInfo,
  validate,
  ValidationContext,
  visit,
  visitWithTypeInfo,
} from 'graphql';
import { getVariableValues } from 'graphql/execution/values';
import { AppError, ErrorCode } from './errors';

// Document limits, checked while parsing and validating: a document over any of them is rejected
// before a resolver runs or the database is asked anything. The defaults leave ample room for the
// settings screens' operations (depth ≤ 5, no aliases, a few hundred tokens) and GraphiQL's schema query.

/** GRAPHQL_MAX_DEPTH, GRAPHQL_MAX_ALIASES, GRAPHQL_MAX_DIRECTIVES (tokens and cost are counted apart). */
export interface DocumentLimits {
  maxDepth: number;
  maxAliases: number;
  maxDirectives: number;
}

export function documentLimits(limits: DocumentLimits) {
  return new ApolloArmor({
    maxDepth: { n: limits.maxDepth, ignoreIntrospection: true, exposeLimits: true },
    maxAliases: { n: limits.maxAliases, exposeLimits: true },
    // Tokens are counted by graphql-js's own parser (parseOptions.maxTokens below): armor's plugin would
    // parse every document a second time and report plain syntax errors as validation failures.
    maxTokens: { enabled: false },
    maxDirectives: { n: limits.maxDirectives, exposeLimits: true },
    // The cost is checked once the variables are known (costLimitPlugin below).
    costLimit: { enabled: false },
    // Armor hides only field suggestions; the error formatter hides every kind (format-error.ts).
    blockFieldSuggestion: { enabled: false },
  }).protect();
}

/**
 * This API has no subscriptions. graphql-js would only find that out while executing ("Schema is not
 * configured to execute subscription operation"), an error without a code, so a client's mistake would
 * read as a server fault; as a validation error it is refused with the rest of the document checks.
 */
export const noSubscriptions = (context: ValidationContext): ASTVisitor => ({
  OperationDefinition(node) {
    if (node.operation === OperationTypeNode.SUBSCRIPTION) {
      context.reportError(
        new GraphQLError('This API has no subscriptions: send a query or a mutation.', { nodes: node }),
      );
    }
  },
});

/** A document over the token limit fails in the parser; to a client it is a rejected document like the others. */
export const TOKEN_LIMIT_MESSAGE = /^Syntax Error: Document contains more tha[nt] (\d+) tokens/; // graphql 16 says "that"

/** The largest page any connection of the schema serves. */
export const MAX_PAGE_SIZE = 100;

const PAGE_ARGUMENTS = new Set(['first', 'last']);

/**
 * Armor's cost estimate multiplies a list by its `first`/`last` argument only when that is written in
 * the document: `first: $n` or an omitted `first` would count as a page of one, so 15 aliases of
 * `providerKeyEvents(first: $f)` with f = 100 passed where `first: 100` is refused. Here every page
 * argument is written in as the number the resolver will get (the variable's value, or the argument's
 * default), and armor's rule judges that document.
 */
export function costLimitPlugin(maxCost: number, maxPageSize: number): ApolloServerPlugin {
  const rule = costLimitRule({ maxCost, ignoreIntrospection: true, exposeLimits: true });
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, request, schema }) {
          if (!operation) return; // Apollo refuses such a request before this hook
          try {
            validate(
              schema,
              withPageSizes(schema, document, operation, request.variables ?? {}, maxPageSize),
              [rule],
            );
          } catch (error) {
            // Armor's rule throws its refusal ("Syntax Error: Query Cost limit of … exceeded, found …").
            if (!(error instanceof GraphQLError)) throw error;
            const message = error.message.replace(/^Syntax Error: /, '');
            throw new AppError(ErrorCode.GRAPHQL_VALIDATION_FAILED, message, { http: { status: 400 } });
          }
        },
      };
    },
  };
}

function withPageSizes(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  inputs: Record<string, unknown>,
  maxPageSize: number,
): DocumentNode {
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], inputs);
  const variables = coerced.coerced ?? {};
  const typeInfo = new TypeInfo(schema);
  // A page larger than any served, or no number at all, is refused by the resolver: it costs a full page.
  const pageSize = (value: unknown) =>
    String(Number.isSafeInteger(value) && (value as number) <= maxPageSize ? value : maxPageSize);
  return visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node): FieldNode | undefined {
        const definition = typeInfo.getFieldDef();
        const pageArgs = definition?.args.filter((arg) => PAGE_ARGUMENTS.has(arg.name)) ?? [];
        if (pageArgs.length === 0) return undefined;
        const written = new Map(node.arguments?.map((arg) => [arg.name.value, arg]) ?? []);
        const args = pageArgs.map((arg) => {
          const given = written.get(arg.name)?.value;
          let value: unknown;
          if (given === undefined) value = arg.defaultValue;
          else if (given.kind === Kind.INT) value = Number(given.value);
          else if (given.kind === Kind.VARIABLE) value = variables[given.name.value];
          return {
            kind: Kind.ARGUMENT,
            name: { kind: Kind.NAME, value: arg.name },
            value: { kind: Kind.INT, value: pageSize(value) },
          } as const;
        });
        const others = node.arguments?.filter((arg) => !PAGE_ARGUMENTS.has(arg.name.value)) ?? [];
        return { ...node, arguments: [...args, ...others] };
      },
    }),
  );
}
