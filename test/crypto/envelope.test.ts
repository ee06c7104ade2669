import { randomBytes } from 'node:crypto';
import {
  KeyBinding,
  KeyDecryptionError,
  SealedKey,
  openKey,
  rewrapKey,
  sealKey,
} from '../../src/crypto/envelope';
import { parseKeyring } from '../../src/crypto/keyring';

const INTEGRITY = 'Stored provider key could not be decrypted (integrity check failed)';
const master1 = `1:${randomBytes(32).toString('base64')}`;
const master2 = `2:${randomBytes(32).toString('base64')}`;
const ringV1 = parseKeyring(master1);
const ringV1V2 = parseKeyring(`${master1},${master2}`);
const ringV2 = parseKeyring(master2);

const plaintext = 'sk-proj-Zx81fakeKeyForTests_0123456789abcdefXYZ';
const binding: KeyBinding = { accountId: 'acct_acme', provider: 'OPENAI', keyId: 'pk_1' };

function copy(sealed: SealedKey): SealedKey {
  return {
    ...sealed,
    ciphertext: Buffer.from(sealed.ciphertext),
    iv: Buffer.from(sealed.iv),
    tag: Buffer.from(sealed.tag),
    wrappedKey: Buffer.from(sealed.wrappedKey),
  };
}

function openError(sealed: SealedKey, bind: KeyBinding, keyring = ringV1V2): KeyDecryptionError {
  try {
    openKey(sealed, bind, keyring);
  } catch (error) {
    expect(error).toBeInstanceOf(KeyDecryptionError);
    return error as KeyDecryptionError;
  }
  throw new Error('expected openKey to fail');
}

describe('sealKey / openKey', () => {
  it('round-trips, including non-ASCII text', () => {
    expect(openKey(sealKey(plaintext, binding, ringV1), binding, ringV1)).toBe(plaintext);
    expect(openKey(sealKey('ключ-🔑', binding, ringV1), binding, ringV1)).toBe('ключ-🔑');
  });

  it('stores no plaintext, and every seal has fresh randomness', () => {
    const a = sealKey(plaintext, binding, ringV1);
    const b = sealKey(plaintext, binding, ringV1);
    const plainBytes = Buffer.from(plaintext, 'utf8');
    for (const sealed of [a, b]) {
      expect(sealed.ciphertext.equals(plainBytes)).toBe(false);
      for (const field of [sealed.ciphertext, sealed.wrappedKey, sealed.iv, sealed.tag]) {
        expect(field.includes(plainBytes.subarray(0, 8))).toBe(false);
      }
      expect([sealed.iv.length, sealed.tag.length, sealed.wrappedKey.length]).toEqual([12, 16, 60]);
      expect(sealed.masterKeyVersion).toBe(1);
    }
    expect(a.iv.equals(b.iv)).toBe(false);
    expect(a.ciphertext.equals(b.ciphertext)).toBe(false);
    expect(a.wrappedKey.subarray(0, 12).equals(b.wrappedKey.subarray(0, 12))).toBe(false); // wrap IVs
    expect(a.wrappedKey.subarray(28).equals(b.wrappedKey.subarray(28))).toBe(false); // wrapped data keys
  });

  it('refuses a binding with a blank id, which could never be opened again', () => {
    expect(() => sealKey(plaintext, { ...binding, keyId: '' }, ringV1)).toThrow(TypeError);
  });

  it.each(['ciphertext', 'iv', 'tag', 'wrappedKey'] as const)(
    'fails closed when any byte of %s is flipped',
    (field) => {
      const sealed = sealKey(plaintext, binding, ringV1);
      for (let i = 0; i < sealed[field].length; i++) {
        for (const mask of [0x01, 0x80]) {
          const tampered = copy(sealed);
          tampered[field][i] ^= mask;
          const error = openError(tampered, binding, ringV1);
          expect(error.message).toBe(INTEGRITY);
          expect(error.missingMasterKeyVersion).toBeUndefined();
        }
      }
      expect(openKey(sealed, binding, ringV1)).toBe(plaintext); // the loop tampered with copies only
    },
  );

  it.each(['ciphertext', 'iv', 'tag', 'wrappedKey'] as const)(
    'fails closed when %s is shortened or lengthened',
    (field) => {
      const sealed = sealKey(plaintext, binding, ringV1);
      const shorter = { ...copy(sealed), [field]: sealed[field].subarray(0, sealed[field].length - 1) };
      const longer = { ...copy(sealed), [field]: Buffer.concat([sealed[field], Buffer.alloc(1)]) };
      expect(openError(shorter, binding).message).toBe(INTEGRITY);
      expect(openError(longer, binding).message).toBe(INTEGRITY);
    },
  );

  it('fails closed on missing or non-buffer fields', () => {
    const sealed = sealKey(plaintext, binding, ringV1);
    for (const field of ['ciphertext', 'iv', 'tag', 'wrappedKey'] as const) {
      for (const value of [null, undefined, 'AAAA']) {
        expect(openError({ ...sealed, [field]: value as unknown as Buffer }, binding).message).toBe(
          INTEGRITY,
        );
      }
    }
    for (const version of [0, -1, 1.5, NaN, null]) {
      expect(openError({ ...sealed, masterKeyVersion: version as number }, binding).message).toBe(INTEGRITY);
    }
  });

  it.each([
    ['another key id', { keyId: 'pk_2' }],
    ['another account', { accountId: 'acct_globex' }],
    ['another provider', { provider: 'ANTHROPIC' }],
    ['a shifted boundary', { accountId: 'acct_acmeO', provider: 'PENAI' }],
  ])('fails when moved to %s', (_name, change) => {
    const sealed = sealKey(plaintext, binding, ringV1);
    expect(openError(sealed, { ...binding, ...change }).message).toBe(INTEGRITY);
  });

  it('fails when the ciphertext alone is moved to another row', () => {
    const mine = sealKey(plaintext, binding, ringV1);
    const theirs = sealKey(plaintext, { ...binding, keyId: 'pk_2' }, ringV1);
    // Their ciphertext with my wrapped key, and my wrapped key under their row.
    expect(
      openError({ ...mine, ciphertext: theirs.ciphertext, iv: theirs.iv, tag: theirs.tag }, binding).message,
    ).toBe(INTEGRITY);
    expect(openError({ ...theirs, wrappedKey: mine.wrappedKey }, { ...binding, keyId: 'pk_2' }).message).toBe(
      INTEGRITY,
    );
  });

  it('fails when the master key version is relabeled', () => {
    // The same master key under two versions: only the authenticated version label can tell them apart.
    const sameKeyTwice = parseKeyring(`${master1},${master1.replace(/^1:/, '2:')}`);
    const sealed = sealKey(plaintext, binding, sameKeyTwice);
    expect(sealed.masterKeyVersion).toBe(2);
    expect(openError({ ...sealed, masterKeyVersion: 1 }, binding, sameKeyTwice).message).toBe(INTEGRITY);
    expect(openError({ ...sealKey(plaintext, binding, ringV1), masterKeyVersion: 2 }, binding).message).toBe(
      INTEGRITY,
    );
  });

  it('names the missing master key version, and nothing else, when the keyring lacks it', () => {
    const sealed = sealKey(plaintext, binding, ringV1);
    const error = openError(sealed, binding, ringV2);
    expect(error.message).toBe(
      'Stored provider key needs master key version 1, which BYOK_MASTER_KEYS does not contain',
    );
    expect(error.missingMasterKeyVersion).toBe(1);
    expect(() => rewrapKey(sealed, binding, ringV2)).toThrow(error.message);
  });
});

