import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import net from 'node:net';
import { AiProvider } from '../../src/providers/ai-provider.enum';
import type { DnsLookup } from '../../src/providers/outbound-client';
import type { BaseUrls } from '../../src/providers/provider-adapter';

// One real HTTP server on 127.0.0.1 that answers like the five providers' model-list endpoints
// (status codes and body shapes of ../shared/providers.md). Behaviour is chosen by a marker inside
// the key, so a test reads as "this key, this answer". Error bodies echo the key, masked like OpenAI
// does or whole, to prove that no provider text reaches a client.
//
// Routes: OpenAI   GET /openai/v1/models            Authorization: Bearer
//         Anthropic GET /anthropic/v1/models         x-api-key (+ anthropic-version)
//         Gemini   GET /gemini/v1beta/models         x-goog-api-key
//         Mistral  GET /mistral/v1/models            Authorization: Bearer
//         Azure    GET /openai/models?api-version=…  api-key   (reached as http://acme.openai.azure.com:<port>)
// and the deep test's billed endpoints, with the same auth headers:
//         OpenAI   POST /openai/v1/chat/completions
//         Anthropic POST /anthropic/v1/messages
//         Gemini   POST /gemini/v1beta/models/<id>:generateContent
//         Mistral  POST /mistral/v1/chat/completions
//         Azure    POST /openai/deployments/<deployment>/chat/completions?api-version=…
// A scenario answers on both kinds of endpoint alike, except the CHAT ones marked below, whose model
// list is the full one and whose billed request fails.

/** Markers, matched as substrings of the key (longest first). Upper case + digits: keys pad with digits. */
export const SCENARIOS = [
  'VALID', // no marker: the full model list
  'NOMODEL', // a list without one model the platform needs
  'PAGED', // Anthropic/Gemini: the needed models spread over two pages
  'MANYPAGES', // Anthropic/Gemini: pages that never end
  'REVOKED', // the provider's invalid-key answer
  'UNAUTHDETAIL', // Mistral: its second 401 shape {"detail":"Unauthorized"}
  'RESTRICTED', // OpenAI: restricted key without the Models scope, 401
  'RESTRICTED403', // same, answered 403
  'REGION', // OpenAI: 403 unsupported_country_region_territory; Gemini: 400 FAILED_PRECONDITION
  'PERMISSION', // Anthropic: 403 permission_error
  'QUOTA', // OpenAI 429 insufficient_quota, Anthropic 402 billing_error
  'RATELIMIT', // the provider's 429
  'LEAKED', // Gemini: 403 key reported as leaked
  'BLOCKED', // Gemini: 403 API_KEY_SERVICE_BLOCKED
  'DISABLED', // Gemini: 403 SERVICE_DISABLED; Azure: 403 AuthenticationTypeDisabled
  'BADREQUEST', // Gemini: 400 INVALID_ARGUMENT that is not about the key
  'ERROR500',
  'UNAVAILABLE503',
  'OVERLOADED529',
  'TEAPOT418', // a status no provider documents
  'HTML401', // 401 with an HTML body (a proxy, not the provider)
  'BADJSON', // 200 with a body that is not JSON
  'SLOW', // answers (valid) only after `slowMs`
  'DELAY500', // answers (valid) after 500 ms
  'ENDLESS', // 200, then streams a JSON body forever as fast as the socket takes it
  'DRIP', // 200, then one byte every 100 ms forever
  'REDIRECT', // 302 to this server's /redirect-target (recorded if followed)
  // CHAT scenarios: the model list passes, the billed request answers…
  'NOCREDIT', // …out of credit: OpenAI/Azure 429 insufficient_quota, Anthropic 400 "credit balance",
  //             Gemini 429 with a per-day QuotaFailure, Mistral 401 (its exhausted free tier)
  'NOCREDIT402', // …Anthropic: 402 billing_error
  'MINUTEQUOTA', // …Gemini: 429 with a per-minute QuotaFailure
  'UNSERVED', // …"no such model" for UNSERVED_MODELS[provider] (Azure: 404 DeploymentNotFound)
  'CHATREDIRECT', // …302 to /redirect-target
] as const;
export type Scenario = (typeof SCENARIOS)[number];

const BY_LENGTH = [...SCENARIOS].filter((s) => s !== 'VALID').sort((a, b) => b.length - a.length);

export function scenarioOf(key: string): Scenario {
  return BY_LENGTH.find((marker) => key.includes(marker)) ?? 'VALID';
}

