import crypto from 'node:crypto';
import { getIntrospectionQuery } from 'graphql';
import { MeDocument, ProviderKeyEventsDocument } from '../generated/graphql';
import { startTestApp, TestApp } from '../support/test-app';

// Documents over a limit are rejected with GRAPHQL_VALIDATION_FAILED before any resolver runs or the
// database is asked anything; production hides what helps a stranger map the API.

const codes = (json: { errors?: { extensions: { code: string } }[] }) =>
  json.errors?.map((error) => error.extensions.code);

describe('document limits (SQLite; no database involved)', () => {
  let app: TestApp;
  let alice: string;
  beforeAll(async () => {
    app = await startTestApp('sqlite', { env: { GRAPHQL_MAX_DEPTH: '3', GRAPHQL_MAX_COST: '20' } });
    alice = await app.token('user_alice', 'acct_acme');
  });
  afterAll(() => app.stop());

  const post = (query: string, token: string | null = alice) =>
    app.post({ query }, token ? { authorization: `Bearer ${token}` } : {});

  it("accepts the settings screens' operations under the defaults", async () => {
    expect((await app.gql(MeDocument, {}, alice)).errors).toBeUndefined();
  });

  it.each([
    ['depth', '{ providerKeyEvents { edges { node { id } } } }', /depth/i],
    ['aliases', `{ ${Array.from({ length: 16 }, (_, i) => `a${i}: me { role }`).join(' ')} }`, /alias/i],
    ['directives', `{ me ${'@include(if: true) '.repeat(11)}{ role } }`, /directive/i],
    ['tokens', `{ me { ${'role '.repeat(1_100)} } }`, /more than 1000 tokens, the limit/],
    [
      'cost',
      '{ me { role plan userId accountId } providerKeys { id provider maskedKey label endpoint deployment health version } }',
      /cost/i,
    ],
  ])(
    'rejects a document over the %s limit with GRAPHQL_VALIDATION_FAILED',
    async (_limit, query, message) => {
      const result = await post(query);
      expect(result.status).toBe(400);
      expect(codes(result.json)).toContain('GRAPHQL_VALIDATION_FAILED');
      expect(result.json.errors.map((error: { message: string }) => error.message).join(' ')).toMatch(
        message,
      );
      expect(result.json.data).toBeUndefined();
    },
  );

  it('refuses batched requests', async () => {
    const result = await app.post([{ query: '{ me { role } }' }, { query: '{ me { plan } }' }], {
      authorization: `Bearer ${alice}`,
    });
    expect(result.status).toBe(400);
    expect(result.text).toMatch(/batch/i);
  });

  it('rejects documents and anonymous requests without touching the database', async () => {
    await app.dataSource.destroy();
    try {
      const deep = await post('{ providerKeyEvents { edges { node { id } } } }');
      expect(codes(deep.json)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      const anonymous = await post('{ providerKeys { id } }', null);
      expect(codes(anonymous.json)).toEqual(['UNAUTHENTICATED']);
      const badToken = await post('{ providerKeys { id } }', `${alice}x`);
      expect(codes(badToken.json)).toEqual(['UNAUTHENTICATED']);
      // The control: a valid request does need the database, and fails cleanly without it.
      expect(codes((await post('{ me { role } }')).json)).toEqual(['INTERNAL_SERVER_ERROR']);
    } finally {
      await app.dataSource.initialize();
    }
  });
});

describe('the cost limit counts pages from variables and defaults (SQLite, default limits)', () => {
  let app: TestApp;
  let alice: string;
  beforeAll(async () => {
    app = await startTestApp('sqlite');
    alice = await app.token('user_alice', 'acct_acme');
  });
  afterAll(() => app.stop());

  // 15 aliases (the default alias limit) of a page of events: about 19,000 at 100 events a page, 3,900 at 20.
  const aliased = (first: string) =>
    Array.from({ length: 15 }, (_, i) => `e${i}: providerKeyEvents${first} { edges { node { id } } }`).join(
      ' ',
    );
  const post = (query: string, variables?: Record<string, unknown>) =>
    app.post({ query, variables }, { authorization: `Bearer ${alice}` });

  it.each([
    ['written in the document', `{ ${aliased('(first: 100)')} }`, undefined],
    ['from a variable', `query($f: Int) { ${aliased('(first: $f)')} }`, { f: 100 }],
    ["from a variable's default", `query($f: Int = 100) { ${aliased('(first: $f)')} }`, {}],
    ['from a value the resolver refuses', `query($f: Int) { ${aliased('(first: $f)')} }`, { f: 5000 }],
  ])('refuses a page size %s alike', async (_how, query, variables) => {
    const result = await post(query, variables);
    expect(result.status).toBe(400);
    expect(codes(result.json)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(result.json.errors[0].message).toMatch(/^Query Cost limit of 12000 exceeded, found \d+/);
    expect(result.json.data).toBeUndefined();
  });

  it.each([
    ['from a variable', `query($f: Int) { ${aliased('(first: $f)')} }`, { f: 20 }],
    ["from the argument's default (20)", `{ ${aliased('')} }`, undefined],
  ])('accepts the same document with small pages %s', async (_how, query, variables) => {
    const result = await post(query, variables);
    expect(result.json.errors).toBeUndefined();
    expect(Object.keys(result.json.data)).toHaveLength(15);
  });

  it("accepts the settings screen's largest page of the audit trail", async () => {
    const result = await app.gql(ProviderKeyEventsDocument, { first: 100 }, alice);
    expect(result.errors).toBeUndefined();
  });
});

describe('production posture', () => {
  const production = {
    NODE_ENV: 'production',
    BYOK_MASTER_KEYS: `1:${crypto.randomBytes(32).toString('base64')}`,
  };

  it('turns off introspection and field suggestions, and never returns a stack', async () => {
    const app = await startTestApp('sqlite', { env: production });
    try {
      const alice = await app.token('user_alice', 'acct_acme');
      const introspection = await app.post(
        { query: getIntrospectionQuery() },
        { authorization: `Bearer ${alice}` },
      );
      expect(codes(introspection.json)).toContain('GRAPHQL_VALIDATION_FAILED');
      expect(introspection.text).toMatch(/introspection/i);
      const typo = await app.post({ query: '{ me { rol } }' }, { authorization: `Bearer ${alice}` });
      expect(typo.text).not.toMatch(/Did you mean/);
      expect(typo.text).not.toMatch(/stacktrace|\.ts:\d+|at [A-Z]\w+\./);
      // Enum values are suggested by graphql-js too, in the document and in variables.
      const inline = await app.post(
        { query: 'mutation { removeProviderKey(provider: OPENA) { provider } }' },
        { authorization: `Bearer ${alice}` },
      );
      const variable = await app.post(
        {
          query: 'mutation($p: AiProvider!) { removeProviderKey(provider: $p) { provider } }',
          variables: { p: 'OPENA' },
        },
        { authorization: `Bearer ${alice}` },
      );
      for (const [result, code] of [
        [inline, 'GRAPHQL_VALIDATION_FAILED'],
        [variable, 'BAD_USER_INPUT'],
      ] as const) {
        expect(codes(result.json)).toEqual([code]);
        expect(result.json.errors[0].message).toMatch(/AiProvider/);
        expect(result.text).not.toMatch(/Did you mean|OPENAI/);
      }
      expect((await fetch(`${app.url}/graphql`, { headers: { accept: 'text/html' } })).status).not.toBe(200);
    } finally {
      await app.stop();
    }
  });

  it('lets admins have introspection back with GRAPHQL_PLAYGROUND=true', async () => {
    const app = await startTestApp('sqlite', { env: { ...production, GRAPHQL_PLAYGROUND: 'true' } });
    try {
      const alice = await app.token('user_alice', 'acct_acme');
      const introspection = await app.post(
        { query: getIntrospectionQuery() },
        { authorization: `Bearer ${alice}` },
      );
      expect(introspection.json.data.__schema.queryType.name).toBe('Query');
      const typo = await app.post({ query: '{ me { rol } }' }, { authorization: `Bearer ${alice}` });
      expect(typo.text).not.toMatch(/Did you mean/);
    } finally {
      await app.stop();
    }
  });

  it('keeps suggestions for developers outside production', async () => {
    const app = await startTestApp('sqlite');
    try {
      const typo = await app.post({ query: '{ me { rol } }' });
      expect(typo.text).toMatch(/Did you mean \\"role\\"/);
    } finally {
      await app.stop();
    }
  });
});
