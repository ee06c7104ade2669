import { timingSafeEqual } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Keyring, masterKeyCheckValue, wrongMasterKey } from '../crypto/keyring';
import { MasterKeyCheck } from './master-key-check.entity';
import { ProviderKeyStore } from './provider-key.store';

// The master keys as the database knows them. Each version's check value is recorded when it is first
// used, so a wrong key under a known version stops start-up instead of showing keys VALID that no call
// can open. Master key rotation: every stored data key is re-wrapped under the keyring's newest version.
// The provider keys themselves are never decrypted. Each row is one conditional UPDATE (the store's
// writeRewrapBatch), so a run killed at any point leaves every row readable under its old or its new
// version, and running again finishes.

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
 * /readyz calls it too: one read of a table with a row per master key version.
 */
export async function compareMasterKeyChecks(dataSource: DataSource, keyring: Keyring): Promise<Set<number>> {
  const checks = await dataSource.getRepository(MasterKeyCheck).find({ select: ['version', 'checkValue'] });
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
  rewrapped: number;
  skipped: number;
  remaining: number;
}

export async function rewrapAll(
  store: ProviderKeyStore,
  options: { batchSize: number; onBatch?: (progress: RewrapProgress) => void },
): Promise<RewrapProgress> {
  const progress: RewrapProgress = { rewrapped: 0, skipped: 0, remaining: 0 };
  let afterId = '';
  for (;;) {
    const batch = await store.readRewrapBatch(afterId, options.batchSize);
    if (batch.length === 0) break;
    const { rewrapped, skipped } = await store.writeRewrapBatch(batch);
    progress.rewrapped += rewrapped;
    progress.skipped += skipped;
    afterId = batch[batch.length - 1].id;
    progress.remaining = await store.countBehind();
    options.onBatch?.({ ...progress });
  }
  progress.remaining = await store.countBehind();
  return progress;
}
