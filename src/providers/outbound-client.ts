import dns from 'node:dns';
import net, { type LookupFunction } from 'node:net';
import { Agent, buildConnector, request } from 'undici';
import {
  OutboundPolicyError,
  isAllowlisted,
  isOutboundPolicyError,
  isPublicAddress,
} from './outbound-policy';

// The only way this module talks to the internet. It exists so that a connection test cannot be
// turned against us: no redirects, a hard deadline, a bounded body, no retries, and the outbound
// policy enforced when the socket is opened (so a DNS answer that changes between a check and the
// connect — rebinding — is judged by the address we actually connect to).

/** At most this much of an answer is read; a model list is a few hundred KiB at most. */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Why no HTTP answer came back. Internal: a result only ever says PROVIDER_UNREACHABLE, but tests
 * need to tell a policy refusal from a refused connection.
 */
export type UnreachableCause = 'policy' | 'timeout' | 'redirect' | 'network';

export type OutboundOutcome =
  /** body is the parsed JSON, or undefined when the body is empty or not JSON */
  | { kind: 'answer'; status: number; body: unknown }
  | { kind: 'unreachable'; cause: UnreachableCause }
  /** the answer was larger than MAX_BODY_BYTES: reading stopped and the connection was dropped */
  | { kind: 'oversized' };

export type DnsLookup = typeof dns.lookup;

export interface OutboundClientOptions {
  timeoutMs: number;
  allowlist: readonly string[];
  /** Replaces dns.lookup (tests); the policy still judges whatever it answers. */
  lookup?: DnsLookup;
  /** Concurrent connections per origin; tests queue behind this when exceeded. */
  connectionsPerOrigin?: number;
}

export class OutboundClient {
  private readonly agent: Agent;

  constructor(options: OutboundClientOptions) {
    this.agent = new Agent({
      connect: policedConnector(options),
      connections: options.connectionsPerOrigin ?? 64,
      // Backstops; the caller's AbortSignal is the real deadline for connect + headers + body.
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  }

  /** GET url. Never throws and never retries: every failure becomes an outcome. */
  get(url: string, headers: Record<string, string>, signal: AbortSignal): Promise<OutboundOutcome> {
    return this.send('GET', url, headers, undefined, signal);
  }

  /** POST body as JSON (a deep test's billed request), under the same rules as get. */
  post(
    url: string,
    headers: Record<string, string>,
    body: unknown,
    signal: AbortSignal,
  ): Promise<OutboundOutcome> {
    const json = { ...headers, 'content-type': 'application/json' };
    return this.send('POST', url, json, JSON.stringify(body), signal);
  }

  private async send(
    method: 'GET' | 'POST',
    url: string,
    headers: Record<string, string>,
    body: string | undefined,
    signal: AbortSignal,
  ): Promise<OutboundOutcome> {
    try {
      const response = await request(url, { method, headers, body, signal, dispatcher: this.agent });
      if (response.statusCode >= 300 && response.statusCode < 400) {
        discard(response.body);
        return { kind: 'unreachable', cause: 'redirect' };
      }
      const text = await readCapped(response.body);
      if (text === undefined) return { kind: 'oversized' };
      return { kind: 'answer', status: response.statusCode, body: parseJson(text) };
    } catch (err) {
      return { kind: 'unreachable', cause: causeOf(err, signal) };
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

type Body = Awaited<ReturnType<typeof request>>['body'];

/** Drops the connection instead of reading on; undici reports that as an error nobody needs. */
function discard(body: Body): void {
  body.on('error', () => undefined);
  body.destroy();
}

async function readCapped(body: Body): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      discard(body);
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return text.trim() ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    return undefined;
  }
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

function causeOf(err: unknown, signal: AbortSignal): UnreachableCause {
  if (isOutboundPolicyError(err)) return 'policy';
  if (signal.aborted) return 'timeout';
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TIMEOUT_CODES.has(code) ? 'timeout' : 'network';
}

/**
 * The connect hook: allowlisted host[:port] connects as asked (operators' proxies, test fakes);
 * anything else must be https on 443 and reach only public addresses. IP literals never go through
 * DNS, so they are judged here; names are judged inside the lookup that net.connect itself calls.
 */
function policedConnector(options: OutboundClientOptions): buildConnector.connector {
  const timeout = options.timeoutMs;
  const trusted = buildConnector({
    timeout,
    ...(options.lookup ? { lookup: options.lookup } : {}),
  });
  const policed = buildConnector({ timeout, lookup: publicOnlyLookup(options.lookup ?? dns.lookup) });

  return (target, callback) => {
    const port = Number(target.port) || (target.protocol === 'https:' ? 443 : 80);
    if (isAllowlisted(options.allowlist, target.hostname, port)) return trusted(target, callback);
    if (target.protocol !== 'https:' || port !== 443) {
      return callback(new OutboundPolicyError('only https on port 443'), null);
    }
    if (net.isIP(target.hostname) && !isPublicAddress(target.hostname)) {
      return callback(new OutboundPolicyError('not a public address'), null);
    }
    return policed(target, callback);
  };
}

/**
 * Wraps a dns.lookup-style function so that net.connect only ever receives public addresses. All
 * addresses are resolved and one bad address refuses the whole answer: with happy-eyeballs, Node
 * would otherwise fall through from a public decoy to the private address behind it.
 */
export function publicOnlyLookup(lookup: DnsLookup): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', undefined);
      if (addresses.length === 0) {
        return callback(Object.assign(new Error('no address'), { code: 'ENOTFOUND' }), '', undefined);
      }
      if (!addresses.every((entry) => isPublicAddress(entry.address))) {
        return callback(new OutboundPolicyError('name resolves to a non-public address'), '', undefined);
      }
      if (options.all) return callback(null, addresses);
      return callback(null, addresses[0].address, addresses[0].family);
    });
  };
}
