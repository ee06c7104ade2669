import { SignJWT, UnsecuredJWT } from 'jose';
import { In } from 'typeorm';
import {
  AddProviderKeyDocument,
  MeDocument,
  ProviderKeyEventsDocument,
  ProviderKeysDocument,
  ProviderKeyUsageDocument,
  RemoveProviderKeyDocument,
  RotateProviderKeyDocument,
  TestProviderKeyDocument,
} from '../generated/graphql';
import { Account } from '../../src/accounts/account.entity';
import { Membership } from '../../src/accounts/membership.entity';
import { Plan } from '../../src/accounts/plan.enum';
import { Role } from '../../src/accounts/role.enum';
import { AiProvider } from '../../src/providers/ai-provider.enum';
import { AiTask } from '../../src/providers/ai-task.enum';
import { ProviderKey } from '../../src/provider-keys/provider-key.entity';
import { makeKey } from '../support/fake-providers';
import { keyFragmentsIn } from '../support/key-fragments';
import { DATABASES, describeEachDatabase, startTestApp, TestApp, TEST_JWT_SECRET } from '../support/test-app';

// The internal credential API as a pipeline in another process uses it: over HTTP on its own listener,
// with service tokens, end to end through the real service and database. The clock of cooldowns and
// usage days is the test's.

const RESOLVE = '/internal/v1/credentials/resolve';
const REPORT = '/internal/v1/credentials/report';
const BUILTIN_KEY = 'builtin-mistral-key-0123456789';
const clock = { at: Date.parse('2026-12-02T10:00:00Z') };
const now = () => new Date(clock.at);