const KEY_SHAPES: Readonly<Record<AiProvider, { prefix: string; length: number }>> = {
  [AiProvider.OPENAI]: { prefix: 'sk-proj-', length: 8 + 120 },
  [AiProvider.ANTHROPIC]: { prefix: 'sk-ant-api03-', length: 108 },
  [AiProvider.GOOGLE_GEMINI]: { prefix: 'AIza', length: 39 },
  [AiProvider.AZURE_OPENAI]: { prefix: '', length: 32 },
  [AiProvider.MISTRAL]: { prefix: '', length: 32 },
};

/**
 * A key of the provider's real shape and length carrying the scenario's marker. The padding is
 * digits, so no 5-character piece of a key can occur in our (digit-free) messages by chance.
 */
export function makeKey(provider: AiProvider, scenario: Scenario = 'VALID', seed = 0): string {
  const { prefix, length } = KEY_SHAPES[provider];
  const marker = scenario === 'VALID' ? '' : scenario;
  let padding = '';
  for (let i = 0; padding.length < length; i++) padding += String((i * 7 + 3 + seed) % 10);
  return prefix + marker + padding.slice(0, length - prefix.length - marker.length);
}

export interface RecordedRequest {
  method: string;
  /** path and query, as sent */
  url: string;
  headers: IncomingHttpHeaders;
  /** The body as sent ('' for a GET), and parsed when it is JSON. */
  rawBody: string;
  body?: unknown;
}

/** The model each provider's UNSERVED key lists but may not call. */
export const UNSERVED_MODELS: Readonly<Record<AiProvider, string>> = {
  [AiProvider.OPENAI]: 'o4-mini',
  [AiProvider.ANTHROPIC]: 'claude-haiku-4-5',
  [AiProvider.GOOGLE_GEMINI]: 'gemini-2.5-pro',
  [AiProvider.AZURE_OPENAI]: 'gpt-4.1',
  [AiProvider.MISTRAL]: 'mistral-small-latest',
};

export interface FakeProviders {
  url: string;
  port: number;
  baseUrls: BaseUrls;
  /** An Azure resource host; tests resolve it to 127.0.0.1 through `lookup`. */
  azureHost: string;
  azureEndpoint: string;
  /** Lets the service reach this server: 127.0.0.1:<port> and <azureHost>:<port>. */
  allowlist: string[];
  /** Resolves azureHost to 127.0.0.1; any other name is ENOTFOUND (tests never reach the internet). */
  lookup: FakeLookup;
  requests: RecordedRequest[];
  /** TCP connections accepted since start or the last reset. */
  readonly connections: number;
  /** ENDLESS/DRIP bodies still being written. */
  readonly openStreams: number;
  /**
   * Replaces what a VALID key of the provider lists (as when the provider grants or withdraws a model),
   * until reset.
   */
  listModels(provider: AiProvider, ids: string[]): void;
  /** Answers every key of the provider as if it carried the scenario's marker (a key that breaks later), until reset. */
  answerAs(provider: AiProvider, scenario: Scenario): void;
  reset(): void;
  close(): Promise<void>;
}

