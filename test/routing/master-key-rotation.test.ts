import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { Account } from '../../src/accounts/account.entity';
import { Plan } from '../../src/accounts/plan.enum';
import { openKey, sealKey } from '../../src/crypto/envelope';
import { parseKeyring } from '../../src/crypto/keyring';
import { AiProvider } from '../../src/providers/ai-provider.enum';
import { AiTask } from '../../src/providers/ai-task.enum';
import { KeyHealth } from '../../src/providers/key-health.enum';
import { rewrapAll } from '../../src/provider-keys/master-key-rotation';
import { ProviderKeyStore, RewrapCandidate } from '../../src/provider-keys/provider-key.store';
import { ProviderKey } from '../../src/provider-keys/provider-key.entity';
import { AddProviderKeyDocument, RotateProviderKeyDocument } from '../generated/graphql';
import { makeKey } from '../support/fake-providers';
import { distEntry, runNode } from '../support/processes';
import { DATABASES, startTestApp, TestApp } from '../support/test-app';

// Master key rotation as an operator runs it: 1,000 keys under version 1, version 2 added, a rewrap
// killed halfway, run again, and every key readable with version 2 alone.

const v1 = crypto.randomBytes(32).toString('base64');
const v2 = crypto.randomBytes(32).toString('base64');
const ACCOUNTS = 200; // × 5 providers = 1,000 keys