describeEachDatabase(
  'internal credential API',
  (app) => {
    let resolver: string;
    let reporter: string;
    let alice: string;
    const resolve = (body: unknown, token = resolver) => app().internal(RESOLVE, body, token);
    const report = (body: unknown, token = reporter) => app().internal(REPORT, body, token);
    const add = async (provider: AiProvider, apiKey = makeKey(provider)) => {
      const added = await app().gql(
        AddProviderKeyDocument,
        { input: { provider, apiKey, verify: false } },
        alice,
      );
      expect(added.errors).toBeUndefined();
      return { apiKey, key: added.data!.addProviderKey };
    };

    beforeAll(async () => {
      resolver = await app().serviceToken('interview-pipeline', ['credentials:resolve']);
      reporter = await app().serviceToken('interview-pipeline', ['credentials:report']);
      alice = await app().token('user_alice', 'acct_acme');
    });
    afterEach(async () => {
      for (const provider of Object.values(AiProvider))
        await app().gql(RemoveProviderKeyDocument, { provider }, alice);
      await app().dataSource.getRepository(Account).update({ id: 'acct_acme' }, { plan: Plan.GROWTH });
    });

    it('resolves the built-in allocation, then the stored key, its rotation at once, and the built-in again after removal', async () => {
      const builtIn = await resolve({ accountId: 'acct_acme', task: 'ANALYSIS' });
      expect(builtIn.status).toBe(200);
      expect(builtIn.headers.get('cache-control')).toBe('no-store');
      expect(builtIn.json).toEqual({
        provider: 'MISTRAL',
        model: 'mistral-small-latest',
        endpoint: null,
        apiKey: BUILTIN_KEY,
        billingMode: 'BUILT_IN',
        status: 'BUILT_IN',
        keyId: null,
        keyVersion: null,
        health: null,
      });

      const { apiKey, key } = await add(AiProvider.OPENAI);
      expect((await resolve({ accountId: 'acct_acme', task: 'INSIGHT_GENERATION' })).json).toEqual({
        provider: 'OPENAI',
        model: 'o4-mini',
        endpoint: null,
        apiKey,
        billingMode: 'BYOK',
        status: 'BYOK_KEY',
        keyId: key.id,
        keyVersion: 1,
        health: 'UNTESTED',
      });

      const rotatedKey = makeKey(AiProvider.OPENAI, 'VALID', 7);
      await app().gql(
        RotateProviderKeyDocument,
        { input: { provider: 'OPENAI', apiKey: rotatedKey, verify: false } },
        alice,
      );
      expect((await resolve({ accountId: 'acct_acme', task: 'ANALYSIS' })).json).toMatchObject({
        apiKey: rotatedKey,
        keyId: key.id,
        keyVersion: 2,
      });

      await app().dataSource.getRepository(Account).update({ id: 'acct_acme' }, { plan: Plan.STARTER });
      expect((await resolve({ accountId: 'acct_acme', task: 'ANALYSIS' })).json).toMatchObject({
        apiKey: BUILTIN_KEY,
        billingMode: 'BUILT_IN',
        status: 'BUILT_IN',
      });
      await app().dataSource.getRepository(Account).update({ id: 'acct_acme' }, { plan: Plan.GROWTH });

      await app().gql(RemoveProviderKeyDocument, { provider: 'OPENAI' }, alice);
      expect((await resolve({ accountId: 'acct_acme', task: 'ANALYSIS' })).json).toMatchObject({
        apiKey: BUILTIN_KEY,
        keyId: null,
      });
    });

    it('takes a key out of routing on a hard report, once, with a HEALTH_CHANGED event by the service', async () => {
      const { key: openAi } = await add(AiProvider.OPENAI);
      const { apiKey: anthropicKey, key: anthropic } = await add(AiProvider.ANTHROPIC);
      const body = {
        accountId: 'acct_acme',
        keyId: openAi.id,
        keyVersion: 1,
        outcome: 'INVALID_KEY',
        providerStatus: 401,
      };
      const first = await report(body);
      expect(first.status).toBe(204);
      expect(first.text).toBe('');
      expect((await report(body)).status).toBe(204); // the same news again changes nothing more

      const next = await resolve({ accountId: 'acct_acme', task: 'ANALYSIS' });
      expect(next.json).toMatchObject({
        provider: 'ANTHROPIC',
        apiKey: anthropicKey,
        keyId: anthropic.id,
        status: 'FALLBACK_KEY',
      });
      const events = (
        await app().gql(ProviderKeyEventsDocument, { first: 10 }, alice)
      ).data!.providerKeyEvents.edges.map((edge) => edge.node);
      expect(events.filter((event) => event.action === 'HEALTH_CHANGED')).toEqual([
        expect.objectContaining({
          provider: 'OPENAI',
          actorId: 'service:interview-pipeline',
          health: 'INVALID_KEY',
          previousHealth: 'UNTESTED',
        }),
      ]);
      const keys = (await app().gql(ProviderKeysDocument, {}, alice)).data!.providerKeys;
      expect(keys.find((key) => key.provider === 'OPENAI')).toMatchObject({
        health: 'INVALID_KEY',
        lastTestMessage: expect.stringMatching(/rejected this key/),
      });

      // Both unusable: the built-in allocation serves.
      await report({ accountId: 'acct_acme', keyId: anthropic.id, keyVersion: 1, outcome: 'QUOTA_EXCEEDED' });
      expect((await resolve({ accountId: 'acct_acme', task: 'ANALYSIS' })).json).toMatchObject({
        status: 'BUILT_IN',
        apiKey: BUILTIN_KEY,
      });

      // A passing test by the admin puts the key back.
      await app().gql(TestProviderKeyDocument, { input: { provider: 'OPENAI' } }, alice);
      expect((await resolve({ accountId: 'acct_acme', task: 'ANALYSIS' })).json).toMatchObject({
        provider: 'OPENAI',
        status: 'BYOK_KEY',
      });
    });

    it('ignores a report for the previous key version after a rotation, and reports of OK or of the built-in allocation', async () => {
      const { key } = await add(AiProvider.OPENAI);
      await app().gql(
        RotateProviderKeyDocument,
        { input: { provider: 'OPENAI', apiKey: makeKey(AiProvider.OPENAI, 'VALID', 8), verify: false } },
        alice,
      );
      const eventsBefore = (await app().gql(ProviderKeyEventsDocument, { first: 50 }, alice)).data!
        .providerKeyEvents.edges.length;
      for (const body of [
        { accountId: 'acct_acme', keyId: key.id, keyVersion: 1, outcome: 'INVALID_KEY' },
        { accountId: 'acct_acme', keyId: key.id, keyVersion: 1, outcome: 'RATE_LIMITED' },
        { accountId: 'acct_acme', keyId: key.id, keyVersion: 2, outcome: 'OK' },
        { accountId: 'acct_acme', keyId: null, keyVersion: null, outcome: 'QUOTA_EXCEEDED' },
        { accountId: 'acct_globex', keyId: key.id, keyVersion: 2, outcome: 'INVALID_KEY' }, // another account's id
      ]) {
        expect((await report(body)).status).toBe(204);
      }
      const keys = (await app().gql(ProviderKeysDocument, {}, alice)).data!.providerKeys;
      expect(keys[0]).toMatchObject({ health: 'UNTESTED', version: 2, coolingDownUntil: null });
      expect(
        (await app().gql(ProviderKeyEventsDocument, { first: 50 }, alice)).data!.providerKeyEvents.edges,
      ).toHaveLength(eventsBefore);
      expect((await resolve({ accountId: 'acct_acme', task: 'ANALYSIS' })).json).toMatchObject({
        provider: 'OPENAI',
        keyVersion: 2,
      });
    });

    it('cools a key down for 60 s after three transient failures within 60 s, then serves it again', async () => {
      const { key } = await add(AiProvider.OPENAI);
      const transient = (outcome: string) =>
        report({ accountId: 'acct_acme', keyId: key.id, keyVersion: 1, outcome });
      await transient('RATE_LIMITED');
      clock.at += 61_000; // the first falls out of the window
      await transient('PROVIDER_ERROR');
      await transient('PROVIDER_UNREACHABLE');
      expect((await resolve({ accountId: 'acct_acme', task: 'ANALYSIS' })).json).toMatchObject({
        provider: 'OPENAI',
      });
      clock.at += 30_000;
      await transient('RATE_LIMITED'); // the third within 60 s
      const cooling = await resolve({ accountId: 'acct_acme', task: 'ANALYSIS' });
      expect(cooling.json).toMatchObject({ status: 'BUILT_IN', apiKey: BUILTIN_KEY });
      const listed = (await app().gql(ProviderKeysDocument, {}, alice)).data!.providerKeys[0];
      expect(listed).toMatchObject({
        health: 'UNTESTED',
        coolingDownUntil: new Date(clock.at + 60_000).toISOString(),
      });

      clock.at += 59_000;
      expect((await resolve({ accountId: 'acct_acme', task: 'ANALYSIS' })).json.status).toBe('BUILT_IN');
      clock.at += 2_000;
      expect((await resolve({ accountId: 'acct_acme', task: 'ANALYSIS' })).json).toMatchObject({
        provider: 'OPENAI',
        status: 'BYOK_KEY',
      });
    });

    it('counts every resolve of 8 concurrent clients, and every failure, in usage and lastUsedAt', async () => {
      const { key } = await add(AiProvider.OPENAI);
      await app().flushUsage();
      let sent = 0;
      const client = async () => {
        while (sent < 1_000) {
          sent += 1;
          const answer = await resolve({ accountId: 'acct_acme', task: 'INTERVIEW_CONVERSATION' });
          expect(answer.status).toBe(200);
        }
      };
      await Promise.all(Array.from({ length: 8 }, client));
      for (const outcome of ['RATE_LIMITED', 'PROVIDER_ERROR'])
        await report({ accountId: 'acct_acme', keyId: key.id, keyVersion: 1, outcome });
      await app().flushUsage();
      const [listed] = (await app().gql(ProviderKeyUsageDocument, {}, alice)).data!.providerKeys;
      expect(listed.usage).toEqual([
        { day: new Date(clock.at).toISOString().slice(0, 10), resolves: 1_000, failures: 2 },
      ]);
      expect(listed.lastUsedAt).toBe(new Date(Math.floor(clock.at / 60_000) * 60_000).toISOString());

      // The next day adds a row of its own, newest first; days outside 1..90 are refused.
      clock.at += 86_400_000;
      await resolve({ accountId: 'acct_acme', task: 'ANALYSIS' });
      await app().flushUsage();
      const [later] = (await app().gql(ProviderKeyUsageDocument, { days: 2 }, alice)).data!.providerKeys;
      expect(later.usage.map((day) => day.resolves)).toEqual([1, 1_000]);
      expect(
        (await app().gql(ProviderKeyUsageDocument, { days: 1 }, alice)).data!.providerKeys[0].usage,
      ).toHaveLength(1);
      for (const days of [0, 91]) {
        const refused = await app().gql(ProviderKeyUsageDocument, { days }, alice);
        expect(refused.errors?.[0]).toMatchObject({
          message: 'days must be between 1 and 90.',
          extensions: { code: 'BAD_USER_INPUT' },
        });
      }
    });

    it('removes a key with its usage, and only its usage', async () => {
      const { key: openai } = await add(AiProvider.OPENAI);
      const { key: mistral } = await add(AiProvider.MISTRAL);
      await resolve({ accountId: 'acct_acme', task: 'ANALYSIS' }); // served by OpenAI, the first in order
      await app().flushUsage();
      // A day of use of the other key, as an earlier flush would have left it.
      await app().dataSource.query(
        'INSERT INTO provider_key_usage (key_id, day, account_id, resolves, failures) VALUES (?, ?, ?, ?, ?)',
        [mistral.id, '2026-11-30', 'acct_acme', 3, 0],
      );
      const usageRows = async (keyId: string) =>
        (
          await app().dataSource.query<unknown[]>('SELECT day FROM provider_key_usage WHERE key_id = ?', [
            keyId,
          ])
        ).length;
      expect(await usageRows(openai.id)).toBe(1);

      const removed = await app().gql(RemoveProviderKeyDocument, { provider: 'OPENAI' }, alice);
      expect(removed.errors).toBeUndefined();
      expect(await usageRows(openai.id)).toBe(0);
      expect(await usageRows(mistral.id)).toBe(1);
    });

    it('hands each account its own key when many resolves arrive at once, and only for its exact id', async () => {
      // Resolves that arrive together are read in batches of up to 32 accounts (account-part.ts): 40
      // accounts in one go, over HTTP and in-process (the same tick, so surely batched), cross no keys.
      const ids = Array.from({ length: 40 }, (_, i) => `acct_batch_${i}`);
      const { dataSource } = app();
      await dataSource.getRepository(Account).insert(ids.map((id) => ({ id, name: id, plan: Plan.GROWTH })));
      await dataSource
        .getRepository(Membership)
        .insert(ids.map((accountId) => ({ userId: `admin_${accountId}`, accountId, role: Role.ADMIN })));
      try {
        const stored = new Map<string, { apiKey: string; keyId: string }>();
        for (const id of ids) {
          const apiKey = makeKey(AiProvider.OPENAI);
          const added = await app().gql(
            AddProviderKeyDocument,
            { input: { provider: AiProvider.OPENAI, apiKey, verify: false } },
            await app().token(`admin_${id}`, id),
          );
          stored.set(id, { apiKey, keyId: added.data!.addProviderKey.id });
        }
        const asked = [...ids, 'acct_batch_none', 'ACCT_BATCH_0'];
        const [overHttp, inProcess] = await Promise.all([
          Promise.all(asked.map((accountId) => resolve({ accountId, task: 'ANALYSIS' }))),
          Promise.allSettled(asked.map((accountId) => app().resolveCredential(accountId, AiTask.ANALYSIS))),
        ]);
        for (const [i, id] of ids.entries()) {
          expect(overHttp[i]).toMatchObject({ status: 200, json: { ...stored.get(id), status: 'BYOK_KEY' } });
          expect(inProcess[i]).toMatchObject({ status: 'fulfilled', value: stored.get(id) });
        }
        for (const i of [ids.length, ids.length + 1]) {
          expect(overHttp[i]).toMatchObject({ status: 404, json: { error: { code: 'ACCOUNT_NOT_FOUND' } } });
          expect(inProcess[i]).toMatchObject({
            status: 'rejected',
            reason: { name: 'AccountNotFoundError' },
          });
        }
      } finally {
        await dataSource.getRepository(ProviderKey).delete({ accountId: In(ids) });
        await dataSource.getRepository(Membership).delete({ accountId: In(ids) });
        await dataSource.getRepository(Account).delete({ id: In(ids) });
      }
    });

    it('logs one line per request with service, route, account and outcome, never the key', async () => {
      const { apiKey } = await add(AiProvider.OPENAI);
      const before = app().logs.length;
      await resolve({ accountId: 'acct_acme', task: 'ANALYSIS' });
      await resolve({ accountId: 'acct_acme', task: 'NOPE' });
      await app().internal(`/internal/v1/credentials/${apiKey}`, {}, resolver);
      const lines = app()
        .logs.slice(before)
        .map((line) => JSON.parse(line))
        .filter((line) => line.msg === 'internal request');
      expect(lines).toEqual([
        expect.objectContaining({
          service: 'interview-pipeline',
          route: RESOLVE,
          accountId: 'acct_acme',
          status: 200,
          outcome: 'OK',
          durationMs: expect.any(Number),
        }),
        expect.objectContaining({
          service: 'interview-pipeline',
          route: RESOLVE,
          status: 400,
          outcome: 'BAD_REQUEST',
        }),
        expect.objectContaining({ route: '(other)', status: 404, outcome: 'NOT_FOUND' }),
      ]);
      expect(keyFragmentsIn(app().logs.slice(before).join('\n'), apiKey)).toEqual([]);
    });
  },
  {
    env: { INTERNAL_PORT: '0', BUILTIN_PROVIDER: 'MISTRAL', BUILTIN_MISTRAL_API_KEY: BUILTIN_KEY },
    overrides: { now },
  },
);

