import http from 'node:http';
import { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, KeyLike, SignJWT } from 'jose';
import { MeDocument } from '../generated/graphql';
import { startTestApp, TestApp, TEST_JWT_SECRET } from '../support/test-app';

// Tokens from an identity provider: verified against its JWKS (RS256/ES256), with issuer and audience.

describe('AUTH_JWKS_URL', () => {
  let jwks: http.Server;
  let app: TestApp;
  let privateKey: KeyLike;

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    privateKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
    jwks = http.createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })),
    );
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    app = await startTestApp('sqlite', {
      env: {
        AUTH_JWT_SECRET: '',
        AUTH_JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`,
        AUTH_ISSUER: 'https://id.example.test/',
        AUTH_AUDIENCE: 'byok-api',
      },
    });
  });
  afterAll(async () => {
    await app.stop();
    await new Promise((resolve) => jwks.close(resolve));
  });

  const token = (
    claims: { iss?: string; aud?: string },
    key: KeyLike | Uint8Array = privateKey,
    alg = 'RS256',
  ) =>
    new SignJWT({ account_id: 'acct_acme', ...claims })
      .setProtectedHeader({ alg, kid: 'test-key' })
      .setSubject('user_alice')
      .setExpirationTime('10m')
      .sign(key);

  it('accepts a token the identity provider signed for this audience', async () => {
    const result = await app.gql(
      MeDocument,
      {},
      await token({ iss: 'https://id.example.test/', aud: 'byok-api' }),
    );
    expect(result.data?.me).toMatchObject({ userId: 'user_alice', role: 'ADMIN' });
  });

  it('refuses a wrong issuer or audience, another signer, and an HS256 token', async () => {
    const otherKey = (await generateKeyPair('RS256')).privateKey;
    const refused = [
      await token({ iss: 'https://evil.example.test/', aud: 'byok-api' }),
      await token({ iss: 'https://id.example.test/', aud: 'another-api' }),
      await token({ iss: 'https://id.example.test/', aud: 'byok-api' }, otherKey),
      await token(
        { iss: 'https://id.example.test/', aud: 'byok-api' },
        new TextEncoder().encode(TEST_JWT_SECRET),
        'HS256',
      ),
    ];
    for (const bad of refused)
      expect((await app.gql(MeDocument, {}, bad)).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('a signing key the identity provider withdraws', () => {
  it('is trusted for at most five minutes (the JWKS cache plus the verified-token cache)', async () => {
    const withdrawn = await generateKeyPair('RS256');
    const next = await generateKeyPair('RS256');
    const jwk = async (key: KeyLike, kid: string) => ({
      ...(await exportJWK(key)),
      kid,
      alg: 'RS256',
      use: 'sig',
    });
    let keys = [await jwk(withdrawn.publicKey, 'old'), await jwk(next.publicKey, 'new')];
    const jwks = http.createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys })),
    );
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const app = await startTestApp('sqlite', {
      env: {
        AUTH_JWT_SECRET: '',
        AUTH_JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`,
      },
    });
    // Only the wall clock moves (both caches run on it); timers, sockets and the event loop stay real.
    jest.useFakeTimers({
      now: Date.now(),
      doNotFake: [
        'hrtime',
        'nextTick',
        'performance',
        'queueMicrotask',
        'setImmediate',
        'clearImmediate',
        'setInterval',
        'clearInterval',
        'setTimeout',
        'clearTimeout',
      ],
    });
    try {
      const sign = (key: KeyLike, kid: string) =>
        new SignJWT({ account_id: 'acct_acme' })
          .setProtectedHeader({ alg: 'RS256', kid })
          .setSubject('user_alice')
          .setIssuedAt()
          .setExpirationTime('1h')
          .sign(key);
      const code = async (token: string) =>
        (await app.gql(MeDocument, {}, token)).errors?.[0].extensions?.code ?? 'OK';
      const early = await sign(withdrawn.privateKey, 'old');
      expect(await code(early)).toBe('OK');

      keys = [await jwk(next.publicKey, 'new')]; // the provider withdraws the old key
      jest.setSystemTime(Date.now() + 119_000); // just before the JWKS as fetched goes stale
      const late = await sign(withdrawn.privateKey, 'old');
      expect(await code(late)).toBe('OK'); // still the cached JWKS: this is the window

      jest.setSystemTime(Date.now() + 181_000 + 1_000); // five minutes after the withdrawal, and a second
      expect(await code(late)).toBe('UNAUTHENTICATED');
      expect(await code(early)).toBe('UNAUTHENTICATED');
      expect(await code(await sign(withdrawn.privateKey, 'old'))).toBe('UNAUTHENTICATED');
      expect(await code(await sign(next.privateKey, 'new'))).toBe('OK');
    } finally {
      jest.useRealTimers();
      await app.stop();
      await new Promise((resolve) => jwks.close(resolve));
    }
  });
});
