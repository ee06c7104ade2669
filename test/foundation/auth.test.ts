import { SignJWT } from 'jose';
import { MeDocument } from '../generated/graphql';
import { Membership } from '../../src/accounts/membership.entity';
import { Role } from '../../src/accounts/role.enum';
import { loadConfig } from '../../src/config';
import { describeEachDatabase, startTestApp, TestApp, TEST_JWT_SECRET } from '../support/test-app';

describeEachDatabase('authentication and the me query', (app) => {
  it('answers ADMIN and GROWTH for the Acme admin', async () => {
    const result = await app().gql(MeDocument, {}, await app().token('user_alice', 'acct_acme'));
    expect(result.errors).toBeUndefined();
    expect(result.data?.me).toEqual({
      userId: 'user_alice',
      accountId: 'acct_acme',
      role: 'ADMIN',
      plan: 'GROWTH',
    });
  });

  it('answers MEMBER for Bob and STARTER for Initech', async () => {
    const bob = await app().gql(MeDocument, {}, await app().token('user_bob', 'acct_acme'));
    expect(bob.data?.me).toMatchObject({ role: 'MEMBER', plan: 'GROWTH' });
    const ivan = await app().gql(MeDocument, {}, await app().token('user_ivan', 'acct_initech'));
    expect(ivan.data?.me).toMatchObject({ role: 'ADMIN', plan: 'STARTER' });
  });

  it('answers UNAUTHENTICATED without a token, with a malformed one, or with a bad signature', async () => {
    const forged = await new SignJWT({ account_id: 'acct_acme' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('user_alice')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('another-secret-that-is-also-long-enough-000'));
    for (const token of [undefined, 'not-a-jwt', forged]) {
      const result = await app().gql(MeDocument, {}, token);
      expect(result.data).toBeNull();
      expect(result.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
      expect(result.errors?.[0].message).not.toMatch(/Not Authorised/i);
    }
  });

  it('answers a tokenless operation early, exactly as the permission rules would', async () => {
    const withoutLocations = (json: { errors: { locations?: unknown }[] }) => ({
      ...json,
      errors: json.errors.map(({ locations: _, ...rest }) => rest),
    });
    // Root fields only: answered before execution. A root fragment: answered by the rules in execution.
    const early = await app().post({ query: '{ a: me { role } providerKeys { id } }' });
    const byRules = await app().post({ query: '{ ... on Query { a: me { role } providerKeys { id } } }' });
    expect(early.json).toEqual({
      data: null,
      errors: [
        {
          message: 'A valid bearer token is required.',
          locations: [{ line: 1, column: 3 }],
          path: ['a'],
          extensions: { code: 'UNAUTHENTICATED' },
        },
      ],
    });
    expect(withoutLocations(byRules.json)).toEqual(withoutLocations(early.json));
    // __typename needs no token, so that operation is executed normally.
    const mixed = await app().post({ query: '{ __typename me { role } }' });
    expect(mixed.json.errors.map((error: { path: string[] }) => error.path)).toEqual([['me']]);
  });

  it('answers UNAUTHENTICATED for an expired token and for one without exp or account_id', async () => {
    const key = new TextEncoder().encode(TEST_JWT_SECRET);
    const expired = await new SignJWT({ account_id: 'acct_acme' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('user_alice')
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(key);
    const noExp = await new SignJWT({ account_id: 'acct_acme' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('user_alice')
      .sign(key);
    const noAccount = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('user_alice')
      .setExpirationTime('1h')
      .sign(key);
    for (const token of [expired, noExp, noAccount]) {
      const result = await app().gql(MeDocument, {}, token);
      expect(result.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    }
  });

  it('refuses a token once it expires, although the same token was accepted a moment before', async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const token = await new SignJWT({ account_id: 'acct_acme' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('user_alice')
      .setExpirationTime(exp)
      .sign(new TextEncoder().encode(TEST_JWT_SECRET));
    expect((await app().gql(MeDocument, {}, token)).data?.me.role).toBe('ADMIN');
    await new Promise((resolve) => setTimeout(resolve, exp * 1000 - Date.now() + 50));
    const late = await app().gql(MeDocument, {}, token);
    expect(late.data).toBeNull();
    expect(late.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('answers FORBIDDEN to a valid user acting in an account they do not belong to', async () => {
    const result = await app().gql(MeDocument, {}, await app().token('user_alice', 'acct_globex'));
    expect(result.data).toBeNull();
    expect(result.errors).toHaveLength(1);
    expect(result.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  it('reads the role from the database on every request: a demoted admin is a member at once', async () => {
    const token = await app().token('user_alice', 'acct_acme');
    const memberships = app().dataSource.getRepository(Membership);
    try {
      await memberships.update({ userId: 'user_alice', accountId: 'acct_acme' }, { role: Role.MEMBER });
      expect((await app().gql(MeDocument, {}, token)).data?.me.role).toBe('MEMBER');
      await memberships.delete({ userId: 'user_alice', accountId: 'acct_acme' });
      expect((await app().gql(MeDocument, {}, token)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    } finally {
      await memberships.save({ userId: 'user_alice', accountId: 'acct_acme', role: Role.ADMIN });
    }
    expect((await app().gql(MeDocument, {}, token)).data?.me.role).toBe('ADMIN');
  });
});

describe('token age (SQLite)', () => {
  const key = new TextEncoder().encode(TEST_JWT_SECRET);
  const now = () => Math.floor(Date.now() / 1000);
  const sign = (iat: number | undefined) => {
    const jwt = new SignJWT({ account_id: 'acct_acme' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('user_alice')
      .setExpirationTime(now() + 3600);
    return (iat === undefined ? jwt : jwt.setIssuedAt(iat)).sign(key);
  };
  const code = async (app: TestApp, token: string) =>
    (await app.gql(MeDocument, {}, token)).errors?.[0].extensions?.code ?? 'OK';

  it('refuses a token issued in the future, beyond a small clock skew', async () => {
    const app = await startTestApp('sqlite');
    try {
      expect(await code(app, await sign(now() + 600))).toBe('UNAUTHENTICATED');
      expect(await code(app, await sign(now() + 30))).toBe('OK');
      expect(await code(app, await sign(now() - 7200))).toBe('OK'); // no AUTH_MAX_TOKEN_AGE: any age
    } finally {
      await app.stop();
    }
  });

  it('refuses tokens older than AUTH_MAX_TOKEN_AGE, and tokens that do not say when they were issued', async () => {
    const app = await startTestApp('sqlite', { env: { AUTH_MAX_TOKEN_AGE: '1h' } });
    try {
      expect(await code(app, await sign(now() - 7200))).toBe('UNAUTHENTICATED');
      expect(await code(app, await sign(undefined))).toBe('UNAUTHENTICATED');
      expect(await code(app, await sign(now() - 60))).toBe('OK');
    } finally {
      await app.stop();
    }
  });

  it('stops start-up on an AUTH_MAX_TOKEN_AGE that is not a duration', () => {
    expect(() => loadConfig({ AUTH_MAX_TOKEN_AGE: 'forever' })).toThrow(
      'AUTH_MAX_TOKEN_AGE: expected a duration such as 15m, 12h or 1d, got "forever"',
    );
  });
});
