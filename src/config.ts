import fs from 'node:fs';
import path from 'node:path';
import { PROVIDER_ADAPTERS } from './providers/adapters';
import { AiProvider } from './providers/ai-provider.enum';
import { DEFAULT_TIMEOUT_MS } from './providers/connection-tester';
import { isAllowlisted } from './providers/outbound-policy';
import type { BaseUrls } from './providers/provider-adapter';

// Every environment variable the service reads is read and checked here, once, at start-up.
// A wrong value stops the process with one line that names the variable and what it expects.

export class ConfigError extends Error {
  constructor(variable: string, expected: string) {
    super(`${variable}: ${expected}`);
    this.name = 'ConfigError';
  }
}

export type Env = Record<string, string | undefined>;

export interface Config {
  production: boolean;
  host: string;
  port: number;
  /** Origins (scheme://host[:port]) whose pages may call the API from a browser (CORS); none by default. */
  corsOrigins: string[];
  /** Where generated development secrets and the embedded database live. */
  dataDir: string;
  /**
   * MySQL: the URL without its query; `socketPath` (from `?socket=`) replaces its host and port; `tls`
   * from `?ssl-mode=` and `?ssl-ca=`.
   */
  database:
    { type: 'mysql'; url: string; socketPath?: string; tls?: DatabaseTls } | { type: 'sqlite'; file: string };
  logLevel: string;
  auth: {
    jwtSecret: string | undefined;
    jwksUrl: string | undefined;
    issuer: string | undefined;
    audience: string | undefined;
    /** AUTH_MAX_TOKEN_AGE in seconds: tokens issued longer ago are refused. */
    maxTokenAgeSeconds: number | undefined;
  };
  masterKeys: string | undefined;
  providers: {
    baseUrls: BaseUrls;
    timeoutMs: number;
    outboundAllowlist: string[];
  };
  testRateLimitPerMinute: number;
  graphql: {
    /** GraphiQL at GET /graphql and introspection: on outside production, off in it unless GRAPHQL_PLAYGROUND=true. */
    playground: boolean;
    maxDepth: number;
    maxAliases: number;
    maxTokens: number;
    maxDirectives: number;
    maxCost: number;
    maxBodyBytes: number;
  };
  builtin: { provider: AiProvider; apiKeys: Partial<Record<AiProvider, string>> };
  /** The "AI Provider Keys" page at GET /settings: on outside production, off in it unless SETTINGS_PAGE=true. */
  settingsPage: boolean;
  /** How long a client may take and how many may be connected: slow or idle clients must not hold sockets. */
  http: { headersTimeoutMs: number; requestTimeoutMs: number; maxConnections: number };
  /** The internal credential API's own listener; undefined when INTERNAL_PORT is unset (off). */
  internal: InternalConfig | undefined;
  /** INTERNAL_AUDIENCE: the `aud` of service tokens (refused on /graphql). */
  internalAudience: string;
  /** WEBHOOK_URL and WEBHOOK_SECRET: where events about keys go; undefined when no webhooks are sent. */
  webhook: { url: string; secret: string } | undefined;
  /**
   * REDIS_URL: the connection-test rate limit is counted there instead of in the database;
   * REDIS_KEY_PREFIX (default `byok`) starts every key it writes, so that services can share a Redis.
   */
  redis: { url: string; keyPrefix: string } | undefined;
  /**
   * METRICS_PORT: GET /metrics on a listener of its own (host INTERNAL_HOST, default 127.0.0.1); unset,
   * /metrics is served on the internal listener, when there is one.
   */
  metrics: { host: string; port: number } | undefined;
  /** KEY_MONITOR, KEY_MONITOR_INTERVAL_HOURS, KEY_MONITOR_CONCURRENCY: the key monitor (src/monitor/). */
  monitor: MonitorConfig;
}

export interface MonitorConfig {
  enabled: boolean;
  /** About how often each key is tested (spread ±10%). */
  intervalMs: number;
  /** Tests at once per process. */
  concurrency: number;
}

