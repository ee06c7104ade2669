import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ensurePrivateDir } from '../data-dir';

// The master keyring: the master keys that may unwrap stored data keys, and the one (the highest
// version) that wraps new ones. Keys come from BYOK_MASTER_KEYS; outside production a generated file
// stands in so a fresh checkout runs without setup.
//
// Error messages name an entry by position or version and never quote its text: a mistyped entry
// may still be (part of) a real key, and these messages end up in logs.

/** A keyring that cannot be used as configured: the message names BYOK_MASTER_KEYS and what to fix. */
export class KeyringError extends Error {
  override readonly name = 'KeyringError';
}

export interface Keyring {
  readonly currentVersion: number;
  readonly versions: readonly number[];
  has(version: number): boolean;
  /** A copy of the master key, so a caller that zeroes it after use cannot damage the ring. */
  key(version: number): Buffer;
}

const ENV = 'BYOK_MASTER_KEYS';
const MASTER_KEY_BYTES = 32;
// Versions are stored beside every sealed key; a signed 32-bit column holds them on any database.
const MAX_VERSION = 2_147_483_647;
const EXPECTED = `<version>:<base64 of ${MASTER_KEY_BYTES} bytes>`;
const GENERATE_HINT = `node -e "console.log('1:'+require('crypto').randomBytes(32).toString('base64'))"`;
const DEV_KEY_FILE = 'master-keys';

/**
 * Parses `<version>:<base64 key>` entries separated by commas, whitespace around entries allowed.
 * Base64 is strict: the standard alphabet (`+/`) or the url-safe one (`-_`), not mixed, padding
 * optional but correct when present, and canonical (no stray bits), so a typo cannot silently decode
 * to a different key.
 */
export function parseKeyring(spec: string): Keyring {
  return parseKeyringFrom(spec, ENV);
}

export function loadKeyring(opts: {
  spec: string | undefined;
  production: boolean;
  dataDir: string;
  warn: (message: string) => void;
}): Keyring {
  // An empty string counts as set: a blank BYOK_MASTER_KEYS is a mistake to report, not a request
  // for a throwaway development key.
  if (opts.spec !== undefined) return parseKeyring(opts.spec);
  if (opts.production) {
    throw new KeyringError(
      `${ENV} is required in production: set it to ${EXPECTED}, e.g. generated with ${GENERATE_HINT}, ` +
        'and keep it in your secret store (losing it makes every stored provider key unrecoverable).',
    );
  }

  const file = path.join(opts.dataDir, DEV_KEY_FILE);
  const created = createDevKeyFile(file);
  const keyring = parseKeyringFrom(fs.readFileSync(file, 'utf8'), `${ENV} (from ${file})`);
  opts.warn(
    `${ENV} is not set: ${created ? 'generated a development master key at' : 'using the development master key in'} ` +
      `${file}. Production needs ${ENV}; this file is for development only.`,
  );
  return keyring;
}

/**
 * The check value of one master key version: HMAC-SHA256 under that key of a fixed label. Stored per
 * version, it tells a later keyring whether it holds the same key under that version; an HMAC output
 * reveals nothing from which the key could be recovered.
 */
export function masterKeyCheckValue(keyring: Keyring, version: number): string {
  const key = keyring.key(version);
  try {
    return createHmac('sha256', key)
      .update(JSON.stringify(['master-key-check', version]), 'utf8')
      .digest('hex');
  } finally {
    key.fill(0);
  }
}

/** A keyring whose key under a known version is not the one first used under it. */
export function wrongMasterKey(version: number, why: string): KeyringError {
  return new KeyringError(
    `${ENV}: the key of master key version ${version} is not the one ${why}. Restore the original key of version ${version} ` +
      '(a new key needs a new version number).',
  );
}

function parseKeyringFrom(spec: string, source: string): Keyring {
  if (spec.trim() === '') {
    throw new KeyringError(
      `${source} is empty; expected comma-separated ${EXPECTED} entries, e.g. generated with ${GENERATE_HINT}.`,
    );
  }

  const keys = new Map<number, Buffer>();
  const positionOf = new Map<number, number>();
  spec.split(',').forEach((rawEntry, index) => {
    const position = index + 1;
    const fail = (problem: string) =>
      new KeyringError(`${source}: entry ${position} must be ${EXPECTED}; ${problem}.`);

    const entry = rawEntry.trim();
    if (entry === '') throw fail('it is empty (check for a stray comma)');
    const colon = entry.indexOf(':');
    if (colon < 0) throw fail("it has no ':' between version and key");

    const versionText = entry.slice(0, colon).trim();
    const version = Number(versionText);
    if (!/^[0-9]+$/.test(versionText) || version < 1 || version > MAX_VERSION) {
      throw fail(`its version must be a whole number from 1 to ${MAX_VERSION}`);
    }
    const earlier = positionOf.get(version);
    if (earlier !== undefined) {
      throw new KeyringError(
        `${source}: entries ${earlier} and ${position} both use version ${version}; each version must be unique.`,
      );
    }

    const key = decodeStrictBase64(entry.slice(colon + 1).trim());
    if (key === undefined) throw fail(`the key of version ${version} is not valid base64`);
    if (key.length !== MASTER_KEY_BYTES) {
      key.fill(0);
      throw fail(`the key of version ${version} decodes to ${key.length} bytes`);
    }
    keys.set(version, key);
    positionOf.set(version, position);
  });
  return keyringOf(keys);
}

function keyringOf(keys: Map<number, Buffer>): Keyring {
  const versions = Object.freeze([...keys.keys()].sort((a, b) => a - b));
  // The keys live only in this closure, so logging or serialising a Keyring shows no key material.
  return Object.freeze({
    currentVersion: versions[versions.length - 1],
    versions,
    has: (version: number) => keys.has(version),
    key(version: number): Buffer {
      const key = keys.get(version);
      if (key === undefined) throw new KeyringError(`${ENV} has no master key version ${version}.`);
      return Buffer.from(key);
    },
  });
}

function decodeStrictBase64(text: string): Buffer | undefined {
  const match = /^([A-Za-z0-9+/]+|[A-Za-z0-9_-]+)(={0,2})$/.exec(text);
  if (!match) return undefined;
  const [, body, padding] = match;
  if (padding !== '' && (body.length + padding.length) % 4 !== 0) return undefined;
  // Node's decoder accepts both alphabets and ignores what it cannot use; re-encoding and comparing
  // rejects a dangling character or non-zero trailing bits.
  const bytes = Buffer.from(body, 'base64');
  if (bytes.toString('base64url') !== body.replace(/\+/g, '-').replace(/\//g, '_')) {
    bytes.fill(0);
    return undefined;
  }
  return bytes;
}

/**
 * Creates the development key file unless it exists; true when this call created it. The key is
 * written to a private temporary file and hard-linked into place, so a process racing us sees either
 * no file or the complete one, and the loser of the race keeps the winner's key.
 */
function createDevKeyFile(file: string): boolean {
  if (fs.existsSync(file)) return false;
  ensurePrivateDir(path.dirname(file));
  const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  fs.writeFileSync(temp, `1:${randomBytes(MASTER_KEY_BYTES).toString('base64')}\n`, {
    mode: 0o600,
    flag: 'wx',
  });
  try {
    fs.linkSync(temp, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    fs.rmSync(temp, { force: true });
  }
}
