import pino, { DestinationStream, Logger } from 'pino';

// One pino logger for the process. Anything under a key that names a secret is redacted at any depth
// (GraphQL variables included), on top of pino's path-based redaction of the authorization header. (No
// wildcard path there: pino would run it over every key of every line; the scrub covers any depth.)

// sql and parameters: a failed query's error carries its values (sealed key material included).
const SECRET_KEY =
  /api[-_]?key|secret|token|password|passphrase|authorization|cookie|ciphertext|wrapped|plaintext|credential|^sql$|^parameters$/i;
const REDACTED = '[Redacted]';

/** Names already judged: a busy service's lines repeat the same few (bounded, as names may be client input). */
const judged = new Map<string, boolean>();
function isSecretKey(key: string): boolean {
  let secret = judged.get(key);
  if (secret === undefined) {
    secret = SECRET_KEY.test(key);
    if (judged.size < 1_000) judged.set(key, secret);
  }
  return secret;
}

/** The value with every secret-named entry redacted; the value itself when nothing in it is (most lines). */
function scrub(value: unknown, depth = 0): unknown {
  if (depth > 20 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return value;
  if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1));
  let out: Record<string, unknown> | undefined;
  for (const [key, item] of Object.entries(value)) {
    const clean = isSecretKey(key) ? REDACTED : scrub(item, depth + 1);
    if (clean !== item) out ??= { ...value };
    if (out) out[key] = clean;
  }
  return out ?? value;
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      redact: { paths: ['req.headers.authorization', 'headers.authorization'], censor: REDACTED },
      formatters: { log: (object) => scrub(object) as Record<string, unknown> },
      // Errors are serialized after the formatter runs, so they are scrubbed here.
      serializers: { err: (error: Error) => scrub(pino.stdSerializers.err(error)) },
    },
    // stdout without blocking the event loop, written in chunks of 4 KiB (a write per line cost a busy
    // service about 8% of its CPU per request) and at least every 250 ms, so a quiet service's lines
    // still show at once. main.ts flushes it before exiting; pino flushes it when the process exits.
    destination ?? pino.destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: 250 }),
  );
}

export type { Logger };