/** The mysql client's --ssl-mode values that ask for TLS (DISABLED and PREFERRED are not offered). */
export const SSL_MODES = ['REQUIRED', 'VERIFY_CA', 'VERIFY_IDENTITY'] as const;

/**
 * DATABASE_URL's TLS: REQUIRED encrypts without checking the server's certificate; VERIFY_CA checks it
 * against `ca` (PEM contents); VERIFY_IDENTITY checks the host name too.
 */
export interface DatabaseTls {
  mode: (typeof SSL_MODES)[number];
  ca?: string;
}

export interface InternalConfig {
  host: string;
  port: number;
  /** PEM contents, read at start-up; `ca` asks every client for a certificate signed by it (mutual TLS). */
  tls: { cert: string; key: string; ca?: string } | undefined;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function optional(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(name, `expected a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return Number(raw);
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = optional(env, name);
  if (raw === undefined) return fallback;
  if (raw !== 'true' && raw !== 'false') throw new ConfigError(name, `expected true or false, got "${raw}"`);
  return raw === 'true';
}

const DURATION_UNITS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3_600, d: 86_400 };

/** A duration such as 90s, 15m, 12h or 1d (or plain seconds), in seconds. */
function duration(env: Env, name: string): number | undefined {
  const raw = optional(env, name);
  if (raw === undefined) return undefined;
  const match = /^(\d{1,7})\s*([smhd]?)$/.exec(raw);
  const seconds = match ? Number(match[1]) * DURATION_UNITS[match[2] || 's'] : 0;
  if (seconds < 1) throw new ConfigError(name, `expected a duration such as 15m, 12h or 1d, got "${raw}"`);
  return seconds;
}

function httpUrl(env: Env, name: string, fallback?: string): string | undefined {
  const raw = optional(env, name) ?? fallback;
  if (raw === undefined) return undefined;
  // The value is never quoted back: a URL may carry a password (https://user:password@proxy).
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(
      name,
      'expected an http(s) URL such as https://api.example.com/v1, got something that is not a URL',
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(
      name,
      `expected an http(s) URL, got a ${url.protocol.replace(/[^a-z0-9+.:-]/gi, '')} URL`,
    );
  }
  return raw.replace(/\/+$/, '');
}

const ORIGIN_EXPECTED =
  'expected comma-separated exact origins such as https://app.example.com or http://127.0.0.1:5173 (scheme, host and optional port; no path, no wildcard)';

/** Each entry is one origin, stored as browsers send it in `Origin` (lower case, no default port). */
function origins(env: Env, name: string): string[] {
  const entries = (optional(env, name) ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  return entries.map((entry, index) => {
    // An origin has no user info, so an entry with "@" is not echoed: it may carry a password.
    if (entry.includes('@'))
      throw new ConfigError(name, `entry ${index + 1} has a user name or password; ${ORIGIN_EXPECTED}`);
    const url = URL.canParse(entry) ? new URL(entry) : undefined;
    const exact = url && /^https?:$/.test(url.protocol) && url.pathname === '/' && !/[*?#]/.test(entry);
    if (!url || !exact) throw new ConfigError(name, `${ORIGIN_EXPECTED}; entry ${index + 1} is "${entry}"`);
    return url.origin;
  });
}

/** The contents of a PEM file named by a variable, read now so that a wrong path stops start-up. */
function pemFile(env: Env, name: string): string | undefined {
  const file = optional(env, name);
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(name, `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (!text.includes('-----BEGIN ')) throw new ConfigError(name, `${file} is not a PEM file`);
  return text;
}

function internalFrom(env: Env, production: boolean, publicPort: number): InternalConfig | undefined {
  if (optional(env, 'INTERNAL_PORT') === undefined) {
    const stray = ['INTERNAL_TLS_CERT', 'INTERNAL_TLS_KEY', 'INTERNAL_TLS_CA'].find((name) =>
      optional(env, name),
    );
    if (stray)
      throw new ConfigError(
        stray,
        'is set but INTERNAL_PORT is not: set INTERNAL_PORT to serve the internal credential API',
      );
    return undefined;
  }
  const port = integer(env, 'INTERNAL_PORT', 0, 0, 65535);
  if (port !== 0 && port === publicPort)
    throw new ConfigError('INTERNAL_PORT', `must differ from PORT (${publicPort})`);
  const cert = pemFile(env, 'INTERNAL_TLS_CERT');
  const key = pemFile(env, 'INTERNAL_TLS_KEY');
  const ca = pemFile(env, 'INTERNAL_TLS_CA');
  if (Boolean(cert) !== Boolean(key)) {
    throw new ConfigError(
      cert ? 'INTERNAL_TLS_KEY' : 'INTERNAL_TLS_CERT',
      'INTERNAL_TLS_CERT and INTERNAL_TLS_KEY go together',
    );
  }
  if (ca && !cert)
    throw new ConfigError('INTERNAL_TLS_CA', 'mutual TLS needs INTERNAL_TLS_CERT and INTERNAL_TLS_KEY too');
  if (production && !cert && !boolean(env, 'INTERNAL_PLAINTEXT', false)) {
    throw new ConfigError(
      'INTERNAL_PORT',
      'in production the internal credential API needs TLS (INTERNAL_TLS_CERT, INTERNAL_TLS_KEY), or INTERNAL_PLAINTEXT=true when a sidecar or mesh encrypts',
    );
  }
  return {
    host: optional(env, 'INTERNAL_HOST') ?? '127.0.0.1',
    port,
    tls: cert && key ? { cert, key, ca } : undefined,
  };
}

/** OUTBOUND_ALLOWLIST: "host" or "host:port" entries, lower case. */
function allowlistOf(env: Env): string[] {
  return (optional(env, 'OUTBOUND_ALLOWLIST') ?? '')
    .split(',')
    .map((entry) => entry.trim().toLowerCase())
    .filter(Boolean);
}

const SECRET_EXPECTED =
  'expected whsec_ followed by the base64 of 24 to 64 random bytes, as Standard Webhooks has it (e.g. `echo "whsec_$(openssl rand -base64 32)"`)';

/**
 * The platform's webhook endpoint: https, or http outside production and to OUTBOUND_ALLOWLIST hosts
 * (a receiver beside the service). Neither value is ever quoted back: both may hold credentials.
 */
function webhookFrom(env: Env, production: boolean, allowlist: string[]): Config['webhook'] {
  const raw = optional(env, 'WEBHOOK_URL');
  const secret = optional(env, 'WEBHOOK_SECRET');
  if (raw === undefined) {
    if (secret !== undefined)
      throw new ConfigError('WEBHOOK_SECRET', 'is set but WEBHOOK_URL is not: set both, or neither');
    return undefined;
  }
  const url = URL.canParse(raw) ? new URL(raw) : undefined;
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new ConfigError(
      'WEBHOOK_URL',
      'expected an https URL such as https://platform.example.com/webhooks/byok',
    );
  }
  const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
  if (url.protocol === 'http:' && production && !isAllowlisted(allowlist, url.hostname, port)) {
    throw new ConfigError(
      'WEBHOOK_URL',
      'must be https in production (plain http only to a host in OUTBOUND_ALLOWLIST, such as a receiver on the same machine)',
    );
  }
  if (secret === undefined)
    throw new ConfigError('WEBHOOK_SECRET', `required with WEBHOOK_URL; ${SECRET_EXPECTED}`);
  const encoded = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : '';
  const bytes = /^[A-Za-z0-9+/]+={0,2}$/.test(encoded) ? Buffer.from(encoded, 'base64').length : 0;
  if (bytes < 24 || bytes > 64) throw new ConfigError('WEBHOOK_SECRET', SECRET_EXPECTED);
  return { url: url.toString(), secret };
}

function metricsFrom(env: Env, publicPort: number): Config['metrics'] {
  if (optional(env, 'METRICS_PORT') === undefined) return undefined;
  const port = integer(env, 'METRICS_PORT', 0, 0, 65535);
  if (port !== 0 && port === publicPort)
    throw new ConfigError('METRICS_PORT', `must differ from PORT (${publicPort}): metrics are never public`);
  if (port !== 0 && port === integer(env, 'INTERNAL_PORT', 0, 0, 65535))
    throw new ConfigError(
      'METRICS_PORT',
      'must differ from INTERNAL_PORT (unset it to serve /metrics there)',
    );
  return { host: optional(env, 'INTERNAL_HOST') ?? '127.0.0.1', port };
}

/** REDIS_URL: redis:// or rediss:// (TLS). Never quoted back: it may carry a password. */
function redisFrom(env: Env): Config['redis'] {
  const raw = optional(env, 'REDIS_URL');
  const prefix = optional(env, 'REDIS_KEY_PREFIX');
  if (raw === undefined) {
    if (prefix !== undefined)
      throw new ConfigError('REDIS_KEY_PREFIX', 'is set but REDIS_URL is not: set REDIS_URL as well');
    return undefined;
  }
  const url = URL.canParse(raw) ? new URL(raw) : undefined;
  if (!url || !/^rediss?:$/.test(url.protocol) || !url.hostname)
    throw new ConfigError(
      'REDIS_URL',
      'expected redis://[user:password@]host:port[/db] (or rediss:// for TLS), such as redis://127.0.0.1:6379',
    );
  if (!/^\/?(\d{1,2})?$/.test(url.pathname))
    throw new ConfigError('REDIS_URL', 'the path may only be a database number, such as redis://host:6379/0');
  const keyPrefix = prefix ?? 'byok';
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(keyPrefix))
    throw new ConfigError(
      'REDIS_KEY_PREFIX',
      `expected 1 to 64 letters, digits, "_", ".", ":" or "-", got "${keyPrefix}"`,
    );
  return { url: raw, keyPrefix };
}

