import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Keyring } from './keyring';

// Envelope encryption of customers' provider keys. Each key gets its own random data key
// (AES-256-GCM); the data key is stored wrapped under a master key of the keyring. Rotating the
// master key therefore rewraps 60 bytes per row and never touches the provider key itself.
//
// Both layers authenticate the row they belong to (account, provider, key id) and the wrap also
// authenticates the master key version, so a ciphertext or wrapped key copied to another row, or a
// row relabeled to another version, fails to open instead of decrypting under the wrong identity.
// Every failure is a KeyDecryptionError with a fixed message: no partial output, no key bytes, and
// nothing that tells a tamperer which part was wrong.

/** Associated data: the row a sealed key belongs to. */
export interface KeyBinding {
  accountId: string;
  provider: string;
  keyId: string;
}

export interface SealedKey {
  ciphertext: Buffer;
  iv: Buffer;
  tag: Buffer;
  /** wrapIv (12) ‖ wrapTag (16) ‖ encrypted data key (32) */
  wrappedKey: Buffer;
  masterKeyVersion: number;
}

const INTEGRITY_FAILED = 'Stored provider key could not be decrypted (integrity check failed)';

export class KeyDecryptionError extends Error {
  override readonly name = 'KeyDecryptionError';

  /** Set when the row needs a master key version the keyring lacks (not tampering: configuration). */
  readonly missingMasterKeyVersion: number | undefined;

  constructor(message = INTEGRITY_FAILED, missingMasterKeyVersion?: number) {
    super(message);
    this.missingMasterKeyVersion = missingMasterKeyVersion;
  }
}

const CIPHER = 'aes-256-gcm';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const WRAPPED_KEY_BYTES = IV_BYTES + TAG_BYTES + KEY_BYTES;

export function sealKey(plaintext: string, binding: KeyBinding, keyring: Keyring): SealedKey {
  // A key sealed to a blank id (say, before its row id is known) could never be opened again.
  if (
    ![binding.accountId, binding.provider, binding.keyId].every((id) => typeof id === 'string' && id !== '')
  ) {
    throw new TypeError('sealKey needs a binding with non-empty accountId, provider and keyId');
  }
  const dataKey = randomBytes(KEY_BYTES);
  const plainBytes = Buffer.from(plaintext, 'utf8');
  try {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(CIPHER, dataKey, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(contentAad(binding));
    const ciphertext = Buffer.concat([cipher.update(plainBytes), cipher.final()]);
    return { ciphertext, iv, tag: cipher.getAuthTag(), ...wrapDataKey(dataKey, binding, keyring) };
  } finally {
    dataKey.fill(0);
    plainBytes.fill(0);
  }
}

export function openKey(sealed: SealedKey, binding: KeyBinding, keyring: Keyring): string {
  if (!isBytes(sealed.iv, IV_BYTES) || !isBytes(sealed.tag, TAG_BYTES) || !isBytes(sealed.ciphertext)) {
    throw new KeyDecryptionError();
  }
  const dataKey = unwrapDataKey(sealed, binding, keyring);
  try {
    const plainBytes = gcmDecrypt(dataKey, sealed.iv, sealed.tag, sealed.ciphertext, contentAad(binding));
    try {
      return plainBytes.toString('utf8');
    } finally {
      plainBytes.fill(0);
    }
  } finally {
    dataKey.fill(0);
  }
}

/**
 * Moves a sealed key to the keyring's current master key version (the `keys:rewrap` rotation step).
 * Only the data key is unwrapped; the provider key's ciphertext, iv and tag stay as they are.
 */
export function rewrapKey(
  sealed: Pick<SealedKey, 'wrappedKey' | 'masterKeyVersion'>,
  binding: KeyBinding,
  keyring: Keyring,
): Pick<SealedKey, 'wrappedKey' | 'masterKeyVersion'> {
  const dataKey = unwrapDataKey(sealed, binding, keyring);
  try {
    return wrapDataKey(dataKey, binding, keyring);
  } finally {
    dataKey.fill(0);
  }
}

/** Whether the keyring's key for the row's version unwraps its data key (start-up's proof of a master key). */
export function opensDataKey(
  sealed: Pick<SealedKey, 'wrappedKey' | 'masterKeyVersion'>,
  binding: KeyBinding,
  keyring: Keyring,
): boolean {
  try {
    unwrapDataKey(sealed, binding, keyring).fill(0);
    return true;
  } catch (error) {
    if (error instanceof KeyDecryptionError) return false;
    throw error;
  }
}

function wrapDataKey(
  dataKey: Buffer,
  binding: KeyBinding,
  keyring: Keyring,
): Pick<SealedKey, 'wrappedKey' | 'masterKeyVersion'> {
  const masterKeyVersion = keyring.currentVersion;
  const masterKey = keyring.key(masterKeyVersion);
  try {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(CIPHER, masterKey, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(wrapAad(masterKeyVersion, binding));
    const encrypted = Buffer.concat([cipher.update(dataKey), cipher.final()]);
    return { wrappedKey: Buffer.concat([iv, cipher.getAuthTag(), encrypted]), masterKeyVersion };
  } finally {
    masterKey.fill(0);
  }
}

function unwrapDataKey(
  sealed: Pick<SealedKey, 'wrappedKey' | 'masterKeyVersion'>,
  binding: KeyBinding,
  keyring: Keyring,
): Buffer {
  const version = sealed.masterKeyVersion;
  if (!Number.isSafeInteger(version) || version < 1) throw new KeyDecryptionError();
  if (!keyring.has(version)) {
    throw new KeyDecryptionError(
      `Stored provider key needs master key version ${version}, which BYOK_MASTER_KEYS does not contain`,
      version,
    );
  }
  const wrapped = sealed.wrappedKey;
  if (!isBytes(wrapped, WRAPPED_KEY_BYTES)) throw new KeyDecryptionError();

  const masterKey = keyring.key(version);
  try {
    const iv = wrapped.subarray(0, IV_BYTES);
    const tag = wrapped.subarray(IV_BYTES, IV_BYTES + TAG_BYTES);
    return gcmDecrypt(masterKey, iv, tag, wrapped.subarray(IV_BYTES + TAG_BYTES), wrapAad(version, binding));
  } finally {
    masterKey.fill(0);
  }
}

/** AES-256-GCM decryption that returns nothing unless the tag verifies. */
function gcmDecrypt(key: Buffer, iv: Buffer, tag: Buffer, ciphertext: Buffer, aad: Buffer): Buffer {
  let output: Buffer | undefined;
  try {
    const decipher = createDecipheriv(CIPHER, key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    // GCM streams plaintext out before the tag is checked; keep it only if final() verifies.
    output = decipher.update(ciphertext);
    decipher.final();
    return output;
  } catch {
    output?.fill(0);
    throw new KeyDecryptionError();
  }
}

// JSON of an array is an unambiguous encoding of the strings (no separator an id could contain),
// and the leading label keeps the two layers' associated data from ever coinciding.
function contentAad(binding: KeyBinding): Buffer {
  return Buffer.from(
    JSON.stringify(['provider-key', binding.accountId, binding.provider, binding.keyId]),
    'utf8',
  );
}

function wrapAad(masterKeyVersion: number, binding: KeyBinding): Buffer {
  return Buffer.from(
    JSON.stringify(['data-key', masterKeyVersion, binding.accountId, binding.provider, binding.keyId]),
    'utf8',
  );
}

function isBytes(value: unknown, length?: number): value is Uint8Array {
  return value instanceof Uint8Array && (length === undefined || value.length === length);
}