describe('internal credential API: what it refuses (SQLite)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp('sqlite', { env: { INTERNAL_PORT: '0' } });
  });
  afterAll(() => app.stop());

  const error = (answer: { status: number; json: any; headers: Headers }) => ({
    status: answer.status,
    code: answer.json?.error?.code,
    noStore: answer.headers.get('cache-control') === 'no-store',
  });

  it('answers every error of the contract as JSON saying what to fix', async () => {
    const token = await app.serviceToken('analysis', ['credentials:resolve', 'credentials:report']);
    const cases: [string, Promise<any>, number, string, RegExp][] = [
      [
        'unknown field',
        app.internal(RESOLVE, { accountId: 'acct_acme', task: 'ANALYSIS', model: 'x' }, token),
        400,
        'BAD_REQUEST',
        /Unknown field "model": the fields are accountId, task/,
      ],
      [
        'missing field',
        app.internal(RESOLVE, { accountId: 'acct_acme' }, token),
        400,
        'BAD_REQUEST',
        /Missing task/,
      ],
      [
        'wrong type',
        app.internal(RESOLVE, { accountId: 42, task: 'ANALYSIS' }, token),
        400,
        'BAD_REQUEST',
        /accountId must be/,
      ],
      [
        'unknown task',
        app.internal(RESOLVE, { accountId: 'acct_acme', task: 'SUMMARY' }, token),
        400,
        'BAD_REQUEST',
        /task must be one of INTERVIEW_CONVERSATION, ANALYSIS, INSIGHT_GENERATION/,
      ],
      ['not an object', app.internal(RESOLVE, [1, 2], token), 400, 'BAD_REQUEST', /JSON object/],
      ['not JSON', app.internal(RESOLVE, '{"accountId": ', token), 400, 'BAD_REQUEST', /not valid JSON/],
      [
        'unknown outcome',
        app.internal(
          REPORT,
          { accountId: 'acct_acme', keyId: null, keyVersion: null, outcome: 'TEAPOT' },
          token,
        ),
        400,
        'BAD_REQUEST',
        /outcome must be one of OK, INVALID_KEY/,
      ],
      [
        'keyVersion without keyId',
        app.internal(REPORT, { accountId: 'acct_acme', keyId: null, keyVersion: 3, outcome: 'OK' }, token),
        400,
        'BAD_REQUEST',
        /keyVersion must be/,
      ],
      [
        'a status that is none',
        app.internal(
          REPORT,
          { accountId: 'acct_acme', keyId: null, keyVersion: null, outcome: 'OK', providerStatus: 42 },
          token,
        ),
        400,
        'BAD_REQUEST',
        /providerStatus/,
      ],
      [
        'unknown account',
        app.internal(RESOLVE, { accountId: 'acct_nope', task: 'ANALYSIS' }, token),
        404,
        'ACCOUNT_NOT_FOUND',
        /No account/,
      ],
      [
        'nothing may serve',
        app.internal(RESOLVE, { accountId: 'acct_acme', task: 'ANALYSIS' }, token),
        409,
        'NO_USABLE_CREDENTIAL',
        /No credential/,
      ],
      [
        'not JSON content',
        app.internal(RESOLVE, 'accountId=acct_acme', token, {
          'content-type': 'application/x-www-form-urlencoded',
        }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        /application\/json/,
      ],
      [
        'too large',
        app.internal(RESOLVE, { accountId: 'acct_acme', task: 'ANALYSIS', pad: 'x'.repeat(40_000) }, token),
        413,
        'PAYLOAD_TOO_LARGE',
        /exceeds/,
      ],
      [
        'unknown route',
        app.internal('/internal/v1/credentials/rotate', {}, token),
        404,
        'NOT_FOUND',
        /No such route/,
      ],
    ];
    for (const [what, answer, status, code, message] of cases) {
      const got = await answer;
      expect({ what, ...error(got) }).toEqual({ what, status, code, noStore: true });
      expect({ what, message: got.json.error.message }).toEqual({
        what,
        message: expect.stringMatching(message),
      });
    }
    const nothing = await app.internal(RESOLVE, { accountId: 'acct_acme', task: 'ANALYSIS' }, token);
    expect(nothing.json.error.reason).toBe(
      'No credential for ANALYSIS of account acct_acme: it has no usable key of its own and BUILTIN_OPENAI_API_KEY is not set.',
    );
    const get = await fetch(`${app.internalUrl}${RESOLVE}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });

  it('refuses missing, malformed, expired, unsigned and user tokens, and a missing scope', async () => {
    const key = new TextEncoder().encode(TEST_JWT_SECRET);
    const service = (claims: Record<string, unknown>, exp: number | string = '1h') =>
      new SignJWT({ scope: 'credentials:resolve', ...claims })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('analysis')
        .setExpirationTime(exp);
    const tokens = [
      undefined,
      'not-a-jwt',
      await service({ aud: 'byok-internal' }, Math.floor(Date.now() / 1000) - 60).sign(key), // expired
      await service({}).sign(key), // no audience
      await service({ aud: 'another-api' }).sign(key),
      await service({ aud: 'byok-internal' }).sign(
        new TextEncoder().encode('another-secret-that-is-also-long-enough-000'),
      ),
      new UnsecuredJWT({ scope: 'credentials:resolve', aud: 'byok-internal', sub: 'analysis' })
        .setExpirationTime('1h')
        .encode(),
      await app.token('user_alice', 'acct_acme'), // a user's token
    ];
    for (const token of tokens) {
      const answer = await app.internal(RESOLVE, { accountId: 'acct_acme', task: 'ANALYSIS' }, token);
      expect(error(answer)).toEqual({ status: 401, code: 'UNAUTHENTICATED', noStore: true });
    }
    const resolveOnly = await app.serviceToken('analysis', ['credentials:resolve']);
    const reportOnly = await app.serviceToken('analysis', ['credentials:report']);
    const reportBody = { accountId: 'acct_acme', keyId: null, keyVersion: null, outcome: 'OK' };
    expect(error(await app.internal(REPORT, reportBody, resolveOnly))).toEqual({
      status: 403,
      code: 'FORBIDDEN',
      noStore: true,
    });
    expect(
      error(await app.internal(RESOLVE, { accountId: 'acct_acme', task: 'ANALYSIS' }, reportOnly)),
    ).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect((await app.internal(REPORT, reportBody, reportOnly)).status).toBe(204);
  });

  it('is not reachable on the public listener, and a service token is UNAUTHENTICATED on /graphql', async () => {
    const token = await app.serviceToken('analysis', ['credentials:resolve']);
    const onPublic = await fetch(`${app.url}${RESOLVE}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ accountId: 'acct_acme', task: 'ANALYSIS' }),
    });
    expect(onPublic.status).toBe(404);
    expect(await onPublic.text()).not.toMatch(/apiKey/);
    const graphql = await app.gql(MeDocument, {}, token);
    expect(graphql.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect((await fetch(`${app.internalUrl}/graphql`, { method: 'POST' })).status).toBe(404);
  });
});

describe.each(DATABASES)('internal credential API while the database is away [%s]', (database) => {
  it('answers 503 UNAVAILABLE, and recovers with the database', async () => {
    const app = await startTestApp(database, { env: { INTERNAL_PORT: '0' } });
    try {
      const token = await app.serviceToken('analysis', ['credentials:resolve']);
      await app.dataSource.destroy();
      try {
        const answer = await app.internal(RESOLVE, { accountId: 'acct_acme', task: 'ANALYSIS' }, token);
        expect({ status: answer.status, code: answer.json.error.code }).toEqual({
          status: 503,
          code: 'UNAVAILABLE',
        });
        expect(answer.headers.get('cache-control')).toBe('no-store');
        expect(answer.text).not.toMatch(/select|sqlite|pool|stack/i);
      } finally {
        await app.dataSource.initialize();
      }
      expect((await app.internal(RESOLVE, { accountId: 'acct_acme', task: 'ANALYSIS' }, token)).status).toBe(
        409,
      );
    } finally {
      await app.stop();
    }
  });
});
