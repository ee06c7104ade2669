import 'reflect-metadata';
import { keyStatus } from '../provider-keys/master-key-rotation';
import { withKeyStore } from './key-store';
import { runCli } from './run';

// npm run keys:status: how many stored keys sit under each master key version. Prints no key material.

runCli(async () => {
  await withKeyStore(async (store, keyring) => {
    const counts = await keyStatus(store, keyring);
    for (const { version, keys, current, inKeyring } of counts) {
      const notes = [
        current ? 'current: new keys are sealed under it' : '',
        inKeyring ? '' : 'MISSING from BYOK_MASTER_KEYS: these keys cannot be read',
      ];
      process.stdout.write(
        `master key version ${version}: ${keys} key${keys === 1 ? '' : 's'}${notes
          .filter(Boolean)
          .map((n) => ` (${n})`)
          .join('')}\n`,
      );
    }
    const behind = counts
      .filter((count) => !count.current && count.keys > 0)
      .reduce((sum, count) => sum + count.keys, 0);
    process.stdout.write(
      behind
        ? `${behind} key(s) are not under the current version yet: run npm run keys:rewrap\n`
        : 'Every stored key is under the current version.\n',
    );
    // Dropping an unneeded old version is what makes copies of removed keys in old logs and backups
    // unreadable: their data keys were wrapped only under versions that are then gone (README).
    const unneeded = counts
      .filter((count) => count.inKeyring && !count.current && count.keys === 0)
      .map((count) => count.version);
    process.stdout.write(
      unneeded.length
        ? `Master key version(s) ${unneeded.join(', ')} no longer needed by any stored key: can be removed from BYOK_MASTER_KEYS.\n`
        : `BYOK_MASTER_KEYS holds no old master key version that could be removed.\n`,
    );
    if (counts.some((count) => !count.inKeyring && count.keys > 0)) process.exitCode = 2;
  });
});
