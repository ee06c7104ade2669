import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { loadKeyring, parseKeyring } from '../../src/crypto/keyring';

const b64 = (bytes: Buffer) => bytes.toString('base64');
const keyA = randomBytes(32);
const keyB = randomBytes(32);

// The last character of a 32-byte key's base64 carries two unused bits, which must be zero.
function withLowBitFlipped(char: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  return alphabet[alphabet.indexOf(char) ^ 1];
}

function parseError(spec: string): string {
  try {
    parseKeyring(spec);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected parseKeyring to throw');
}

describe('parseKeyring', () => {
  it('reads versions and keys; the highest version is current', () => {
    const keyring = parseKeyring(` 2:${b64(keyB)} ,\n 1:${b64(keyA)} `);
    expect(keyring.versions).toEqual([1, 2]);
    expect(keyring.currentVersion).toBe(2);
    expect(keyring.has(1)).toBe(true);
    expect(keyring.has(3)).toBe(false);
    expect(keyring.key(1).equals(keyA)).toBe(true);
    expect(keyring.key(2).equals(keyB)).toBe(true);
    expect(() => keyring.key(3)).toThrow(/no master key version 3/);
  });

  it('accepts url-safe and unpadded base64', () => {
    const urlSafe = keyA.toString('base64url'); // 43 characters, no padding
    expect(parseKeyring(`1:${urlSafe}`).key(1).equals(keyA)).toBe(true);
    expect(parseKeyring(`1:${urlSafe}=`).key(1).equals(keyA)).toBe(true);
    expect(
      parseKeyring(`1:${b64(keyA).replace(/=+$/, '')}`)
        .key(1)
        .equals(keyA),
    ).toBe(true);
  });

  it('hands out copies, so zeroing one does not damage the ring', () => {
    const keyring = parseKeyring(`1:${b64(keyA)}`);
    keyring.key(1).fill(0);
    expect(keyring.key(1).equals(keyA)).toBe(true);
  });

  it('shows no key material when logged or serialised', () => {
    const keyring = parseKeyring(`1:${b64(keyA)}`);
    const shown = JSON.stringify(keyring) + inspect(keyring, { depth: 5, showHidden: true });
    expect(shown).not.toContain(b64(keyA));
    expect(shown).not.toContain(keyA.toString('hex'));
  });

  const good = b64(keyA);
  const bad: Array<[string, string, RegExp]> = [
    ['empty', '', /is empty/],
    ['blank', '   ', /is empty/],
    ['no separator', good, /entry 1 .*no ':'/],
    ['a stray comma', `1:${good},`, /entry 2 .*empty/],
    ['a non-integer version', `1.5:${good}`, /entry 1 .*version must be a whole number/],
    ['a word as version', `one:${good}`, /entry 1 .*version must be a whole number/],
    ['version zero', `0:${good}`, /entry 1 .*version must be a whole number/],
    ['a negative version', `-1:${good}`, /entry 1 .*version must be a whole number/],
    ['a missing version', `:${good}`, /entry 1 .*version must be a whole number/],
    ['duplicate versions', `1:${good},2:${b64(keyB)},1:${b64(keyB)}`, /entries 1 and 3 both use version 1/],
    ['a 31-byte key', `1:${good},2:${b64(randomBytes(31))}`, /entry 2 .*version 2 decodes to 31 bytes/],
    ['a 33-byte key', `1:${b64(randomBytes(33))}`, /entry 1 .*decodes to 33 bytes/],
    ['a 16-byte key', `1:${b64(randomBytes(16))}`, /entry 1 .*decodes to 16 bytes/],
    ['an empty key', '1:', /entry 1 .*not valid base64/],
    ['garbage characters', `1:${good.slice(0, 20)}!${good.slice(21)}`, /entry 1 .*not valid base64/],
    ['inner whitespace', `1:${good.slice(0, 20)} ${good.slice(20)}`, /entry 1 .*not valid base64/],
    ['mixed alphabets', `1:${'+_'.repeat(21)}A=`, /entry 1 .*not valid base64/],
    ['wrong padding', `1:${good}=`, /entry 1 .*not valid base64/],
    ['a dangling character', `1:${good.replace(/=$/, '')}AA`, /entry 1 .*not valid base64/],
    [
      'non-zero trailing bits',
      `1:${good.slice(0, 42)}${withLowBitFlipped(good[42])}=`,
      /entry 1 .*not valid base64/,
    ],
    ['a key first', `${good}:1`, /entry 1 .*version must be a whole number/],
  ];

  it.each(bad)(
    'rejects %s with one line naming BYOK_MASTER_KEYS and no key material',
    (_name, spec, expected) => {
      const message = parseError(spec);
      expect(message).toMatch(/^BYOK_MASTER_KEYS\b/);
      expect(message).toMatch(expected);
      expect(message).not.toContain('\n');
      expect(message).toMatch(/<version>:<base64 of 32 bytes>|each version must be unique/);
      // Not even the start of any key text the entries hold.
      for (const entry of spec.split(',')) {
        const keyText = entry.slice(entry.indexOf(':') + 1).trim();
        if (keyText.length >= 8) expect(message).not.toContain(keyText.slice(0, 8));
      }
      expect(message).not.toContain(good.slice(0, 8));
    },
  );
});

describe('loadKeyring', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'keyring-')), 'data', 'nested');
  });
  afterEach(() => fs.rmSync(path.dirname(path.dirname(dataDir)), { recursive: true, force: true }));

  it('uses BYOK_MASTER_KEYS when set and writes no file', () => {
    const warn = jest.fn();
    const keyring = loadKeyring({ spec: `7:${b64(keyA)}`, production: true, dataDir, warn });
    expect(keyring.currentVersion).toBe(7);
    expect(warn).not.toHaveBeenCalled();
    expect(fs.existsSync(dataDir)).toBe(false);
  });

  it('treats a blank BYOK_MASTER_KEYS as a mistake, not as unset', () => {
    expect(() => loadKeyring({ spec: '', production: false, dataDir, warn: jest.fn() })).toThrow(
      /^BYOK_MASTER_KEYS is empty/,
    );
    expect(fs.existsSync(dataDir)).toBe(false);
  });

  it('outside production generates data/master-keys once, mode 0600, and warns', () => {
    const warn = jest.fn();
    const first = loadKeyring({ spec: undefined, production: false, dataDir, warn });
    const file = path.join(dataDir, 'master-keys');

    expect(first.versions).toEqual([1]);
    expect(fs.readFileSync(file, 'utf8')).toMatch(/^1:[A-Za-z0-9+/]{43}=\n$/);
    if (process.platform !== 'win32') expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatch(/generated a development master key/);
    expect(warn.mock.calls[0][0]).toContain(file);
    expect(warn.mock.calls[0][0]).toMatch(/Production needs BYOK_MASTER_KEYS/);
    expect(fs.readdirSync(dataDir)).toEqual(['master-keys']); // no temporary file left behind

    const secondWarn = jest.fn();
    const second = loadKeyring({ spec: undefined, production: false, dataDir, warn: secondWarn });
    expect(second.key(1).equals(first.key(1))).toBe(true);
    expect(secondWarn).toHaveBeenCalledTimes(1);
    expect(secondWarn.mock.calls[0][0]).toMatch(/using the development master key/);
    expect(secondWarn.mock.calls[0][0]).not.toContain(fs.readFileSync(file, 'utf8').trim().slice(2));
  });

  it('reports a damaged development file by its path, without its contents', () => {
    fs.mkdirSync(dataDir, { recursive: true });
    const file = path.join(dataDir, 'master-keys');
    fs.writeFileSync(file, `1:${b64(randomBytes(16))}\n`, { mode: 0o600 });
    expect(() => loadKeyring({ spec: undefined, production: false, dataDir, warn: jest.fn() })).toThrow(
      `BYOK_MASTER_KEYS (from ${file}): entry 1 must be <version>:<base64 of 32 bytes>; the key of version 1 decodes to 16 bytes.`,
    );
  });

  it('in production refuses to start without BYOK_MASTER_KEYS and generates nothing', () => {
    const warn = jest.fn();
    expect(() => loadKeyring({ spec: undefined, production: true, dataDir, warn })).toThrow(
      /^BYOK_MASTER_KEYS is required in production: .*randomBytes\(32\)/,
    );
    expect(fs.existsSync(dataDir)).toBe(false);
    expect(warn).not.toHaveBeenCalled();
  });
});