/** Fractions accepted (0.001 h is 3.6 s, for tests); at most a year. */
const MIN_INTERVAL_HOURS = 0.0001;
const MAX_INTERVAL_HOURS = 8_760;

function monitorFrom(env: Env): MonitorConfig {
  const switched = optional(env, 'KEY_MONITOR') ?? 'on';
  if (switched !== 'on' && switched !== 'off') {
    throw new ConfigError('KEY_MONITOR', `expected on or off, got "${switched}"`);
  }
  const rawHours = optional(env, 'KEY_MONITOR_INTERVAL_HOURS') ?? '24';
  const hours = /^(\d+(\.\d*)?|\.\d+)$/.test(rawHours) ? Number(rawHours) : NaN;
  if (!(hours >= MIN_INTERVAL_HOURS && hours <= MAX_INTERVAL_HOURS)) {
    throw new ConfigError(
      'KEY_MONITOR_INTERVAL_HOURS',
      `expected hours from ${MIN_INTERVAL_HOURS} to ${MAX_INTERVAL_HOURS} (fractions accepted, e.g. 24 or 0.5), got "${rawHours}"`,
    );
  }
  return {
    enabled: switched === 'on',
    intervalMs: Math.round(hours * 3_600_000),
    concurrency: integer(env, 'KEY_MONITOR_CONCURRENCY', 4, 1, 100),
  };
}