export async function startFakeProviders(options: { slowMs?: number } = {}): Promise<FakeProviders> {
  const slowMs = options.slowMs ?? 3000;
  const requests: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const sockets = new Set<Socket>();
  let connections = 0;
  let openStreams = 0;
  const listed = new Map<AiProvider, string[]>();
  const forced = new Map<AiProvider, Scenario>();
  let origin = '';

  /** Runs fn after ms unless the client went away first. */
  const later = (ms: number, res: http.ServerResponse, fn: () => void) => {
    const cancel = () => clearTimeout(timer);
    const timer = setTimeout(() => {
      timers.delete(timer);
      res.off('close', cancel);
      if (!res.destroyed) fn();
    }, ms);
    timers.add(timer);
    res.once('close', cancel);
  };

  const stream = (res: http.ServerResponse, chunk: Buffer, everyMs: number) => {
    openStreams++;
    res.on('close', () => openStreams--);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"data":[');
    const pump = () => {
      if (everyMs > 0) {
        res.write(chunk);
        return later(everyMs, res, pump);
      }
      while (!res.destroyed && res.write(chunk)) {
        // as fast as the socket takes it
      }
      if (!res.destroyed) res.once('drain', pump);
    };
    pump();
  };

  const answer = (req: http.IncomingMessage, res: http.ServerResponse, rawBody: string) => {
    const body = parseBody(rawBody);
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawBody, body });
    const route = routeOf(req, body);
    if (!route) return send(res, 404, { error: 'fake-providers: no such route' });
    if (!route.key) return send(res, ...errorAnswer(route.provider, 'REVOKED', ''));

    const scenario = forced.get(route.provider) ?? scenarioOf(route.key);
    if (route.chat) {
      const chat = chatAnswer(route, route.chat, scenario);
      if (chat === 'redirect') {
        res.writeHead(302, { location: `${origin}/redirect-target` });
        return res.end();
      }
      if (chat) return send(res, ...chat);
    }
    switch (scenario) {
      case 'SLOW':
        return later(slowMs, res, () => send(res, ...validAnswer(route, 'VALID')));
      case 'DELAY500':
        return later(500, res, () => send(res, ...validAnswer(route, 'VALID')));
      case 'ENDLESS':
        return stream(res, Buffer.from('{"id":"filler-model","object":"model"},'.repeat(1600)), 0);
      case 'DRIP':
        return stream(res, Buffer.from(' '), 100);
      case 'REDIRECT':
        res.writeHead(302, { location: `${origin}/redirect-target` });
        return res.end();
      case 'BADJSON':
        res.writeHead(200, { 'content-type': 'text/html' });
        return res.end(`<html><body>Welcome! Your key ${route.key} is fine.</body></html>`);
      case 'HTML401':
        res.writeHead(401, { 'content-type': 'text/html' });
        return res.end(`<html><body>Proxy authentication failed for ${route.key}</body></html>`);
      case 'TEAPOT418':
        return send(res, 418, { error: { message: `I'm a teapot, ${route.key}` } });
      case 'VALID':
      case 'NOMODEL':
      case 'PAGED':
      case 'MANYPAGES':
        if (scenario === 'VALID' && listed.has(route.provider)) {
          return send(res, 200, listBody(route.provider, listed.get(route.provider)!));
        }
        return send(res, ...validAnswer(route, scenario));
      case 'NOCREDIT':
      case 'NOCREDIT402':
      case 'MINUTEQUOTA':
      case 'UNSERVED':
      case 'CHATREDIRECT':
        return send(res, ...validAnswer(route, 'VALID'));
      default:
        return send(res, ...errorAnswer(route.provider, scenario, route.key));
    }
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => answer(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  server.on('connection', (socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
  const azureHost = 'acme.openai.azure.com';

  return {
    url: origin,
    port,
    baseUrls: {
      OPENAI: `${origin}/openai/v1`,
      ANTHROPIC: `${origin}/anthropic`,
      GOOGLE_GEMINI: `${origin}/gemini`,
      MISTRAL: `${origin}/mistral`,
    },
    azureHost,
    azureEndpoint: `http://${azureHost}:${port}`,
    allowlist: [`127.0.0.1:${port}`, `${azureHost}:${port}`],
    lookup: mappedLookup({ [azureHost]: '127.0.0.1' }),
    requests,
    get connections() {
      return connections;
    },
    get openStreams() {
      return openStreams;
    },
    listModels(provider, ids) {
      listed.set(provider, ids);
    },
    answerAs(provider, scenario) {
      forced.set(provider, scenario);
    },
    reset() {
      requests.length = 0;
      connections = 0;
      listed.clear();
      forced.clear();
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---- routing -------------------------------------------------------------------------------

interface Route {
  provider: AiProvider;
  key: string;
  query: URLSearchParams;
  /** A billed request (deep test): the model it asked for (Azure: the deployment). */
  chat?: { model: string };
}

function parseBody(raw: string): unknown {
  try {
    return raw ? (JSON.parse(raw) as unknown) : undefined;
  } catch {
    return undefined;
  }
}

function routeOf(req: http.IncomingMessage, body: unknown): Route | undefined {
  const url = new URL(req.url ?? '/', 'http://fake');
  const bearer = (req.headers.authorization ?? '').replace(/^Bearer /, '');
  const header = (name: string) => String(req.headers[name] ?? '');
  const route = (provider: AiProvider, key: string) => ({ provider, key, query: url.searchParams });
  if (req.method === 'POST') return chatRouteOf(url, body, header, bearer);
  if (req.method !== 'GET') return undefined;
  switch (url.pathname) {
    case '/openai/v1/models':
      return route(AiProvider.OPENAI, bearer);
    case '/anthropic/v1/models':
      // The real API refuses requests without a version; so does the fake.
      return header('anthropic-version') === '2023-06-01'
        ? route(AiProvider.ANTHROPIC, header('x-api-key'))
        : undefined;
    case '/gemini/v1beta/models':
      return route(AiProvider.GOOGLE_GEMINI, header('x-goog-api-key'));
    case '/mistral/v1/models':
      return route(AiProvider.MISTRAL, bearer);
    case '/openai/models':
      return url.searchParams.get('api-version')
        ? route(AiProvider.AZURE_OPENAI, header('api-key'))
        : undefined;
    default:
      return undefined;
  }
}

/** The billed endpoints; a body without what the real API requires is no route (404). */
function chatRouteOf(
  url: URL,
  body: unknown,
  header: (name: string) => string,
  bearer: string,
): Route | undefined {
  const fields = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const model = typeof fields.model === 'string' ? fields.model : undefined;
  const hasMessages = Array.isArray(fields.messages) && fields.messages.length > 0;
  const route = (provider: AiProvider, key: string, chatModel: string | undefined) =>
    chatModel ? { provider, key, query: url.searchParams, chat: { model: chatModel } } : undefined;
  const gemini = /^\/gemini\/v1beta\/models\/([^/:]+):generateContent$/.exec(url.pathname);
  if (gemini) {
    return Array.isArray(fields.contents)
      ? route(AiProvider.GOOGLE_GEMINI, header('x-goog-api-key'), decodeURIComponent(gemini[1]))
      : undefined;
  }
  const azure = /^\/openai\/deployments\/([^/]+)\/chat\/completions$/.exec(url.pathname);
  if (azure) {
    return url.searchParams.get('api-version') && hasMessages
      ? route(AiProvider.AZURE_OPENAI, header('api-key'), decodeURIComponent(azure[1]))
      : undefined;
  }
  if (!hasMessages) return undefined;
  switch (url.pathname) {
    case '/openai/v1/chat/completions':
      return route(AiProvider.OPENAI, bearer, model);
    case '/anthropic/v1/messages':
      return header('anthropic-version') === '2023-06-01'
        ? route(AiProvider.ANTHROPIC, header('x-api-key'), model)
        : undefined;
    case '/mistral/v1/chat/completions':
      return route(AiProvider.MISTRAL, bearer, model);
    default:
      return undefined;
  }
}

type Answer = [status: number, body: unknown];

function send(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

// ---- model lists ---------------------------------------------------------------------------

// What each provider lists for a key that can use everything. Snapshot ids as the real APIs list them.
const FULL_LISTS: Readonly<Record<AiProvider, string[]>> = {
  [AiProvider.OPENAI]: [
    'gpt-4.1',
    'gpt-4.1-2025-04-14',
    'gpt-4.1-mini',
    'o4-mini',
    'o4-mini-2025-04-16',
    'gpt-4o',
    'text-embedding-3-small',
  ],
  [AiProvider.ANTHROPIC]: [
    'claude-sonnet-4-5-20250929',
    'claude-haiku-4-5-20251001',
    'claude-opus-4-1-20250805',
  ],
  [AiProvider.GOOGLE_GEMINI]: [
    'gemini-2.5-pro',
    'gemini-2.5-flash',
    'gemini-2.5-flash-lite',
    'embedding-001',
  ],
  [AiProvider.AZURE_OPENAI]: ['gpt-4.1-2025-04-14', 'gpt-4o-2024-08-06', 'text-embedding-3-large'],
  [AiProvider.MISTRAL]: [
    'mistral-large-latest',
    'mistral-small-latest',
    'mistral-large-2411',
    'codestral-latest',
  ],
};

// NOMODEL lists: one needed model gone, with look-alikes that must not count as it.
const PARTIAL_LISTS: Readonly<Record<AiProvider, string[]>> = {
  [AiProvider.OPENAI]: ['gpt-4.1', 'gpt-4.1-mini', 'o4-mini-deep-research', 'gpt-4o'],
  [AiProvider.ANTHROPIC]: ['claude-sonnet-4-5-20250929', 'claude-3-5-haiku-20241022'],
  [AiProvider.GOOGLE_GEMINI]: ['gemini-2.5-flash', 'gemini-2.5-pro-preview-06-05'],
  [AiProvider.AZURE_OPENAI]: ['gpt-4.1-mini-2025-04-14', 'gpt-4o-2024-08-06'],
  [AiProvider.MISTRAL]: ['mistral-large-latest', 'mistral-small-2409-finetune'],
};

function validAnswer(route: Route, scenario: 'VALID' | 'NOMODEL' | 'PAGED' | 'MANYPAGES'): Answer {
  const { provider } = route;
  const paged = provider === AiProvider.ANTHROPIC || provider === AiProvider.GOOGLE_GEMINI;
  if (paged && scenario === 'PAGED') return pagedAnswer(route);
  if (paged && scenario === 'MANYPAGES') return endlessPagesAnswer(route);
  return [200, listBody(provider, scenario === 'NOMODEL' ? PARTIAL_LISTS[provider] : FULL_LISTS[provider])];
}

function listBody(provider: AiProvider, ids: string[], next?: string): unknown {
  switch (provider) {
    case AiProvider.ANTHROPIC:
      return {
        data: ids.map((id) => ({ type: 'model', id, display_name: id, created_at: '2025-09-29T00:00:00Z' })),
        has_more: next !== undefined,
        first_id: ids[0] ?? null,
        last_id: ids.at(-1) ?? null,
      };
    case AiProvider.GOOGLE_GEMINI:
      return {
        models: ids.map((id) => ({
          name: `models/${id}`,
          displayName: id,
          supportedGenerationMethods: ['generateContent'],
        })),
        ...(next ? { nextPageToken: next } : {}),
      };
    case AiProvider.AZURE_OPENAI:
      return {
        data: ids.map((id) => ({
          id,
          status: 'succeeded',
          object: 'model',
          lifecycle_status: 'generally-available',
        })),
      };
    default:
      return {
        object: 'list',
        data: ids.map((id) => ({ id, object: 'model', created: 1686935002, owned_by: 'fake' })),
      };
  }
}

/** Needed models split over two pages, the second reachable only through the first page's cursor. */
function pagedAnswer({ provider, query }: Route): Answer {
  const cursorParam = provider === AiProvider.ANTHROPIC ? 'after_id' : 'pageToken';
  const cursor = query.get(cursorParam);
  const [first, second] =
    provider === AiProvider.ANTHROPIC
      ? [['claude-sonnet-4-5-20250929', 'claude-3-haiku-20240307'], ['claude-haiku-4-5-20251001']]
      : [['gemini-2.5-pro', 'embedding-001'], ['gemini-2.5-flash']];
  const firstCursor = provider === AiProvider.ANTHROPIC ? first.at(-1) : 'page-2-token';
  if (cursor === null) return [200, listBody(provider, first, firstCursor)];
  if (cursor === firstCursor) return [200, listBody(provider, second)];
  return errorAnswer(provider, 'BADREQUEST', '');
}

/** Every page says another follows, and none has a needed model. */
function endlessPagesAnswer({ provider, query }: Route): Answer {
  const cursor = query.get(provider === AiProvider.ANTHROPIC ? 'after_id' : 'pageToken') ?? 'legacy-0';
  const page = Number(cursor.split('-').at(-1)) + 1;
  return [200, listBody(provider, [`legacy-${page}`], `legacy-${page}`)];
}

// ---- billed requests (deep test) -------------------------------------------------------------

/**
 * The answer to a billed request where it differs from the model list's: a one-token completion, cut
 * off at that token as the real APIs do, or the CHAT scenario's failure. Undefined: answer as the list.
 */
function chatAnswer(
  route: Route,
  chat: { model: string },
  scenario: Scenario,
): Answer | 'redirect' | undefined {
  const { provider } = route;
  switch (scenario) {
    case 'VALID':
    case 'PAGED':
    case 'MANYPAGES':
    case 'MINUTEQUOTA':
    case 'NOCREDIT402':
      if (scenario === 'MINUTEQUOTA' && provider === AiProvider.GOOGLE_GEMINI) {
        return googleQuota('GenerateRequestsPerMinutePerProjectPerModel-FreeTier', route.key);
      }
      if (scenario === 'NOCREDIT402' && provider === AiProvider.ANTHROPIC) {
        return anthropicError(402, 'billing_error', 'Your credit balance is too low.');
      }
      return [200, completion(provider, chat.model)];
    case 'NOMODEL':
    case 'UNSERVED': {
      const refused =
        provider === AiProvider.AZURE_OPENAI
          ? scenario === 'UNSERVED'
          : chat.model === UNSERVED_MODELS[provider];
      return refused ? noSuchModel(provider, chat.model) : [200, completion(provider, chat.model)];
    }
    case 'NOCREDIT':
      return outOfCredit(provider, route.key);
    case 'CHATREDIRECT':
      return 'redirect';
    default:
      return undefined;
  }
}

function completion(provider: AiProvider, model: string): unknown {
  switch (provider) {
    case AiProvider.ANTHROPIC:
      return {
        id: 'msg_01Fake',
        type: 'message',
        role: 'assistant',
        model,
        content: [{ type: 'text', text: 'P' }],
        stop_reason: 'max_tokens',
        usage: { input_tokens: 8, output_tokens: 1 },
      };
    case AiProvider.GOOGLE_GEMINI:
      return {
        candidates: [{ content: { role: 'model', parts: [{ text: '' }] }, finishReason: 'MAX_TOKENS' }],
        usageMetadata: { promptTokenCount: 1, candidatesTokenCount: 1, totalTokenCount: 2 },
        modelVersion: model,
      };
    default:
      // OpenAI's reasoning models spend the one token on reasoning: an empty completion.
      return {
        id: 'chatcmpl-fake',
        object: 'chat.completion',
        created: 1_750_000_000,
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: '' }, finish_reason: 'length' }],
        usage: { prompt_tokens: 8, completion_tokens: 1, total_tokens: 9 },
      };
  }
}

function noSuchModel(provider: AiProvider, model: string): Answer {
  switch (provider) {
    case AiProvider.OPENAI:
      return openAiError(
        404,
        'invalid_request_error',
        'model_not_found',
        `The model \`${model}\` does not exist or you do not have access to it.`,
      );
    case AiProvider.ANTHROPIC:
      return anthropicError(404, 'not_found_error', `model: ${model}`);
    case AiProvider.GOOGLE_GEMINI:
      return googleError(
        404,
        'NOT_FOUND',
        `models/${model} is not found for API version v1beta, or is not supported for generateContent.`,
      );
    case AiProvider.AZURE_OPENAI:
      return azureError(
        404,
        'DeploymentNotFound',
        'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.',
      );
    case AiProvider.MISTRAL:
      return [
        400,
        {
          object: 'error',
          message: `Invalid model: ${model}`,
          type: 'invalid_model',
          param: null,
          code: '1500',
        },
      ];
  }
}

/** An account out of credit, as each provider answers a billed request (providers.md "Deep test"). */
function outOfCredit(provider: AiProvider, key: string): Answer {
  switch (provider) {
    case AiProvider.OPENAI:
      return openAiError(
        429,
        'insufficient_quota',
        'insufficient_quota',
        `You exceeded your current quota, please check your plan and billing details. Key: ${key}`,
      );
    case AiProvider.ANTHROPIC:
      return anthropicError(
        400,
        'invalid_request_error',
        'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.',
      );
    case AiProvider.GOOGLE_GEMINI:
      return googleQuota('GenerateRequestsPerDayPerProjectPerModel-FreeTier', key);
    case AiProvider.AZURE_OPENAI:
      return azureError(
        429,
        'insufficient_quota',
        `You exceeded your current quota, please check your plan and billing details. (${key})`,
      );
    case AiProvider.MISTRAL:
      return [401, { message: 'Unauthorized', request_id: `req-${key}` }];
  }
}

/** Gemini's 429 with the quota it hit (google.rpc.QuotaFailure) and when to retry. */
function googleQuota(quotaId: string, key: string): Answer {
  return [
    429,
    {
      error: {
        code: 429,
        message: `You exceeded your current quota, please check your plan and billing details. (${key})`,
        status: 'RESOURCE_EXHAUSTED',
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
            violations: [
              {
                quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
                quotaId,
                quotaDimensions: { location: 'global', model: 'gemini-2.5-pro' },
                quotaValue: '50',
              },
            ],
          },
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '43s' },
        ],
      },
    },
  ];
}

// ---- error answers -------------------------------------------------------------------------

function errorAnswer(provider: AiProvider, scenario: Scenario, key: string): Answer {
  const masked = `${key.slice(0, 8)}****${key.slice(-4)}`;
  const answer = ERRORS[provider](scenario, key, masked);
  return answer ?? [400, { error: { message: `fake-providers: no ${scenario} answer for ${provider}` } }];
}

type ErrorTable = (scenario: Scenario, key: string, masked: string) => Answer | undefined;

const openAiError = (status: number, type: string, code: string | null, message: string): Answer => [
  status,
  { error: { message, type, param: null, code } },
];
const anthropicError = (status: number, type: string, message: string): Answer => [
  status,
  { type: 'error', error: { type, message }, request_id: 'req_011CFake' },
];
const googleError = (status: number, statusName: string, message: string, reason?: string): Answer => [
  status,
  {
    error: {
      code: status,
      message,
      status: statusName,
      ...(reason
        ? {
            details: [
              { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason, domain: 'googleapis.com' },
            ],
          }
        : {}),
    },
  },
];
const azureError = (status: number, code: string, message: string): Answer => [
  status,
  { error: { code, message } },
];

const ERRORS: Readonly<Record<AiProvider, ErrorTable>> = {
  [AiProvider.OPENAI]: (scenario, key, masked) => {
    const restricted = `You have insufficient permissions for this operation. Missing scopes: api.model.read. Check that you have the correct role in your organization (Reader, Writer, Owner) and project (Member, Owner), and if you're using a restricted API key, that it has the necessary scopes. (key ${masked})`;
    switch (scenario) {
      case 'REVOKED':
        return openAiError(
          401,
          'invalid_request_error',
          'invalid_api_key',
          `Incorrect API key provided: ${masked}. You can find your API key at https://platform.openai.com/account/api-keys.`,
        );
      case 'RESTRICTED':
        return openAiError(401, 'invalid_request_error', null, restricted);
      case 'RESTRICTED403':
        return openAiError(403, 'invalid_request_error', null, restricted);
      case 'REGION':
        return openAiError(
          403,
          'request_forbidden',
          'unsupported_country_region_territory',
          'Country, region, or territory not supported',
        );
      case 'QUOTA':
        return openAiError(
          429,
          'insufficient_quota',
          'insufficient_quota',
          `You exceeded your current quota, please check your plan and billing details. Key: ${key}`,
        );
      case 'RATELIMIT':
        return openAiError(
          429,
          'requests',
          'rate_limit_exceeded',
          `Rate limit reached for ${key} on requests per min (RPM): Limit 3, Used 3.`,
        );
      case 'ERROR500':
        return openAiError(
          500,
          'server_error',
          null,
          `The server had an error while processing your request (${key}).`,
        );
      case 'UNAVAILABLE503':
        return openAiError(
          503,
          'server_error',
          null,
          'The engine is currently overloaded, please try again later.',
        );
      case 'OVERLOADED529':
        return openAiError(529, 'server_error', null, 'Overloaded');
      default:
        return undefined;
    }
  },
  [AiProvider.ANTHROPIC]: (scenario, key) => {
    switch (scenario) {
      case 'REVOKED':
        return anthropicError(401, 'authentication_error', 'invalid x-api-key');
      case 'PERMISSION':
        return anthropicError(
          403,
          'permission_error',
          `Your API key ${key} does not have permission to use the specified resource.`,
        );
      case 'QUOTA':
        return anthropicError(
          402,
          'billing_error',
          'Your credit balance is too low to access the Anthropic API.',
        );
      case 'RATELIMIT':
        return anthropicError(
          429,
          'rate_limit_error',
          `Number of requests has exceeded your rate limit (${key}).`,
        );
      case 'ERROR500':
        return anthropicError(500, 'api_error', `Internal server error ${key}`);
      case 'UNAVAILABLE503':
        return anthropicError(503, 'api_error', 'Service unavailable');
      case 'OVERLOADED529':
        return anthropicError(529, 'overloaded_error', 'Overloaded');
      case 'BADREQUEST':
        return anthropicError(400, 'invalid_request_error', 'invalid after_id');
      default:
        return undefined;
    }
  },
  [AiProvider.GOOGLE_GEMINI]: (scenario, key) => {
    switch (scenario) {
      case 'REVOKED':
        return googleError(
          400,
          'INVALID_ARGUMENT',
          `API key not valid. Please pass a valid API key. (${key})`,
          'API_KEY_INVALID',
        );
      case 'LEAKED':
        return googleError(
          403,
          'PERMISSION_DENIED',
          `Your API key was reported as leaked. Please use another API key. (${key})`,
        );
      case 'BLOCKED':
        return googleError(
          403,
          'PERMISSION_DENIED',
          'Requests to this API generativelanguage.googleapis.com method google.ai.generativelanguage.v1beta.ModelService.ListModels are blocked.',
          'API_KEY_SERVICE_BLOCKED',
        );
      case 'DISABLED':
        return googleError(
          403,
          'PERMISSION_DENIED',
          'Generative Language API has not been used in project 123456 before or it is disabled.',
          'SERVICE_DISABLED',
        );
      case 'REGION':
        return googleError(400, 'FAILED_PRECONDITION', 'User location is not supported for the API use.');
      case 'BADREQUEST':
        return googleError(400, 'INVALID_ARGUMENT', 'Invalid page token.');
      case 'RATELIMIT':
        return googleError(
          429,
          'RESOURCE_EXHAUSTED',
          `Resource has been exhausted (e.g. check quota). ${key}`,
        );
      case 'ERROR500':
        return googleError(500, 'INTERNAL', `An internal error has occurred. ${key}`);
      case 'UNAVAILABLE503':
        return googleError(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.');
      case 'OVERLOADED529':
        return googleError(529, 'UNAVAILABLE', 'Overloaded');
      default:
        return undefined;
    }
  },
  [AiProvider.AZURE_OPENAI]: (scenario, key) => {
    switch (scenario) {
      case 'REVOKED':
        return azureError(
          401,
          '401',
          `Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource. (${key})`,
        );
      case 'DISABLED':
        return azureError(
          403,
          'AuthenticationTypeDisabled',
          'Key based authentication is disabled for this resource.',
        );
      case 'RATELIMIT':
        return azureError(
          429,
          '429',
          `Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current pricing tier. Please retry after 6 seconds. ${key}`,
        );
      case 'ERROR500':
        return azureError(500, 'InternalServerError', `Internal server error ${key}`);
      case 'UNAVAILABLE503':
        return azureError(503, 'ServiceUnavailable', 'The service is temporarily unavailable.');
      case 'OVERLOADED529':
        return azureError(529, 'Overloaded', 'Overloaded');
      default:
        return undefined;
    }
  },
  [AiProvider.MISTRAL]: (scenario, key) => {
    switch (scenario) {
      case 'REVOKED':
        return [401, { message: 'Unauthorized', request_id: `req-${key}` }];
      case 'UNAUTHDETAIL':
        return [401, { detail: 'Unauthorized' }];
      case 'RATELIMIT':
        return [429, { message: `Requests rate limit exceeded for ${key}` }];
      case 'ERROR500':
        return [500, { object: 'error', message: `Internal error ${key}`, type: 'internal_server_error' }];
      case 'UNAVAILABLE503':
        return [503, { object: 'error', message: 'Service unavailable', type: 'service_unavailable' }];
      case 'OVERLOADED529':
        return [529, { message: 'Overloaded' }];
      default:
        return undefined;
    }
  },
};

// ---- DNS -----------------------------------------------------------------------------------

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address?: string | { address: string; family: number }[],
  family?: number,
) => void;

/** A dns.lookup stand-in that also records the names it was asked for. */
export type FakeLookup = DnsLookup & { calls: string[] };

/**
 * A lookup answering from `answer(hostname, callIndex)`: a list of addresses, or undefined for
 * ENOTFOUND. callIndex counts calls for that hostname, so answers can change over time (rebinding).
 */
export function scriptedLookup(
  answer: (hostname: string, callIndex: number) => string[] | undefined,
): FakeLookup {
  const calls: string[] = [];
  const lookup = (hostname: string, options: unknown, callback?: LookupCallback) => {
    const done = (typeof options === 'function' ? options : callback) as LookupCallback;
    const all =
      typeof options === 'object' && options !== null && (options as { all?: boolean }).all === true;
    const index = calls.filter((name) => name === hostname).length;
    calls.push(hostname);
    const addresses = answer(hostname.toLowerCase(), index);
    process.nextTick(() => {
      if (!addresses?.length) {
        return done(
          Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname }),
        );
      }
      const entries = addresses.map((address) => ({ address, family: net.isIP(address) }));
      if (all) done(null, entries);
      else done(null, entries[0].address, entries[0].family);
    });
  };
  return Object.assign(lookup as unknown as DnsLookup, { calls });
}

/** Fixed answers per hostname (one address or several); other names are ENOTFOUND. */
export function mappedLookup(map: Record<string, string | string[]>): FakeLookup {
  return scriptedLookup((hostname) => {
    const entry = map[hostname];
    return entry === undefined ? undefined : [entry].flat();
  });
}

/** DNS rebinding: the first answer for a name is `first`, every later answer is `then`. */
export function rebindingLookup(first: string, then: string): FakeLookup {
  return scriptedLookup((_hostname, index) => [index === 0 ? first : then]);
}
