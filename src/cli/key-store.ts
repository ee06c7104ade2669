import { openAppDatabase } from '../app/database';
import { loadConfig } from '../config';
import { Keyring, loadKeyring } from '../crypto/keyring';
import { verifyMasterKeys } from '../provider-keys/master-key-rotation';
import { ProviderKeyStore } from '../provider-keys/provider-key.store';

/**
 * For keys:status and keys:rewrap: the configured keyring and the stored keys, once the keyring is known
 * to match the one the database was sealed with (else a one-line KeyringError, as at start-up).
 */
export async function withKeyStore(
  work: (store: ProviderKeyStore, keyring: Keyring) => Promise<void>,
): Promise<void> {
  const config = loadConfig();
  const warn = (message: string) => process.stderr.write(`${message}\n`);
  const keyring = loadKeyring({
    spec: config.masterKeys,
    production: config.production,
    dataDir: config.dataDir,
    warn,
  });
  const dataSource = await openAppDatabase(config.database);
  try {
    const store = new ProviderKeyStore(dataSource, keyring);
    await verifyMasterKeys(dataSource, store, keyring);
    await work(store, keyring);
  } finally {
    await dataSource.destroy();
  }
}