function databaseFrom(env: Env, dataDir: string): Config['database'] {
  const url = optional(env, 'DATABASE_URL');
  if (url === undefined) return { type: 'sqlite', file: path.join(dataDir, 'byok.sqlite') };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError('DATABASE_URL', 'expected mysql://user:pass@host:port/database');
  }
  if (parsed.protocol !== 'mysql:' || !parsed.hostname || parsed.pathname.length < 2) {
    throw new ConfigError(
      'DATABASE_URL',
      'expected mysql://user:pass@host:port/database (a database name is required)',
    );
  }
  if (!/^\/[A-Za-z0-9_$]{1,64}$/.test(parsed.pathname)) {
    throw new ConfigError(
      'DATABASE_URL',
      'the database name may hold only letters, digits, _ and $ (at most 64)',
    );
  }
  const unknown = [...parsed.searchParams.keys()].find((name) => !DATABASE_PARAMETERS.includes(name));
  if (unknown !== undefined) {
    throw new ConfigError(
      'DATABASE_URL',
      `unknown parameter "${unknown.slice(0, 32)}": the parameters are socket=/path/to/mysqld.sock, ssl-mode=${SSL_MODES.join('|')} and ssl-ca=/path/to/ca.pem`,
    );
  }
  const tls = databaseTlsFrom(parsed.searchParams);
  const socketPath = parsed.searchParams.get('socket') ?? undefined;
  if (socketPath !== undefined && !path.isAbsolute(socketPath)) {
    throw new ConfigError(
      'DATABASE_URL',
      `socket must be an absolute path, e.g. socket=/run/mysqld/mysqld.sock, got "${socketPath}"`,
    );
  }
  const withoutQuery = url.split('?')[0];
  return {
    type: 'mysql',
    url: withoutQuery,
    ...(socketPath ? { socketPath } : {}),
    ...(tls ? { tls } : {}),
  };
}