describe.each(DATABASES)('keys:status and keys:rewrap [%s]', (database) => {
  let app: TestApp;
  let env: Record<string, string>;
  const plaintexts = new Map<string, string>();

  beforeAll(async () => {
    app = await startTestApp(database, { env: { BYOK_MASTER_KEYS: `1:${v1}` } });
    const keyring = parseKeyring(`1:${v1}`);
    const accounts = Array.from({ length: ACCOUNTS }, (_, i) => ({
      id: `acct_bulk_${String(i).padStart(4, '0')}`,
      name: `Bulk ${i}`,
      plan: Plan.GROWTH,
    }));
    await app.dataSource.getRepository(Account).insert(accounts);
    const rows = accounts.flatMap((account) =>
      Object.values(AiProvider).map((provider) => {
        const id = crypto.randomUUID();
        const apiKey = `sk-${crypto.randomBytes(24).toString('hex')}`;
        plaintexts.set(id, apiKey);
        return {
          id,
          accountId: account.id,
          provider,
          lastFour: apiKey.slice(-4),
          label: null,
          endpoint: null,
          deployment: null,
          health: KeyHealth.UNTESTED,
          lastTestedAt: null,
          lastTestMessage: null,
          version: 1,
          createdBy: 'user_bulk',
          ...sealKey(apiKey, { accountId: account.id, provider, keyId: id }, keyring),
        };
      }),
    );
    for (let i = 0; i < rows.length; i += 100)
      await app.dataSource.getRepository(ProviderKey).insert(rows.slice(i, i + 100));
    await app.stop(true);
    env = {
      DATA_DIR: app.dataDir,
      BYOK_MASTER_KEYS: `1:${v1},2:${v2}`,
      ...(app.env.DATABASE_URL ? { DATABASE_URL: app.env.DATABASE_URL } : {}),
    };
  }, 120_000);

  afterAll(async () => {
    await app.stop(); // the service restarted on version 2 alone; drops the test database
    await app.providers.close();
  });

  const status = () => runNode('cli/keys-status.js', [], env);

  it('reports all 1,000 keys under version 1 once version 2 is added', () => {
    const result = status();
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('master key version 1: 1000 keys\n');
    expect(result.stdout).toContain('master key version 2: 0 keys (current: new keys are sealed under it)\n');
    expect(result.stdout).toContain(
      '1000 key(s) are not under the current version yet: run npm run keys:rewrap',
    );
    expect(result.stdout).toContain(
      'BYOK_MASTER_KEYS holds no old master key version that could be removed.\n',
    );
  });

  it('resumes a rewrap killed halfway and ends with every key readable under version 2 alone', async () => {
    const child = spawn(process.execPath, [distEntry('cli/keys-rewrap.js'), '--batch', '1'], {
      env: { PATH: process.env.PATH, ...env },
    });
    let output = '';
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, signal) => resolve(signal)),
    );
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const done = Number(/rewrapped (\d+)/.exec(output.split('\n').filter(Boolean).at(-1) ?? '')?.[1] ?? 0);
      if (done >= 100) child.kill('SIGKILL');
    });
    expect(await exited).toBe('SIGKILL');
    expect(output).not.toContain('Done');
    // Progress: done of the keys counted at the start, the rate, the time left; never key material.
    expect(output).toMatch(
      /^rewrapped 1\/1000, skipped 0 \(changed meanwhile\), \d+ keys\/s, about \d+ s left$/m,
    );

    const halfway = status().stdout;
    const under = (version: number) =>
      Number(new RegExp(`master key version ${version}: (\\d+) key`).exec(halfway)?.[1]);
    expect(under(1)).toBeGreaterThan(0);
    expect(under(2)).toBeGreaterThanOrEqual(100);
    expect(under(1) + under(2)).toBe(1000);

    const rerun = runNode('cli/keys-rewrap.js', ['--batch', '100'], env);
    expect(rerun.stderr).toBe('');
    expect(rerun.status).toBe(0);
    expect(rerun.stdout).toContain(`Done: ${under(1)} key(s) re-wrapped; every key is under version 2.`);
    for (const key of plaintexts.values()) expect(rerun.stdout + output).not.toContain(key.slice(3, 12));

    const final = status();
    expect(final.stdout).toContain('master key version 1: 0 keys\n');
    expect(final.stdout).toContain(
      'master key version 2: 1000 keys (current: new keys are sealed under it)\n',
    );
    expect(final.stdout).toContain('Every stored key is under the current version.');
    expect(final.stdout).toContain(
      'Master key version(s) 1 no longer needed by any stored key: can be removed from BYOK_MASTER_KEYS.\n',
    );

    // Read back with a keyring that no longer has version 1.
    app = await startTestApp(database, {
      env: { ...app.env, BYOK_MASTER_KEYS: `2:${v2}` },
      providers: app.providers,
      dataDir: app.dataDir,
      databaseUrl: app.env.DATABASE_URL,
    });
    const onlyV2 = parseKeyring(`2:${v2}`);
    const rows = await app.dataSource.getRepository(ProviderKey).find({ where: { createdBy: 'user_bulk' } });
    expect(rows).toHaveLength(1000);
    for (const row of rows) {
      expect(openKey(row, { accountId: row.accountId, provider: row.provider, keyId: row.id }, onlyV2)).toBe(
        plaintexts.get(row.id),
      );
    }
    expect((await fetch(`${app.url}/readyz`)).status).toBe(200);

    const again = runNode('cli/keys-rewrap.js', [], env);
    expect(again.stdout).toContain('Done: 0 key(s) re-wrapped');

    const dropped = runNode('cli/keys-status.js', [], { ...env, BYOK_MASTER_KEYS: `2:${v2}` });
    expect(dropped.status).toBe(0);
    expect(dropped.stdout).toBe(
      'master key version 2: 1000 keys (current: new keys are sealed under it)\n' +
        'Every stored key is under the current version.\n' +
        'BYOK_MASTER_KEYS holds no old master key version that could be removed.\n',
    );
  }, 120_000);
});