describe('master key rotation', () => {
  it('keeps version 1 keys readable after version 2 is added, and seals new keys under version 2', () => {
    const old = sealKey(plaintext, binding, ringV1);
    expect(openKey(old, binding, ringV1V2)).toBe(plaintext);
    const fresh = sealKey(plaintext, binding, ringV1V2);
    expect(fresh.masterKeyVersion).toBe(2);
    expect(openKey(fresh, binding, ringV1V2)).toBe(plaintext);
    expect(openError(fresh, binding, ringV1).missingMasterKeyVersion).toBe(2);
  });

  it('rewraps to version 2 without touching the ciphertext; the result opens without version 1', () => {
    const old = sealKey(plaintext, binding, ringV1);
    const before = copy(old);
    const rewrapped = rewrapKey(old, binding, ringV1V2);

    expect(Object.keys(rewrapped).sort()).toEqual(['masterKeyVersion', 'wrappedKey']);
    expect(rewrapped.masterKeyVersion).toBe(2);
    expect(rewrapped.wrappedKey.length).toBe(60);
    expect(rewrapped.wrappedKey.equals(old.wrappedKey)).toBe(false);
    expect(old).toEqual(before); // the input row is not modified

    const row: SealedKey = { ...old, ...rewrapped };
    expect(
      row.ciphertext.equals(before.ciphertext) && row.iv.equals(before.iv) && row.tag.equals(before.tag),
    ).toBe(true);
    expect(openKey(row, binding, ringV2)).toBe(plaintext);
    expect(openKey(row, binding, ringV1V2)).toBe(plaintext);
  });

  it('is safe to repeat on a row that is already current', () => {
    const row = sealKey(plaintext, binding, ringV1V2);
    const again = { ...row, ...rewrapKey(row, binding, ringV1V2) };
    expect(again.masterKeyVersion).toBe(2);
    expect(openKey(again, binding, ringV2)).toBe(plaintext);
  });

  it('refuses to rewrap a tampered or moved wrapped key', () => {
    const row = sealKey(plaintext, binding, ringV1);
    const tampered = copy(row);
    tampered.wrappedKey[40] ^= 1;
    expect(() => rewrapKey(tampered, binding, ringV1V2)).toThrow(new KeyDecryptionError(INTEGRITY));
    expect(() => rewrapKey(row, { ...binding, keyId: 'pk_2' }, ringV1V2)).toThrow(KeyDecryptionError);
  });
});
