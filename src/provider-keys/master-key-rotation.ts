import { DataSource, LessThan } from 'typeorm';
import { rewrapKey } from '../crypto/envelope';
import { Keyring } from '../crypto/keyring';
import { ProviderKey } from './provider-key.entity';

// Master key rotation: every stored data key is re-wrapped under the keyring's newest version. The
// provider keys themselves are never decrypted. Each row is one conditional UPDATE, so a run killed at
// any point leaves every row readable under its old or its new version, and running again finishes.

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

export async function rewrapAll(
  dataSource: DataSource,
  keyring: Keyring,
  options: { batchSize: number; onBatch?: (progress: RewrapProgress) => void },
): Promise<RewrapProgress> {
  const repository = dataSource.getRepository(ProviderKey);
  const target = keyring.currentVersion;
  const progress: RewrapProgress = { rewrapped: 0, skipped: 0, remaining: 0 };
  let afterId = '';
  for (;;) {
    const batch = await repository
      .createQueryBuilder('k')
      .select(['k.id', 'k.accountId', 'k.provider', 'k.wrappedKey', 'k.masterKeyVersion'])
      .where('k.masterKeyVersion < :target AND k.id > :afterId', { target, afterId })
      .orderBy('k.id', 'ASC')
      .take(options.batchSize)
      .getMany();
    if (batch.length === 0) break;
    for (const key of batch) {
      const rewrapped = rewrapKey(key, { accountId: key.accountId, provider: key.provider, keyId: key.id }, keyring);
      // Only if the row is still as read: a rotation meanwhile already sealed it under the new version.
      const result = await repository.update({ id: key.id, masterKeyVersion: key.masterKeyVersion }, rewrapped);
      if (result.affected) progress.rewrapped += 1;
      else progress.skipped += 1;
    }
    afterId = batch[batch.length - 1].id;
    progress.remaining = await repository.countBy({ masterKeyVersion: LessThan(target) });
    options.onBatch?.({ ...progress });
  }
  progress.remaining = await repository.countBy({ masterKeyVersion: LessThan(target) });
  return progress;
}
