import { ApolloServerPlugin } from '@apollo/server';

// Hands every GraphQL operation's name, outcome code and duration to whoever counts them (the metrics
// of the composition root). The name is the one the resolved operation has in the document, never the
// operationName a client sent alongside it (that is only input); the counter bounds the names further.

export type OperationRecorder = (
  operation: string | null | undefined,
  outcome: string,
  seconds: number,
) => void;

export function metricsPlugin(record: OperationRecorder): ApolloServerPlugin {
  return {
    async requestDidStart() {
      const started = performance.now();
      return {
        async willSendResponse({ response, operationName }) {
          const body = response.body;
          const errors = body.kind === 'single' ? body.singleResult.errors : undefined;
          const code = errors?.[0]?.extensions?.code;
          const outcome = !errors?.length ? 'OK' : typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR';
          record(operationName, outcome, (performance.now() - started) / 1000);
        },
      };
    },
  };
}
