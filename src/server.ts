import http from 'node:http';
import { ApolloServer, ApolloServerPlugin, HeaderMap } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { GraphQLSchema } from 'graphql';
import { Logger } from 'pino';
import { RequestContext } from './graphql/context';
import { createErrorFormatter, schemaNames } from './graphql/format-error';
import { loggingPlugin } from './graphql/logging.plugin';
import { costLimitPlugin, documentLimits, MAX_PAGE_SIZE, noSubscriptions } from './graphql/limits';
import { Config } from './config';
import { loadPlayground } from './playground/playground.handler';
import { loadSettingsPage } from './settings-page/settings-page.handler';
import { corsHandler } from './cors';
import { BodyTooLargeError, Listener, readBody, sendJson, startListener } from './listener';

// The HTTP server: POST /graphql through Apollo Server, GET /healthz (the process runs) and GET /readyz
// (the database answers). Apollo runs without a framework: this file is its whole HTTP integration.

export interface ServerOptions<Context extends RequestContext> {
  host: string;
  port: number;
  /** CORS_ORIGINS: the origins whose pages may call the API (src/cors.ts). */
  corsOrigins: readonly string[];
  production: boolean;
  limits: Config['graphql'];
  /** The "AI Provider Keys" page at GET /settings (src/settings-page). */
  settingsPage: boolean;
  http: Config['http'];
  schema: GraphQLSchema;
  /** The context of one GraphQL request (the composition root's: identity and services). */
  context: (req: http.IncomingMessage) => Context;
  /** Plugins of the capabilities (auth's early answer to requests without a token). */
  plugins: ApolloServerPlugin<Context>[];
  logger: Logger;
  /** Resolves when the service can serve traffic; rejects with the reason otherwise. */
  readiness: () => Promise<void>;
}

export interface RunningServer {
  url: string;
  port: number;
  /** Stops accepting connections, lets in-flight requests finish, then stops Apollo. */
  close(): Promise<void>;
}

/** The URL of nearly every request, parsed once (read only). */
const GRAPHQL_URL = new URL('/graphql', 'http://localhost');

export async function startServer<Context extends RequestContext>(
  options: ServerOptions<Context>,
): Promise<RunningServer> {
  const { logger } = options;
  const { maxBodyBytes } = options.limits;
  const armor = documentLimits(options.limits);
  const names = schemaNames(options.schema);
  const apollo = new ApolloServer<Context>({
    schema: options.schema,
    formatError: createErrorFormatter(logger, names, { hideSuggestions: options.production }),
    includeStacktraceInErrorResponses: false,
    allowBatchedHttpRequests: false,
    csrfPrevention: true,
    // main.ts owns the shutdown order: drain HTTP first, then stop Apollo, then close the pool.
    stopOnTerminationSignals: false,
    introspection: options.limits.playground,
    validationRules: [...armor.validationRules, noSubscriptions],
    parseOptions: { maxTokens: options.limits.maxTokens },
    // No cache hints in this schema: the cache-control plugin would wrap every field resolver to compute
    // a policy that is always "no-store", which handleGraphql sets itself.
    plugins: [
      ...armor.plugins,
      costLimitPlugin(options.limits.maxCost, MAX_PAGE_SIZE),
      loggingPlugin(names),
      ...options.plugins,
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginCacheControlDisabled(),
    ],
  });
  await apollo.start();
  // Playground (src/playground): GraphiQL for browsers at GET /graphql, read from disk once, here.
  const playground = options.limits.playground ? loadPlayground(logger) : undefined;
  const settingsPage = options.settingsPage ? loadSettingsPage(logger) : undefined;
  const cors = corsHandler(options.corsOrigins);

  // Set once listening; /readyz reads whether it is closing.
  const state: { listener?: Listener } = {};

  async function handleGraphql(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    let body: unknown;
    if (req.method === 'POST') {
      const raw = await readBody(req, maxBodyBytes);
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        return sendJson(res, 400, {
          errors: [
            { message: 'The request body is not valid JSON.', extensions: { code: 'BAD_USER_INPUT' } },
          ],
        });
      }
    }
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body },
      context: () => Promise.resolve(options.context(req)),
    });
    // Answers describe an account's keys and settings: no cache or proxy may keep them.
    res.setHeader('cache-control', 'no-store');
    for (const [name, value] of response.headers) res.setHeader(name, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === 'complete') {
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = req.url === '/graphql' ? GRAPHQL_URL : new URL(req.url ?? '/', 'http://localhost');
    // Every answer is JSON, text or a bundle file of a declared type: no browser may guess another.
    res.setHeader('x-content-type-options', 'nosniff');
    if (cors(req, res)) return;
    if (url.pathname === '/healthz' && req.method === 'GET') return sendJson(res, 200, { status: 'ok' });
    if (url.pathname === '/readyz' && req.method === 'GET') {
      if (state.listener?.closing) return sendJson(res, 503, { status: 'shutting down' });
      try {
        await options.readiness();
        return sendJson(res, 200, { status: 'ready' });
      } catch (error) {
        logger.warn({ reason: (error as Error).message }, 'not ready');
        return sendJson(res, 503, { status: 'not ready' });
      }
    }
    if (playground?.matches(req, url)) return playground.serve(res, url);
    if (settingsPage?.matches(req, url)) return settingsPage.serve(res, url);
    if (url.pathname === '/graphql') return handleGraphql(req, res, url);
    return sendJson(res, 404, { error: 'Not found. The GraphQL endpoint is /graphql.' });
  }

  const fail = (error: unknown, _req: http.IncomingMessage, res: http.ServerResponse) => {
    const message = error instanceof BodyTooLargeError ? error.message : 'Internal server error';
    const code = error instanceof BodyTooLargeError ? 'BAD_USER_INPUT' : 'INTERNAL_SERVER_ERROR';
    sendJson(res, error instanceof BodyTooLargeError ? 413 : 500, {
      errors: [{ message, extensions: { code } }],
    });
  };
  const { host, port, http: limits } = options;
  const started = await startListener({ host, port, http: limits, logger, handle, fail });
  state.listener = started;
  return {
    url: started.url,
    port: started.port,
    async close() {
      await started.close();
      await apollo.stop();
    },
  };
}
