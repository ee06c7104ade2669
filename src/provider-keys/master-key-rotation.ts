import { timingSafeEqual } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Keyring, masterKeyCheckValue, wrongMasterKey } from '../crypto/keyring';
import { MasterKeyCheck } from './master-key-check.entity';
import { ProviderKeyStore } from './provider-key.store';

// The master keys as the database knows them. Each version's check value is recorded when it is first
// used, so a wrong key under a known version stops start-up instead of showing keys VALID that no call
// can open. Master key rotation: every stored data key is re-wrapped under the keyring's newest version.
// The provider keys themselves are never decrypted (rewrapAll below).

/** Stored keys a version's key must open (any one of them) before its check value is first recorded. */
const PROBES = 3;

/**
 * Start-up of the service and the CLIs: records the check value of every keyring version the database
 * has not seen, then refuses (KeyringError) a keyring whose key differs from a recorded one. Replicas
 * racing to record a version insert only if absent and then compare: the first wins, a different key loses.
 */
export async function verifyMasterKeys(
  dataSource: DataSource,
  store: ProviderKeyStore,
  keyring: Keyring,
): Promise<void> {
  // Compared first, so that a keyring refused for one version records nothing for its others.
  const recorded = await compareMasterKeyChecks(dataSource, keyring);
  const unrecorded = keyring.versions.filter((version) => !recorded.has(version));
  for (const version of unrecorded) {
    // A database whose keys were sealed before check values existed: the key must open one of a few of
    // them before it becomes the reference, or a wrong key would be recorded and the right one refused.
    if (!(await store.opensStoredKeys(version, PROBES))) {
      throw wrongMasterKey(
        version,
        'the stored keys under that version were sealed with (it opens none of them)',
      );
    }
    await dataSource
      .getRepository(MasterKeyCheck)
      .createQueryBuilder()
      .insert()
      .values({ version, checkValue: masterKeyCheckValue(keyring, version) })
      .orIgnore()
      .updateEntity(false)
      .execute();
  }
  // A replica may have recorded one of them first, with another key.
  if (unrecorded.length) await compareMasterKeyChecks(dataSource, keyring);
}

/**
 * Refuses a keyring whose key differs from a recorded check value; the versions recorded otherwise.
 */
export async function compareMasterKeyChecks(dataSource: DataSource, keyring: Keyring): Promise<Set<number>> {
  const checks = await dataSource.getRepository(MasterKeyCheck).find({ select: ['version', 'checkValue'] });
  return refuseWrongMasterKeys(checks, keyring);
}

/**
 * /readyz: ready only while the database answers, the keyring's keys match their recorded check values,
 * and every stored key's master key version is in the keyring. One statement, no scan of the keys.
 */
export async function checkMasterKeysReady(store: ProviderKeyStore, keyring: Keyring): Promise<void> {
  const { checks, keysOutside } = await store.readiness(keyring.versions);
  refuseWrongMasterKeys(checks, keyring);
  if (!keysOutside) return;
  // Not ready: which versions are missing, by a few more index seeks.
  const missing = (await store.storedMasterKeyVersions()).filter((version) => !keyring.has(version));
  throw new Error(
    `stored keys need master key version(s) ${missing.join(', ')}, which BYOK_MASTER_KEYS lacks`,
  );
}

function refuseWrongMasterKeys(
  checks: readonly Pick<MasterKeyCheck, 'version' | 'checkValue'>[],
  keyring: Keyring,
): Set<number> {
  for (const { version, checkValue } of checks) {
    if (keyring.has(version) && !sameHex(checkValue, masterKeyCheckValue(keyring, version))) {
      throw wrongMasterKey(
        version,
        'first used under that version (its check value in master_key_checks differs)',
      );
    }
  }
  return new Set(checks.map((check) => check.version));
}

function sameHex(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

export interface VersionCount {
  version: number;
  keys: number;
  current: boolean;
  inKeyring: boolean;
}

export async function keyStatus(store: ProviderKeyStore, keyring: Keyring): Promise<VersionCount[]> {
  const counts = await store.countByMasterKeyVersion();
  const versions = [...new Set([...keyring.versions, ...counts.keys()])].sort((a, b) => a - b);
  return versions.map((version) => ({
    version,
    keys: counts.get(version) ?? 0,
    current: version === keyring.currentVersion,
    inKeyring: keyring.has(version),
  }));
}

export interface RewrapProgress {
  /** Keys behind the current version when the run started: counted once, never per batch. */
  total: number;
  rewrapped: number;
  /** Rows changed between their read and their write (a rotation meanwhile), left for a later pass. */
  skipped: number;
  /** During the run, total less the keys handled; at the end, the keys still behind, counted again. */
  remaining: number;
  /** Keys handled per second so far. */
  rate: number;
  /** At that rate, the seconds left; NaN before the first batch. */
  secondsLeft: number;
}

/** Passes over the keys behind: a key skipped because it changed meanwhile is tried again in the next. */
const REWRAP_PASSES = 3;

/**
 * Moves every stored key behind the current master key version to it, `batchSize` at a time: each old
 * version's keys in id order (keyset pagination on IDX_provider_keys_master_key_version), each batch
 * re-wrapped in memory and written by the store's writeRewrapBatch. A run killed at any point leaves
 * every row readable under its old or its new version, and the next run starts with the keys behind.
 */
export async function rewrapAll(
  store: ProviderKeyStore,
  keyring: Keyring,
  options: { batchSize: number; onBatch?: (progress: RewrapProgress) => void; now?: () => number },
): Promise<RewrapProgress> {
  const now = options.now ?? (() => performance.now());
  const started = now();
  const total = await store.countBehind();
  const progress: RewrapProgress = {
    total,
    rewrapped: 0,
    skipped: 0,
    remaining: total,
    rate: 0,
    secondsLeft: NaN,
  };
  for (let pass = 0; pass < REWRAP_PASSES; pass += 1) {
    const old = (await store.storedMasterKeyVersions()).filter((version) => version < keyring.currentVersion);
    let skipped = 0;
    // One batch's write stays in flight while the next is read and re-wrapped: the database's work and
    // this process's cryptography overlap (two transactions at most, on rows of different batches).
    let writing: Promise<void> = Promise.resolve();
    const count = async (write: Promise<{ rewrapped: number; skipped: number }>) => {
      const written = await write;
      progress.rewrapped += written.rewrapped;
      skipped += written.skipped;
      const handled = progress.rewrapped + skipped;
      progress.remaining = Math.max(0, total - handled);
      progress.rate = handled / Math.max((now() - started) / 1000, 1e-3);
      progress.secondsLeft = progress.remaining / progress.rate;
      progress.skipped = skipped;
      options.onBatch?.({ ...progress });
    };
    for (const version of old) {
      // Ends: afterId grows with every batch, and a batch shorter than asked is the version's last.
      for (let afterId = ''; ;) {
        const batch = await store.readRewrapBatch(version, afterId, options.batchSize);
        if (batch.length === 0) break;
        const previous = writing;
        const write = store.writeRewrapBatch(batch); // re-wraps now, writes while the loop goes on
        write.catch(() => undefined); // its failure is thrown by `writing`, once the previous is counted
        writing = previous.then(() => count(write));
        await previous;
        if (batch.length < options.batchSize) break;
        afterId = batch[batch.length - 1].id;
      }
    }
    await writing;
    progress.skipped = skipped;
    if (skipped === 0) break;
  }
  progress.remaining = await store.countBehind();
  return progress;
}
