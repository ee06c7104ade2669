import crypto from 'node:crypto';
import { AddProviderKeyDocument } from '../generated/graphql';
import { masterKeyCheckValue, parseKeyring } from '../../src/crypto/keyring';
import { AiProvider } from '../../src/providers/ai-provider.enum';
import { AiTask } from '../../src/providers/ai-task.enum';
import { verifyMasterKeys } from '../../src/provider-keys/master-key-rotation';
import { ProviderKeyStore } from '../../src/provider-keys/provider-key.store';
import { ProviderKey } from '../../src/provider-keys/provider-key.entity';
import { makeKey } from '../support/fake-providers';
import { runNode } from '../support/processes';
import { DATABASES, startTestApp, TestApp } from '../support/test-app';

// A wrong master key under the right version: without a check value the service would start, show the
// stored keys VALID and route BYOK until the first call failed. Each version's check value is recorded
// when the version is first used; start-up, /readyz and the key CLIs refuse a key that does not match.

const right = crypto.randomBytes(32).toString('base64');
const wrong = crypto.randomBytes(32).toString('base64');

describe.each(DATABASES)('master key check values [%s]', (database) => {
  let app: TestApp;
  let env: Record<string, string>;
  const apiKey = makeKey(AiProvider.OPENAI);

  beforeAll(async () => {
    app = await startTestApp(database, { env: { BYOK_MASTER_KEYS: `1:${right}` } });
    const added = await app.gql(
      AddProviderKeyDocument,
      { input: { provider: 'OPENAI', apiKey, verify: false } },
      await app.token('user_alice', 'acct_acme'),
    );
    expect(added.errors).toBeUndefined();
    await app.stop(true);
    env = {
      DATA_DIR: app.dataDir,
      PORT: '0',
      ...(app.env.DATABASE_URL ? { DATABASE_URL: app.env.DATABASE_URL } : {}),
    };
  });
  afterAll(async () => {
    await app.stop();
    await app.providers.close();
  });

  const refusal =
    /^Configuration error: BYOK_MASTER_KEYS: the key of master key version 1 is not the one first used under that version \(its check value in master_key_checks differs\)\. Restore the original key of version 1/;
  const expectRefused = (result: ReturnType<typeof runNode>, expected = refusal) => {
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(expected);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    for (const key of [right, wrong]) expect(result.stdout + result.stderr).not.toContain(key.slice(0, 12));
  };

  it('refuses to start with a different key under version 1, in one line naming BYOK_MASTER_KEYS and the version', () => {
    expectRefused(runNode('main.js', [], { ...env, BYOK_MASTER_KEYS: `1:${wrong}` }));
  });

  it('keys:status and keys:rewrap refuse the same keyring; the rewrap moves nothing and records nothing', async () => {
    expectRefused(runNode('cli/keys-status.js', [], { ...env, BYOK_MASTER_KEYS: `1:${wrong}` }));
    const v2 = crypto.randomBytes(32).toString('base64');
    expectRefused(runNode('cli/keys-rewrap.js', [], { ...env, BYOK_MASTER_KEYS: `1:${wrong},2:${v2}` }));
  });

  it('starts with the right key, ready, and routes with the stored key', async () => {
    app = await startTestApp(database, {
      env: { ...app.env, BYOK_MASTER_KEYS: `1:${right}` },
      providers: app.providers,
      dataDir: app.dataDir,
      databaseUrl: app.env.DATABASE_URL,
    });
    expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
    expect((await app.resolveCredential('acct_acme', AiTask.ANALYSIS)).apiKey).toBe(apiKey);
    expect(
      (await app.dataSource.getRepository(ProviderKey).findOneByOrFail({ accountId: 'acct_acme' }))
        .masterKeyVersion,
    ).toBe(1);
    const versions: { master_key_version: number }[] = await app.dataSource.query(
      'SELECT master_key_version FROM master_key_checks',
    );
    expect(versions.map((row) => Number(row.master_key_version))).toEqual([1]); // not the refused keyring's version 2
  });

  it('answers /readyz 503, naming the version, when the recorded check stops matching the running keyring', async () => {
    const otherCheck = masterKeyCheckValue(parseKeyring(`1:${wrong}`), 1);
    const [{ check_value: recorded }] = await app.dataSource.query(
      'SELECT check_value FROM master_key_checks WHERE master_key_version = 1',
    );
    await app.dataSource.query('UPDATE master_key_checks SET check_value = ? WHERE master_key_version = 1', [
      otherCheck,
    ]);
    try {
      const logged = app.logs.length;
      const ready = await fetch(`${app.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({ status: 'not ready' });
      expect(app.logs.slice(logged).join('\n')).toContain(
        'BYOK_MASTER_KEYS: the key of master key version 1 is not the one first used under that version',
      );
    } finally {
      await app.dataSource.query(
        'UPDATE master_key_checks SET check_value = ? WHERE master_key_version = 1',
        [recorded],
      );
    }
    expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
  });

  it('lets exactly one of two replicas racing to record a new version win; the other key is refused', async () => {
    const rings = [crypto.randomBytes(32), crypto.randomBytes(32)].map((key) =>
      parseKeyring(`1:${right},5:${key.toString('base64')}`),
    );
    const outcomes = await Promise.allSettled(
      rings.map((ring) => verifyMasterKeys(app.dataSource, new ProviderKeyStore(app.dataSource, ring), ring)),
    );
    expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(
      (outcomes.find((outcome) => outcome.status === 'rejected') as PromiseRejectedResult).reason.message,
    ).toMatch(/master key version 5 is not the one/);
    await app.dataSource.query('DELETE FROM master_key_checks WHERE master_key_version = 5');
  });

  it('on a database whose keys predate check values, records a key only if it opens them', async () => {
    await app.dataSource.query('DELETE FROM master_key_checks');
    await app.stop(true);
    expectRefused(
      runNode('main.js', [], { ...env, BYOK_MASTER_KEYS: `1:${wrong}` }),
      /^Configuration error: BYOK_MASTER_KEYS: the key of master key version 1 is not the one the stored keys under that version were sealed with \(it opens none of them\)/,
    );
    app = await startTestApp(database, {
      env: { ...app.env, BYOK_MASTER_KEYS: `1:${right}` },
      providers: app.providers,
      dataDir: app.dataDir,
      databaseUrl: app.env.DATABASE_URL,
    });
    const checks: { master_key_version: number; check_value: string }[] = await app.dataSource.query(
      'SELECT master_key_version, check_value FROM master_key_checks',
    );
    expect(checks.map((check) => [Number(check.master_key_version), check.check_value])).toEqual([
      [1, masterKeyCheckValue(parseKeyring(`1:${right}`), 1)],
    ]);
  });
});