const DATABASE_PARAMETERS = ['socket', 'ssl-mode', 'ssl-ca'];

/** ssl-mode and ssl-ca, as the mysql client names them; the CA file is read now. */
function databaseTlsFrom(params: URLSearchParams): DatabaseTls | undefined {
  const rawMode = params.get('ssl-mode');
  const caFile = params.get('ssl-ca');
  if (rawMode === null && caFile === null) return undefined;
  // Like the mysql client: a CA without a mode asks for the CA to be checked.
  const mode = (rawMode ?? 'VERIFY_CA').toUpperCase();
  const known: readonly string[] = SSL_MODES;
  if (!known.includes(mode))
    throw new ConfigError(
      'DATABASE_URL',
      `ssl-mode must be one of ${SSL_MODES.join(', ')}, got "${mode.slice(0, 32)}"`,
    );
  if (mode === 'REQUIRED' && caFile !== null)
    throw new ConfigError(
      'DATABASE_URL',
      'ssl-mode=REQUIRED checks no certificate, so ssl-ca would be ignored: use ssl-mode=VERIFY_CA (the CA) or VERIFY_IDENTITY (the CA and the host name)',
    );
  if (mode !== 'REQUIRED' && caFile === null)
    throw new ConfigError(
      'DATABASE_URL',
      `ssl-mode=${mode} needs ssl-ca=/path/to/ca.pem, the CA that signed the server's certificate (your provider publishes it)`,
    );
  if (caFile === null) return { mode: 'REQUIRED' };
  let ca: string;
  try {
    ca = fs.readFileSync(caFile, 'utf8');
  } catch (error) {
    throw new ConfigError(
      'DATABASE_URL',
      `ssl-ca: cannot read ${caFile} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  if (!ca.includes('-----BEGIN CERTIFICATE-----'))
    throw new ConfigError('DATABASE_URL', `ssl-ca: ${caFile} holds no PEM certificate`);
  return { mode: mode as DatabaseTls['mode'], ca };
}

export function loadConfig(env: Env = process.env): Config {
  const production = env.NODE_ENV === 'production';
  const dataDir = path.resolve(optional(env, 'DATA_DIR') ?? 'data');

  const logLevel = optional(env, 'LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `expected one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }

  const jwtSecret =
    env.AUTH_JWT_SECRET === undefined || env.AUTH_JWT_SECRET === '' ? undefined : env.AUTH_JWT_SECRET;
  if (jwtSecret !== undefined && Buffer.byteLength(jwtSecret, 'utf8') < 32) {
    throw new ConfigError('AUTH_JWT_SECRET', 'expected at least 32 bytes (e.g. `openssl rand -base64 48`)');
  }
  const jwksUrl = httpUrl(env, 'AUTH_JWKS_URL');
  if (production && !jwtSecret && !jwksUrl) {
    throw new ConfigError('AUTH_JWT_SECRET', 'required in production (or set AUTH_JWKS_URL)');
  }

  // A hosted provider only: Azure needs a customer's own endpoint and deployment, so it cannot be the
  // platform's allocation.
  const hosted = PROVIDER_ADAPTERS.filter((adapter) => adapter.api);
  const builtinProvider = optional(env, 'BUILTIN_PROVIDER') ?? AiProvider.OPENAI;
  const builtinChoices: string[] = hosted.map((adapter) => adapter.provider);
  if (!builtinChoices.includes(builtinProvider)) {
    throw new ConfigError(
      'BUILTIN_PROVIDER',
      `expected one of ${builtinChoices.join(', ')}, got "${builtinProvider}"`,
    );
  }
  const apiKeys: Partial<Record<AiProvider, string>> = {};
  for (const { provider } of PROVIDER_ADAPTERS) {
    const key = optional(env, `BUILTIN_${provider}_API_KEY`);
    if (key) apiKeys[provider] = key;
  }

  const headersTimeoutMs = integer(env, 'HTTP_HEADERS_TIMEOUT_MS', 10_000, 1_000, 600_000);
  const requestTimeoutMs = integer(env, 'HTTP_REQUEST_TIMEOUT_MS', 30_000, 1_000, 600_000);
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new ConfigError(
      'HTTP_HEADERS_TIMEOUT_MS',
      `must not exceed HTTP_REQUEST_TIMEOUT_MS (${requestTimeoutMs}), got ${headersTimeoutMs}`,
    );
  }

  const port = integer(env, 'PORT', 4000, 0, 65535);

  return {
    production,
    host: optional(env, 'HOST') ?? '127.0.0.1',
    port,
    corsOrigins: origins(env, 'CORS_ORIGINS'),
    dataDir,
    database: databaseFrom(env, dataDir),
    logLevel,
    auth: {
      jwtSecret,
      jwksUrl,
      issuer: optional(env, 'AUTH_ISSUER'),
      audience: optional(env, 'AUTH_AUDIENCE'),
      maxTokenAgeSeconds: duration(env, 'AUTH_MAX_TOKEN_AGE'),
    },
    // Set but blank is a mistake the keyring reports, not a request for a generated development key.
    masterKeys: env.BYOK_MASTER_KEYS,
    providers: {
      baseUrls: Object.fromEntries(
        hosted.map(({ provider, api }) => [provider, httpUrl(env, api!.env, api!.baseUrl)!]),
      ),
      timeoutMs: integer(env, 'PROVIDER_TIMEOUT_MS', DEFAULT_TIMEOUT_MS, 100, 120_000),
      outboundAllowlist: allowlistOf(env),
    },
    testRateLimitPerMinute: integer(env, 'TEST_RATE_LIMIT_PER_MINUTE', 10, 1, 10_000),
    graphql: {
      playground: boolean(env, 'GRAPHQL_PLAYGROUND', !production),
      maxDepth: integer(env, 'GRAPHQL_MAX_DEPTH', 10, 2, 100),
      maxAliases: integer(env, 'GRAPHQL_MAX_ALIASES', 15, 0, 1_000),
      maxTokens: integer(env, 'GRAPHQL_MAX_TOKENS', 1_000, 50, 100_000),
      maxDirectives: integer(env, 'GRAPHQL_MAX_DIRECTIVES', 10, 0, 1_000),
      maxCost: integer(env, 'GRAPHQL_MAX_COST', 12_000, 10, 1_000_000),
      maxBodyBytes: integer(env, 'GRAPHQL_MAX_BODY_BYTES', 100 * 1024, 1_024, 10 * 1024 * 1024),
    },
    builtin: { provider: builtinProvider as AiProvider, apiKeys },
    settingsPage: boolean(env, 'SETTINGS_PAGE', !production),
    http: {
      headersTimeoutMs,
      requestTimeoutMs,
      maxConnections: integer(env, 'HTTP_MAX_CONNECTIONS', 1_000, 1, 1_000_000),
    },
    internal: internalFrom(env, production, port),
    internalAudience: optional(env, 'INTERNAL_AUDIENCE') ?? 'byok-internal',
    webhook: webhookFrom(env, production, allowlistOf(env)),
    redis: redisFrom(env),
    metrics: metricsFrom(env, port),
    monitor: monitorFrom(env),
  };
}
