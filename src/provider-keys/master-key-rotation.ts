import { timingSafeEqual } from 'crypto';
import { DataSource, LessThan } from 'typeorm';
import { opensDataKey, rewrapKey } from '../crypto/envelope';
import { Keyring, masterKeyCheckValue, wrongMasterKey } from '../crypto/keyring';
import { MasterKeyCheck } from './master-key-check.entity';
import { ProviderKey } from './provider-key.entity';

// The master keys as the database knows them. Each version's check value is recorded when it is first
// used, so a wrong key under a known version stops start-up instead of showing keys VALID that no call
// can open. Master key rotation: every stored data key is re-wrapped under the keyring's newest version.
// The provider keys themselves are never decrypted. Each row is one conditional UPDATE, so a run killed
// at any point leaves every row readable under its old or its new version, and running again finishes.

/** Stored keys a version's key must open (any one of them) before its check value is first recorded. */
const PROBES = 3;

/**
 * Start-up of the service and the CLIs: records the check value of every keyring version the database
 * has not seen, then refuses (KeyringError) a keyring whose key differs from a recorded one. Replicas
 * racing to record a version insert only if absent and then compare: the first wins, a different key loses.
 */
export async function verifyMasterKeys(dataSource: DataSource, keyring: Keyring): Promise<void> {
  // Compared first, so that a keyring refused for one version records nothing for its others.
  const recorded = await compareMasterKeyChecks(dataSource, keyring);
  const unrecorded = keyring.versions.filter((version) => !recorded.has(version));
  for (const version of unrecorded) {
    await proveOnStoredKeys(dataSource, keyring, version);
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
      throw wrongMasterKey(version, 'first used under that version (its check value in master_key_checks differs)');
    }
  }
  return new Set(checks.map((check) => check.version));
}

/**
 * A database whose keys were sealed before check values existed: the key must open one of a few of
 * them before it becomes the reference, or a wrong key would be recorded and the right one refused.
 */
async function proveOnStoredKeys(dataSource: DataSource, keyring: Keyring, version: number): Promise<void> {
  const samples = await dataSource.getRepository(ProviderKey).find({
    select: ['id', 'accountId', 'provider', 'wrappedKey', 'masterKeyVersion'],
    where: { masterKeyVersion: version },
    take: PROBES,
  });
  const opens = samples.some((key) => opensDataKey(key, { accountId: key.accountId, provider: key.provider, keyId: key.id }, keyring));
  if (samples.length && !opens) throw wrongMasterKey(version, 'the stored keys under that version were sealed with (it opens none of them)');
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

export async function keyStatus(dataSource: DataSource, keyring: Keyring): Promise<VersionCount[]> {
  const rows: { version: number | string; keys: number | string }[] = await dataSource
    .getRepository(ProviderKey)
    .createQueryBuilder('k')
    .select('k.masterKeyVersion', 'version')
    .addSelect('COUNT(*)', 'keys')
    .groupBy('k.masterKeyVersion')
    .getRawMany();
  const counts = new Map(rows.map((row) => [Number(row.version), Number(row.keys)]));
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

/** A stored key behind the current master key version, as the rewrap read it. */
export type RewrapCandidate = Pick<ProviderKey, 'id' | 'accountId' | 'provider' | 'wrappedKey' | 'masterKeyVersion' | 'version'>;

/** Step one of a batch: up to `batchSize` keys behind the current version, after `afterId` in id order. */
export function readRewrapBatch(dataSource: DataSource, keyring: Keyring, afterId: string, batchSize: number): Promise<RewrapCandidate[]> {
  return dataSource
    .getRepository(ProviderKey)
    .createQueryBuilder('k')
    .select(['k.id', 'k.accountId', 'k.provider', 'k.wrappedKey', 'k.masterKeyVersion', 'k.version'])
    .where('k.masterKeyVersion < :target AND k.id > :afterId', { target: keyring.currentVersion, afterId })
    .orderBy('k.id', 'ASC')
    .take(batchSize)
    .getMany();
}

/**
 * Step two: stores each candidate's data key re-wrapped under the current version, but only where the
 * row is still exactly as read. A rotation meanwhile seals a new data key beside a new ciphertext, and
 * may keep the old master key version (a replica that does not know the new one yet): the re-wrap of
 * the old data key would then sit beside a ciphertext it cannot open, and the key would be lost. So the
 * condition is the key's version (every rotation bumps it) and the wrapped key itself; such a row is
 * skipped and the next run moves it.
 */
export async function writeRewrapBatch(
  dataSource: DataSource,
  keyring: Keyring,
  batch: readonly RewrapCandidate[],
): Promise<Pick<RewrapProgress, 'rewrapped' | 'skipped'>> {
  const repository = dataSource.getRepository(ProviderKey);
  const counts = { rewrapped: 0, skipped: 0 };
  for (const key of batch) {
    const rewrapped = rewrapKey(key, { accountId: key.accountId, provider: key.provider, keyId: key.id }, keyring);
    const { id, version, masterKeyVersion, wrappedKey } = key;
    const result = await repository.update({ id, version, masterKeyVersion, wrappedKey }, rewrapped);
    if (result.affected) counts.rewrapped += 1;
    else counts.skipped += 1;
  }
  return counts;
}

export async function rewrapAll(
  dataSource: DataSource,
  keyring: Keyring,
  options: { batchSize: number; onBatch?: (progress: RewrapProgress) => void },
): Promise<RewrapProgress> {
  const repository = dataSource.getRepository(ProviderKey);
  const behind = () => repository.countBy({ masterKeyVersion: LessThan(keyring.currentVersion) });
  const progress: RewrapProgress = { rewrapped: 0, skipped: 0, remaining: 0 };
  let afterId = '';
  for (;;) {
    const batch = await readRewrapBatch(dataSource, keyring, afterId, options.batchSize);
    if (batch.length === 0) break;
    const { rewrapped, skipped } = await writeRewrapBatch(dataSource, keyring, batch);
    progress.rewrapped += rewrapped;
    progress.skipped += skipped;
    afterId = batch[batch.length - 1].id;
    progress.remaining = await behind();
    options.onBatch?.({ ...progress });
  }
  progress.remaining = await behind();
  return progress;
}
