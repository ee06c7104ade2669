import http from 'node:http';
import { Logger } from 'pino';
import { InvalidTokenError, ServiceClaims, ServiceTokenVerifier } from '../auth/jwt';
import { KeyReports } from '../provider-keys/key-reports';
import { AccountNotFoundError, CredentialUnavailableError, RouteService } from '../routing/route.service';
import { BodyTooLargeError, ClientGoneError, readBody, sendJson } from '../listener';
import { BadRequestError, readReport, readResolve } from './credentials.input';
import { InternalErrorCode, openApiText } from './credentials.openapi';

// The internal credential API: what the platform's pipelines in other processes call, on a listener of
// its own (never the public one). A service token names the caller and what it may do; resolve hands out
// the credential for one task (read from the database on every call), report takes back what the
// provider answered. One log line per request: service, route, account, outcome, duration; never a key.

export const INTERNAL_PREFIX = '/internal/v1/';

export interface CredentialsApiDeps {
  verifyService: ServiceTokenVerifier;
  routes: Pick<RouteService, 'resolveCredential'>;
  reports: Pick<KeyReports, 'report'>;
  logger: Logger;
  maxBodyBytes: number;
  /** Counts resolves and reports by outcome (the metrics); none by default. */
  observe?: (route: 'resolve' | 'report', outcome: string) => void;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: InternalErrorCode,
    message: string,
    readonly extra: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** A driver or pool error that means the database does not answer (as opposed to a fault of ours). */
const UNREACHABLE =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|PROTOCOL_CONNECTION_LOST|PROTOCOL_SEQUENCE_TIMEOUT|ER_CON_COUNT_ERROR|not (?:yet )?(?:connected|initialized|open|established)|Pool is closed|Connection lost/i;
function isDatabaseDown(error: unknown): boolean {
  const { code, message, name } = (error ?? {}) as { code?: unknown; message?: unknown; name?: unknown };
  return [code, message, name].some((value) => typeof value === 'string' && UNREACHABLE.test(value));
}

const RESOLVE = `${INTERNAL_PREFIX}credentials/resolve`;
const REPORT = `${INTERNAL_PREFIX}credentials/report`;
const ROUTES = { [RESOLVE]: 'credentials:resolve', [REPORT]: 'credentials:report' } as const;

/** The request's path, without its query. */
const pathOf = (req: http.IncomingMessage): string => {
  const url = req.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
};

const NO_STORE = { 'cache-control': 'no-store' };

export function credentialsApi(deps: CredentialsApiDeps) {
  const openApi = openApiText();

  async function authorize(req: http.IncomingMessage, scope: string): Promise<ServiceClaims> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!match)
      throw new ApiError(
        401,
        'UNAUTHENTICATED',
        'A service token is required: Authorization: Bearer <token>.',
      );
    let claims: ServiceClaims;
    try {
      claims = await deps.verifyService(match[1]);
    } catch (error) {
      if (error instanceof InvalidTokenError)
        throw new ApiError(401, 'UNAUTHENTICATED', 'The service token is not valid here.');
      throw error;
    }
    if (!claims.scopes.has(scope))
      throw new ApiError(403, 'FORBIDDEN', `The service token lacks the scope ${scope}.`);
    return claims;
  }

  async function readJson(req: http.IncomingMessage): Promise<unknown> {
    if (!/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '')) {
      throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json.');
    }
    const text = await readBody(req, deps.maxBodyBytes);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new ApiError(400, 'BAD_REQUEST', 'The body is not valid JSON.');
    }
  }

  async function answer(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    path: string,
    log: Record<string, unknown>,
  ): Promise<void> {
    if (path === `${INTERNAL_PREFIX}openapi.json` && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', ...NO_STORE }).end(openApi);
      return;
    }
    const scope = ROUTES[path as keyof typeof ROUTES] as string | undefined;
    if (!scope)
      throw new ApiError(
        404,
        'NOT_FOUND',
        `No such route: the routes are ${Object.keys(ROUTES).join(' and ')}.`,
      );
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      throw new ApiError(405, 'METHOD_NOT_ALLOWED', 'Use POST.');
    }
    const claims = await authorize(req, scope);
    log.service = claims.service;
    const body = await readJson(req);
    if (scope === 'credentials:resolve') {
      const { accountId, task } = readResolve(body);
      // An account id is logged once it is known to be one: a key pasted there would pass for an id.
      const credential = await deps.routes.resolveCredential(accountId, task).catch((error: unknown) => {
        if (error instanceof CredentialUnavailableError) log.accountId = accountId;
        throw error;
      });
      log.accountId = accountId;
      log.served = credential.status;
      const { provider, model, endpoint, apiKey, billingMode, status, keyId, keyVersion, health } =
        credential;
      sendJson(
        res,
        200,
        { provider, model, endpoint, apiKey, billingMode, status, keyId, keyVersion, health },
        NO_STORE,
      );
    } else {
      const report = readReport(body);
      log.reported = report.outcome;
      if (await deps.reports.report(report, claims.service)) log.accountId = report.accountId;
      res.writeHead(204, NO_STORE).end();
    }
  }

  function fail(error: unknown, res: http.ServerResponse): ApiError {
    const known =
      error instanceof ApiError
        ? error
        : error instanceof BadRequestError
          ? new ApiError(400, 'BAD_REQUEST', error.message)
          : error instanceof BodyTooLargeError
            ? new ApiError(413, 'PAYLOAD_TOO_LARGE', error.message)
            : error instanceof AccountNotFoundError
              ? new ApiError(404, 'ACCOUNT_NOT_FOUND', 'No account with that id.')
              : error instanceof CredentialUnavailableError
                ? new ApiError(409, 'NO_USABLE_CREDENTIAL', 'No credential may serve this task.', {
                    reason: error.message,
                  })
                : isDatabaseDown(error)
                  ? new ApiError(503, 'UNAVAILABLE', 'The database does not answer: retry shortly.')
                  : new ApiError(500, 'INTERNAL', 'Internal error.');
    if (known.status === 413) res.setHeader('connection', 'close');
    sendJson(
      res,
      known.status,
      { error: { code: known.code, message: known.message, ...known.extra } },
      NO_STORE,
    );
    return known;
  }

  return async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const started = performance.now();
    const path = pathOf(req);
    // Only a known route is logged as it is: a path is client input, and may hold anything.
    const route = path in ROUTES || path === `${INTERNAL_PREFIX}openapi.json` ? path : '(other)';
    const log: Record<string, unknown> = { route, method: req.method };
    let outcome = 'OK';
    try {
      await answer(req, res, path, log);
    } catch (error) {
      if (error instanceof ClientGoneError) throw error; // nobody to answer; the listener notes it
      const known = fail(error, res);
      outcome = known.code;
      if (known.status === 500)
        deps.logger.error({ err: error, ...log }, 'unexpected error in the internal credential API');
    } finally {
      // A resolve counts by the route status it served, a report by the outcome it reported; else the code.
      const served = outcome === 'OK' ? (log.served ?? log.reported) : undefined;
      log.status = res.statusCode;
      log.outcome = outcome;
      log.durationMs = Math.round((performance.now() - started) * 10) / 10;
      deps.logger.info(log, 'internal request');
      const kind = route === RESOLVE ? 'resolve' : route === REPORT ? 'report' : undefined;
      if (kind) deps.observe?.(kind, typeof served === 'string' ? served : outcome);
    }
  };
}
