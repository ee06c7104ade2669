import 'reflect-metadata';
import { loadConfig } from '../config';
import { loadKeyring } from '../crypto/keyring';
import { openDatabase } from '../db/data-source';
import { keyStatus } from '../provider-keys/master-key-rotation';
import { runCli } from './run';

// npm run keys:status: how many stored keys sit under each master key version. Prints no key material.

runCli(async () => {
  const config = loadConfig();
  const keyring = loadKeyring({ spec: config.masterKeys, production: config.production, dataDir: config.dataDir, warn: (m) => process.stderr.write(`${m}\n`) });
  const dataSource = await openDatabase(config.database);
  try {
    const counts = await keyStatus(dataSource, keyring);
    for (const { version, keys, current, inKeyring } of counts) {
      const notes = [current ? 'current: new keys are sealed under it' : '', inKeyring ? '' : 'MISSING from BYOK_MASTER_KEYS: these keys cannot be read'];
      process.stdout.write(`master key version ${version}: ${keys} key${keys === 1 ? '' : 's'}${notes.filter(Boolean).map((n) => ` (${n})`).join('')}\n`);
    }
    const behind = counts.filter((count) => !count.current && count.keys > 0).reduce((sum, count) => sum + count.keys, 0);
    process.stdout.write(behind ? `${behind} key(s) are not under the current version yet: run npm run keys:rewrap\n` : 'Every stored key is under the current version.\n');
    if (counts.some((count) => !count.inKeyring && count.keys > 0)) process.exitCode = 2;
  } finally {
    await dataSource.destroy();
  }
});
