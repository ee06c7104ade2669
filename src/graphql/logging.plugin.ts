import { ApolloServerPlugin } from '@apollo/server';
import { RequestContext } from './context';

// One log line per GraphQL operation: its name, duration, outcome code and account. At debug level the
// variables are logged too; the logger redacts every secret-named field inside them.

export function loggingPlugin(): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart({ contextValue, request }) {
      const started = performance.now();
      contextValue.log.debug({ operation: request.operationName, variables: request.variables }, 'graphql request');
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
