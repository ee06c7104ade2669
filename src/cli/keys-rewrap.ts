import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { rewrapAll } from '../provider-keys/master-key-rotation';
import { withKeyStore } from './key-store';
import { runCli } from './run';

// npm run keys:rewrap [-- --batch 1000]: moves every stored key to the newest master key version.
// Idempotent and resumable; prints progress (keys done of those counted at the start, the rate and the
// time left at that rate) after each batch, never key material.

runCli(async () => {
  const { values } = parseArgs({ options: { batch: { type: 'string', default: '1000' } } });
  const batchSize = Number(values.batch);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000)
    throw new Error('--batch: expected a whole number from 1 to 10000');
  await withKeyStore(async (store, keyring) => {
    process.stdout.write(
      `Re-wrapping stored keys under master key version ${keyring.currentVersion}, ${batchSize} at a time.\n`,
    );
    const result = await rewrapAll(store, keyring, {
      batchSize,
      onBatch: ({ total, rewrapped, skipped, rate, secondsLeft }) =>
        process.stdout.write(
          `rewrapped ${rewrapped}/${total}, skipped ${skipped} (changed meanwhile), ` +
            `${Math.round(rate)} keys/s, about ${Math.ceil(secondsLeft)} s left\n`,
        ),
    });
    process.stdout.write(
      result.remaining === 0
        ? `Done: ${result.rewrapped} key(s) re-wrapped; every key is under version ${keyring.currentVersion}.\n`
        : `Stopped with ${result.remaining} key(s) still behind: run npm run keys:rewrap again.\n`,
    );
    if (result.remaining) process.exitCode = 1;
  });
});
