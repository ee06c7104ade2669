import { ApolloServerPlugin } from '@apollo/server';
import { RequestContext } from './context';

// One log line per GraphQL operation: its name, duration, outcome code and account. At debug level the
// variables' shape is logged too: every string is replaced by its length, because a key pasted into the
// wrong field (a label, an enum) is still a key; the logger also redacts every secret-named field.

function shapeOf(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return `<string of ${value.length}>`;
  if (value === null || typeof value !== 'object' || depth > 10) return value;
  if (Array.isArray(value)) return value.map((item) => shapeOf(item, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, shapeOf(item, depth + 1)]));
}

export function loggingPlugin(): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart({ contextValue, request }) {
      const started = performance.now();
      if (contextValue.log.isLevelEnabled('debug')) {
        contextValue.log.debug({ operation: request.operationName, variables: shapeOf(request.variables) }, 'graphql request');
      }
      return {
        async willSendResponse({ response, operationName }) {
          const body = response.body;
          const errors = body.kind === 'single' ? body.singleResult.errors : undefined;
          contextValue.log.info(
            {
              operation: operationName ?? request.operationName ?? null,
              durationMs: Math.round((performance.now() - started) * 10) / 10,
              outcome: errors?.length ? String(errors[0].extensions?.code ?? 'INTERNAL_SERVER_ERROR') : 'OK',
              accountId: contextValue.viewer?.accountId ?? null,
            },
            'graphql operation',
          );
        },
      };
    },
  };
}
