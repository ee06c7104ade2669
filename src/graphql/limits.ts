import { ApolloServerPlugin } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import {
  ASTVisitor,
  DocumentNode,
  FieldNode,
  GraphQLArgument,
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
 * default), and armor's rule judges that document. The verdict depends only on the operation and the
 * page sizes its variables give, so it is worked out once per such pair (Apollo keeps parsed documents,
 * so the same operation comes back as the same node) and most requests cost a map lookup.
 */
export function costLimitPlugin(maxCost: number, maxPageSize: number): ApolloServerPlugin {
  const rule = costLimitRule({ maxCost, ignoreIntrospection: true, exposeLimits: true });
  const shapes = new WeakMap<OperationDefinitionNode, CostShape>();
  // A page larger than any served, or no number at all, is refused by the resolver: it costs a full page.
  const pageSize = (value: unknown) =>
    Number.isSafeInteger(value) && (value as number) <= maxPageSize ? (value as number) : maxPageSize;

  const judge = (
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: Record<string, unknown>,
  ): string | null => {
    try {
      validate(schema, withPageSizes(schema, document, variables, pageSize), [rule]);
      return null;
    } catch (error) {
      // Armor's rule throws its refusal ("Syntax Error: Query Cost limit of … exceeded, found …").
      if (!(error instanceof GraphQLError)) throw error;
      return error.message.replace(/^Syntax Error: /, '');
    }
  };

  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, request, schema }) {
          if (!operation) return; // Apollo refuses such a request before this hook
          let shape = shapes.get(operation);
          if (!shape)
            shapes.set(
              operation,
              (shape = { pageVariables: pageVariablesOf(schema, document), verdicts: new Map() }),
            );
          let variables: Record<string, unknown> = {};
          if (shape.pageVariables.length) {
            variables =
              getVariableValues(schema, operation.variableDefinitions ?? [], request.variables ?? {})
                .coerced ?? {};
          }
          // A variable that was not sent (and has no default) leaves the argument at its own default.
          const key = shape.pageVariables
            .map((name) => (name in variables ? pageSize(variables[name]) : '-'))
            .join(',');
          let verdict = shape.verdicts.get(key);
          if (verdict === undefined) {
            verdict = judge(schema, document, variables);
            if (shape.verdicts.size < MAX_VERDICTS) shape.verdicts.set(key, verdict);
          }
          if (verdict)
            throw new AppError(ErrorCode.GRAPHQL_VALIDATION_FAILED, verdict, { http: { status: 400 } });
        },
      };
    },
  };
}

/** Page sizes a client may vary are few; beyond this many per operation, verdicts are not kept. */
const MAX_VERDICTS = 64;

/** An operation's cost as a function: which variables size its pages, and the verdict per their sizes. */
interface CostShape {
  pageVariables: string[];
  verdicts: Map<string, string | null>;
}

/** Visits the page arguments (`first`/`last`) of every field of the document. */
function visitPageArguments(
  schema: GraphQLSchema,
  document: DocumentNode,
  onField: (node: FieldNode, pageArgs: readonly GraphQLArgument[]) => FieldNode | undefined,
): DocumentNode {
  const typeInfo = new TypeInfo(schema);
  return visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const pageArgs = typeInfo.getFieldDef()?.args.filter((arg) => PAGE_ARGUMENTS.has(arg.name)) ?? [];
        return pageArgs.length ? onField(node, pageArgs) : undefined;
      },
    }),
  );
}

function pageVariablesOf(schema: GraphQLSchema, document: DocumentNode): string[] {
  const names = new Set<string>();
  visitPageArguments(schema, document, (node) => {
    for (const arg of node.arguments ?? []) {
      if (PAGE_ARGUMENTS.has(arg.name.value) && arg.value.kind === Kind.VARIABLE)
        names.add(arg.value.name.value);
    }
    return undefined;
  });
  return [...names].sort();
}

/** The document with every page argument written in as the page size the resolver will serve. */
function withPageSizes(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown>,
  pageSize: (value: unknown) => number,
): DocumentNode {
  return visitPageArguments(schema, document, (node, pageArgs) => {
    const written = new Map(node.arguments?.map((arg) => [arg.name.value, arg.value]) ?? []);
    const args = pageArgs.map((arg) => {
      const given = written.get(arg.name);
      let value: unknown = arg.defaultValue;
      if (given?.kind === Kind.INT) value = Number(given.value);
      else if (given?.kind === Kind.VARIABLE && given.name.value in variables)
        value = variables[given.name.value];
      else if (given?.kind === Kind.VARIABLE) value = arg.defaultValue;
      else if (given) value = undefined; // null or another kind: refused by the resolver
      return {
        kind: Kind.ARGUMENT,
        name: { kind: Kind.NAME, value: arg.name },
        value: { kind: Kind.INT, value: String(pageSize(value)) },
      } as const;
    });
    const others = node.arguments?.filter((arg) => !PAGE_ARGUMENTS.has(arg.name.value)) ?? [];
    return { ...node, arguments: [...args, ...others] };
  });
}
