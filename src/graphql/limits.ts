import { ApolloArmor } from '@escape.tech/graphql-armor';
import { Config } from '../config';

// Document limits, checked while parsing and validating: a document over any of them is rejected
// before a resolver runs or the database is asked anything. The defaults leave ample room for the
// settings screens' operations (depth ≤ 5, no aliases, a few hundred tokens) and GraphiQL's schema query.

export function documentLimits(limits: Config['graphql'], production: boolean) {
  return new ApolloArmor({
    maxDepth: { n: limits.maxDepth, ignoreIntrospection: true, exposeLimits: true },
    maxAliases: { n: limits.maxAliases, exposeLimits: true },
    // Tokens are counted by graphql-js's own parser (parseOptions.maxTokens below): armor's plugin would
    // parse every document a second time and report plain syntax errors as validation failures.
    maxTokens: { enabled: false },
    maxDirectives: { n: limits.maxDirectives, exposeLimits: true },
    costLimit: { maxCost: limits.maxCost, ignoreIntrospection: true, exposeLimits: true },
    // "Did you mean …?" maps the schema for a stranger; keep it for developers only.
    blockFieldSuggestion: { enabled: production },
  }).protect();
}

/** A document over the token limit fails in the parser; to a client it is a rejected document like the others. */
export const TOKEN_LIMIT_MESSAGE = /^Syntax Error: Document contains more tha[nt] (\d+) tokens/; // graphql 16 says "that"
