import { ApolloServerPlugin } from '@apollo/server';
import { RequestContext } from './context';
import { isQuotableName } from './format-error';

// One log line per GraphQL operation: its name, duration, outcome code and account. At debug level the
// variables' shape is logged too. Nothing a client typed is logged as it is, because a key pasted into
// the wrong place (a label, an enum, an object key, the operation name) is still a key: strings become
// their length, object keys and operation names stay only when they are schema names or names shorter
// than any key, and the shape stops at a depth instead of passing what lies deeper through.

const MAX_SHAPE_DEPTH = 10;

const nameShape = (name: string) => `<name of ${name.length} characters>`;

/** The client's operation name, when it is a name like any other; else only its length. */
function safeOperationName(name: string | null | undefined, names: ReadonlySet<string>): string | null {
  if (name == null) return null;
  return isQuotableName(name, names) ? name : nameShape(name);
}

function shapeOf(value: unknown, names: ReadonlySet<string>, depth = 0): unknown {
  if (typeof value === 'string') return `<string of ${value.length}>`;
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_SHAPE_DEPTH) return `<deeper than ${MAX_SHAPE_DEPTH} levels>`;
  if (Array.isArray(value)) return value.map((item) => shapeOf(item, names, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([key, item], index) => [
      isQuotableName(key, names) ? key : `${nameShape(key)} #${index + 1}`,
      shapeOf(item, names, depth + 1),
    ]),
  );
}

const codeOf = (code: unknown) => (typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR');

export function loggingPlugin(names: ReadonlySet<string>): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart({ contextValue, request }) {
      const started = performance.now();
      if (contextValue.log.isLevelEnabled('debug')) {
        contextValue.log.debug(
          {
            operation: safeOperationName(request.operationName, names),
            variables: shapeOf(request.variables, names),
          },
          'graphql request',
        );
      }
      return {
        async willSendResponse({ response, operationName }) {
          const body = response.body;
          const errors = body.kind === 'single' ? body.singleResult.errors : undefined;
          contextValue.log.info(
            {
              // The resolved operation's name is one the document defines; a name the client sent
              // that names no operation is only input.
              operation: operationName ?? safeOperationName(request.operationName, names),
              durationMs: Math.round((performance.now() - started) * 10) / 10,
              outcome: errors?.length ? codeOf(errors[0].extensions?.code) : 'OK',
              accountId: contextValue.viewer?.accountId ?? null,
            },
            'graphql operation',
          );
        },
      };
    },
  };
}
