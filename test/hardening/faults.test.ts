import crypto from 'node:crypto';
import {
  AddProviderKeyDocument,
  MeDocument,
  RemoveProviderKeyDocument,
  RotateProviderKeyDocument,
} from '../generated/graphql';
import { Account } from '../../src/accounts/account.entity';
import { Membership } from '../../src/accounts/membership.entity';
import { Plan } from '../../src/accounts/plan.enum';
import { Role } from '../../src/accounts/role.enum';
import { openKey } from '../../src/crypto/envelope';
import { parseKeyring } from '../../src/crypto/keyring';
import { ProviderKey } from '../../src/provider-keys/provider-key.entity';
import { ProviderKeyAction, ProviderKeyEvent } from '../../src/provider-keys/provider-key-event.entity';
import { AiProvider } from '../../src/providers/ai-provider.enum';
import { freshMysqlUrl } from '../support/mysql';
import { startTcpProxy, TcpProxy } from '../support/tcp-proxy';
import { GraphqlResult, startTestApp, TestApp } from '../support/test-app';

// The database goes away under load and comes back: requests fail cleanly meanwhile, /readyz says so,
// the service recovers by itself, and no key is lost or half-written.

const WORKERS = 12;
const masterKeys = `1:${crypto.randomBytes(32).toString('base64')}`;
/** Each provider's own shape: an OpenAI key given as Mistral's is refused as input. */
const randomKey = (provider: 'OPENAI' | 'MISTRAL') =>
  `${provider === 'OPENAI' ? 'sk-proj-' : ''}${crypto.randomBytes(40).toString('hex')}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('MariaDB going away and coming back', () => {
  let proxy: TcpProxy;
  let app: TestApp;

  beforeAll(async () => {
    const direct = new URL(freshMysqlUrl());
    proxy = await startTcpProxy(direct.hostname, Number(direct.port || 3306));
    direct.port = String(proxy.port);
    app = await startTestApp('mariadb', {
      databaseUrl: direct.toString(),
      env: { BYOK_MASTER_KEYS: masterKeys, LOG_LEVEL: 'warn' },
    });
    const accounts = Array.from({ length: WORKERS }, (_, i) => ({
      id: `acct_load_${i}`,
      name: `Load ${i}`,
      plan: Plan.GROWTH,
    }));
    await app.dataSource.getRepository(Account).insert(accounts);
    await app.dataSource
      .getRepository(Membership)
      .insert(
        accounts.map((account, i) => ({ userId: `user_load_${i}`, accountId: account.id, role: Role.ADMIN })),
      );
  });
  afterAll(async () => {
    proxy.restore();
    await app.stop();
    await proxy.close();
  });

  it('answers clean errors while it is gone, recovers without a restart, and keeps every key whole', async () => {
    const outcomes: GraphqlResult<unknown>[] = [];
    let stop = false;
    const worker = async (i: number) => {
      const token = await app.token(`user_load_${i}`, `acct_load_${i}`);
      while (!stop) {
        for (const provider of ['OPENAI', 'MISTRAL'] as const) {
          outcomes.push(
            await app.gql(
              AddProviderKeyDocument,
              { input: { provider, apiKey: randomKey(provider), verify: false } },
              token,
            ),
          );
          outcomes.push(
            await app.gql(
              RotateProviderKeyDocument,
              { input: { provider, apiKey: randomKey(provider), verify: false } },
              token,
            ),
          );
          outcomes.push(
            await app.gql(
              RotateProviderKeyDocument,
              { input: { provider, apiKey: randomKey(provider), verify: false } },
              token,
            ),
          );
          if (provider === 'OPENAI')
            outcomes.push(await app.gql(RemoveProviderKeyDocument, { provider }, token));
        }
      }
    };
    const workers = Array.from({ length: WORKERS }, (_, i) => worker(i));

    await sleep(400);
    proxy.cut();
    await sleep(300);
    const alice = await app.token('user_alice', 'acct_acme');
    const during = await app.gql(MeDocument, {}, alice);
    expect(during.errors).toEqual([
      expect.objectContaining({
        message: 'Internal server error',
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      }),
    ]);
    expect((await fetch(`${app.url}/readyz`)).status).toBe(503);
    await sleep(700);
    proxy.restore();

    // Recovery is the service's own doing: poll readiness, bounded.
    let ready = false;
    for (let attempt = 0; attempt < 50 && !ready; attempt++) {
      ready = (await fetch(`${app.url}/readyz`)).status === 200;
      if (!ready) await sleep(100);
    }
    expect(ready).toBe(true);
    await sleep(400);
    stop = true;
    await Promise.all(workers);
    expect((await app.gql(MeDocument, {}, alice)).data?.me.role).toBe('ADMIN');

    // Every failure a client saw was a clean one (or a consequence of an earlier unknown outcome).
    const codes = new Set(
      outcomes.flatMap((outcome) => outcome.errors ?? []).map((error) => error.extensions?.code),
    );
    expect(
      [...codes].every((code) =>
        ['INTERNAL_SERVER_ERROR', 'PROVIDER_KEY_EXISTS', 'PROVIDER_KEY_NOT_FOUND'].includes(String(code)),
      ),
    ).toBe(true);
    expect(codes.has('INTERNAL_SERVER_ERROR')).toBe(true);
    expect(outcomes.filter((outcome) => !outcome.errors).length).toBeGreaterThan(WORKERS * 4);
    for (const outcome of outcomes.flatMap((o) => o.errors ?? [])) {
      if (outcome.extensions?.code === 'INTERNAL_SERVER_ERROR')
        expect(outcome.message).toBe('Internal server error');
    }

    // No key lost or half-written: each row opens, matches its last four, and agrees with its audit trail.
    const keyring = parseKeyring(masterKeys);
    const rows = await app.dataSource.getRepository(ProviderKey).find();
    const events = await app.dataSource.getRepository(ProviderKeyEvent).find({ order: { id: 'ASC' } });
    for (const row of rows) {
      const plaintext = openKey(
        row,
        { accountId: row.accountId, provider: row.provider, keyId: row.id },
        keyring,
      );
      expect(plaintext.slice(-4)).toBe(row.lastFour);
      const trail = events.filter(
        (event) => event.accountId === row.accountId && event.provider === row.provider,
      );
      const sinceAdded = trail.slice(trail.map((event) => event.action).lastIndexOf(ProviderKeyAction.ADDED));
      expect(sinceAdded[0].action).toBe('ADDED');
      expect(sinceAdded.at(-1)!.lastFour).toBe(row.lastFour);
      expect(row.version).toBe(
        1 + sinceAdded.filter((event) => event.action === ProviderKeyAction.ROTATED).length,
      );
    }
    for (let i = 0; i < WORKERS; i++) {
      for (const provider of [AiProvider.OPENAI, AiProvider.MISTRAL]) {
        const stored = rows.some((row) => row.accountId === `acct_load_${i}` && row.provider === provider);
        const last = events
          .filter((event) => event.accountId === `acct_load_${i}` && event.provider === provider)
          .at(-1);
        if (!stored && last) expect(last.action).toBe('REMOVED');
      }
    }
  }, 60_000);
});
