import { MeDocument } from '../generated/graphql';
import { describeEachDatabase, startTestApp } from '../support/test-app';

describeEachDatabase('HTTP surface', (app) => {
  it('answers /healthz and /readyz while the database answers', async () => {
    expect((await fetch(`${app().url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${app().url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });

  it('answers 404 with a pointer to /graphql for other paths', async () => {
    const response = await fetch(`${app().url}/nope`);
    expect(response.status).toBe(404);
    expect(await response.text()).toContain('/graphql');
  });

  it('rejects invalid JSON and oversized bodies with a clear message', async () => {
    const broken = await app().post('{"query": ');
    expect(broken.status).toBe(400);
    expect(broken.json.errors[0].message).toMatch(/not valid JSON/);
    const huge = await app().post({ query: `{ me { role } } #${'x'.repeat(200 * 1024)}` });
    expect(huge.status).toBe(413);
    expect(huge.json.errors[0].message).toMatch(/exceeds \d+ bytes/);
  });

  it('names parse and validation failures with their GraphQL codes', async () => {
    const parse = await app().post({ query: '{ me { role ' });
    expect(parse.json.errors[0].extensions.code).toBe('GRAPHQL_PARSE_FAILED');
    const unknown = await app().post({ query: '{ nope }' });
    expect(unknown.json.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(unknown.json.errors[0].extensions.stacktrace).toBeUndefined();
  });

  it.each([
    [
      'a subscription',
      { query: 'subscription Watch { me { role } }' },
      'GRAPHQL_VALIDATION_FAILED',
      /no subscriptions/,
    ],
    [
      'a persisted query whose hash does not match',
      { query: '{ me { role } }', extensions: { persistedQuery: { version: 1, sha256Hash: 'abc' } } },
      'BAD_USER_INPUT',
      /sha does not match/,
    ],
    [
      'a persisted query of an unknown version',
      { query: '{ me { role } }', extensions: { persistedQuery: { version: 2, sha256Hash: 'abc' } } },
      'BAD_USER_INPUT',
      /version/,
    ],
  ])('answers %s as a client error, logged at info without a stack', async (_what, body, code, message) => {
    const token = await app().token('user_alice', 'acct_acme');
    const before = app().logs.length;
    const result = await app().post(body, { authorization: `Bearer ${token}` });
    expect(result.status).toBe(400);
    expect(result.json.errors).toEqual([
      expect.objectContaining({ message: expect.stringMatching(message), extensions: { code } }),
    ]);
    const lines = app()
      .logs.slice(before)
      .map((line) => JSON.parse(line));
    expect(lines.filter((line) => line.level >= 40)).toEqual([]);
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 30, msg: 'graphql operation', outcome: code }),
    );
  });

  it('marks every GraphQL answer uncacheable, data and errors alike', async () => {
    const token = await app().token('user_alice', 'acct_acme');
    for (const authorization of [`Bearer ${token}`, 'Bearer nope']) {
      const response = await fetch(`${app().url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body: JSON.stringify({ query: '{ providerKeys { id maskedKey } }' }),
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('tells browsers never to sniff a content type, on every kind of answer', async () => {
    const answers = [await fetch(`${app().url}/healthz`), await fetch(`${app().url}/nope`)];
    for (const body of [{ query: '{ me { role } }' }, '{"query": ']) {
      answers.push(
        await fetch(`${app().url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: typeof body === 'string' ? body : JSON.stringify(body),
        }),
      );
    }
    expect(answers.map((response) => response.headers.get('x-content-type-options'))).toEqual([
      'nosniff',
      'nosniff',
      'nosniff',
      'nosniff',
    ]);
  });

  it('blocks a GET query without a preflight header (CSRF prevention)', async () => {
    const response = await fetch(`${app().url}/graphql?query=${encodeURIComponent('{ me { role } }')}`);
    expect(response.status).toBe(400);
  });
});

describe.each(['mariadb', 'sqlite'] as const)('when the database goes away [%s]', (database) => {
  it('masks the failure as "Internal server error", logs it, and /readyz turns unready', async () => {
    const app = await startTestApp(database);
    const token = await app.token('user_alice', 'acct_acme');
    try {
      await app.dataSource.destroy();
      const result = await app.gql(MeDocument, {}, token);
      expect(result.errors).toHaveLength(1);
      expect(result.errors?.[0]).toEqual({
        message: 'Internal server error',
        path: ['me'],
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      });
      expect(JSON.stringify(result)).not.toMatch(/select|membership|stack|at /i);
      expect(app.logs.some((line) => line.includes('"level":50'))).toBe(true);
      expect((await fetch(`${app.url}/readyz`)).status).toBe(503);
    } finally {
      await app.dataSource.initialize();
      await app.stop();
    }
  });
});