// A rewrap racing a rotation by a replica that does not know version 2 yet: the rotation seals a new
// data key and keeps version 1, so a rewrap that checked only the master key version would store a
// re-wrap of the old data key beside the new ciphertext, and the key could never be opened again.
describe.each(DATABASES)('keys:rewrap racing a rotation [%s]', (database) => {
  let app: TestApp; // a replica whose keyring still ends at version 1
  let alice: string;
  const ring = parseKeyring(`1:${v1},2:${v2}`); // the rewrap's keyring

  beforeAll(async () => {
    app = await startTestApp(database, { env: { BYOK_MASTER_KEYS: `1:${v1}` } });
    alice = await app.token('user_alice', 'acct_acme');
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('skips a key rotated between its read and its write, which still opens, and moves it on the next run', async () => {
    const added = await app.gql(
      AddProviderKeyDocument,
      { input: { provider: 'OPENAI', apiKey: makeKey(AiProvider.OPENAI), verify: false } },
      alice,
    );
    expect(added.errors).toBeUndefined();

    const store = new ProviderKeyStore(app.dataSource, ring);
    const batch = await store.readRewrapBatch(1, '', 10);
    expect(batch.map((key) => key.accountId)).toEqual(['acct_acme']);
    const rotatedKey = makeKey(AiProvider.OPENAI, 'VALID', 1);
    const rotated = await app.gql(
      RotateProviderKeyDocument,
      { input: { provider: 'OPENAI', apiKey: rotatedKey, verify: false } },
      alice,
    );
    expect(rotated.data?.rotateProviderKey.version).toBe(2);
    expect(await store.writeRewrapBatch(batch)).toEqual({ rewrapped: 0, skipped: 1 });

    expect((await app.resolveCredential('acct_acme', AiTask.ANALYSIS)).apiKey).toBe(rotatedKey);
    const row = await app.dataSource.getRepository(ProviderKey).findOneByOrFail({ accountId: 'acct_acme' });
    expect(row.masterKeyVersion).toBe(1);

    expect(await rewrapAll(store, ring, { batchSize: 10 })).toMatchObject({
      total: 1,
      rewrapped: 1,
      skipped: 0,
      remaining: 0,
    });
    const moved = await app.dataSource.getRepository(ProviderKey).findOneByOrFail({ accountId: 'acct_acme' });
    expect(moved.masterKeyVersion).toBe(2);
    expect(
      openKey(
        moved,
        { accountId: moved.accountId, provider: moved.provider, keyId: moved.id },
        parseKeyring(`2:${v2}`),
      ),
    ).toBe(rotatedKey);
  });

  it('moves a key rotated in the middle of a run in the same run, by its next pass', async () => {
    const added = await app.gql(
      AddProviderKeyDocument,
      { input: { provider: 'MISTRAL', apiKey: makeKey(AiProvider.MISTRAL), verify: false } },
      alice,
    );
    expect(added.errors).toBeUndefined();
    const rotatedKey = makeKey(AiProvider.MISTRAL, 'VALID', 1);
    let rotations = 0;
    // The rewrap's store, with a rotation by the version-1 replica landing between its first read and write.
    class RacedStore extends ProviderKeyStore {
      override async writeRewrapBatch(batch: readonly RewrapCandidate[]) {
        if (rotations++ === 0) {
          const rotated = await app.gql(
            RotateProviderKeyDocument,
            { input: { provider: 'MISTRAL', apiKey: rotatedKey, verify: false } },
            alice,
          );
          expect(rotated.data?.rotateProviderKey.version).toBe(2);
        }
        return super.writeRewrapBatch(batch);
      }
    }
    const lines: string[] = [];
    const result = await rewrapAll(new RacedStore(app.dataSource, ring), ring, {
      batchSize: 10,
      onBatch: ({ rewrapped, skipped }) => lines.push(`${rewrapped}/${skipped}`),
    });
    expect(lines).toEqual(['0/1', '1/0']); // skipped by the first pass, moved by the second
    expect(result).toMatchObject({ total: 1, rewrapped: 1, skipped: 0, remaining: 0 });
    const moved = await app.dataSource
      .getRepository(ProviderKey)
      .findOneByOrFail({ accountId: 'acct_acme', provider: AiProvider.MISTRAL });
    expect(moved.masterKeyVersion).toBe(2);
    expect(
      openKey(
        moved,
        { accountId: moved.accountId, provider: moved.provider, keyId: moved.id },
        parseKeyring(`2:${v2}`),
      ),
    ).toBe(rotatedKey);
  });
});
