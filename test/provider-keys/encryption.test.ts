import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  AddProviderKeyDocument,
  RemoveProviderKeyDocument,
  TestProviderKeyDocument,
} from '../generated/graphql';
import { AiProvider } from '../../src/providers/ai-provider.enum';
import { ProviderKey } from '../../src/provider-keys/provider-key.entity';
import { openKey } from '../../src/crypto/envelope';
import { parseKeyring } from '../../src/crypto/keyring';
import { makeKey } from '../support/fake-providers';
import { DATABASES, startTestApp, TestApp } from '../support/test-app';

// Stored keys at rest: envelope-encrypted, bound to their row, failing closed on any tampering, readable
// across master key versions, and gone for good once removed.

const masterKey = () => crypto.randomBytes(32).toString('base64');

describe.each(DATABASES)('stored key encryption [%s]', (database) => {
  const v1 = masterKey();
  const v2 = masterKey();
  let app: TestApp;
  let alice: string;
  let gina: string;

  beforeAll(async () => {
    app = await startTestApp(database, { env: { BYOK_MASTER_KEYS: `1:${v1}` } });
    alice = await app.token('user_alice', 'acct_acme');
    gina = await app.token('user_gina', 'acct_globex');
  });
  afterAll(async () => {
    await app?.stop();
    await app?.providers.close();
  });

  const keys = () => app.dataSource.getRepository(ProviderKey);
  const testStored = (token: string, provider: 'OPENAI' | 'ANTHROPIC' = 'OPENAI') =>
    app.gql(TestProviderKeyDocument, { input: { provider } }, token);

  it('stores ciphertext, never the key, and opens it only with the row it belongs to', async () => {
    const apiKey = makeKey(AiProvider.OPENAI);
    await app.gql(AddProviderKeyDocument, { input: { provider: 'OPENAI', apiKey, verify: false } }, alice);
    const row = await keys().findOneByOrFail({ accountId: 'acct_acme', provider: AiProvider.OPENAI });
    expect(row.ciphertext.includes(Buffer.from(apiKey))).toBe(false);
    expect(row.masterKeyVersion).toBe(1);
    expect(
      openKey(
        row,
        { accountId: row.accountId, provider: row.provider, keyId: row.id },
        parseKeyring(`1:${v1}`),
      ),
    ).toBe(apiKey);
  });

  it.each(['ciphertext', 'iv', 'tag', 'wrappedKey'] as const)(
    'fails closed, masked, when one byte of %s is flipped',
    async (column) => {
      const row = await keys().findOneByOrFail({ accountId: 'acct_acme', provider: AiProvider.OPENAI });
      const original = Buffer.from(row[column]);
      const tampered = Buffer.from(original);
      tampered[tampered.length >> 1] ^= 0x01;
      await keys().update({ id: row.id }, { [column]: tampered });
      app.providers.reset();
      try {
        const result = await testStored(alice);
        expect(result.data).toBeNull();
        expect(result.errors).toEqual([
          expect.objectContaining({
            message: 'Internal server error',
            extensions: { code: 'INTERNAL_SERVER_ERROR' },
          }),
        ]);
        expect(app.providers.requests).toHaveLength(0);
        expect(app.logs.join('\n')).toContain('integrity check failed');
      } finally {
        await keys().update({ id: row.id }, { [column]: original });
      }
      expect((await testStored(alice)).data?.testProviderKey.health).toBe('VALID');
    },
  );

  it("fails closed when a ciphertext is moved into another account's or another provider's row", async () => {
    await app.gql(
      AddProviderKeyDocument,
      { input: { provider: 'OPENAI', apiKey: makeKey(AiProvider.OPENAI, 'VALID', 4), verify: false } },
      gina,
    );
    await app.gql(
      AddProviderKeyDocument,
      { input: { provider: 'ANTHROPIC', apiKey: makeKey(AiProvider.ANTHROPIC), verify: false } },
      alice,
    );
    const source = await keys().findOneByOrFail({ accountId: 'acct_acme', provider: AiProvider.OPENAI });
    const material = {
      ciphertext: source.ciphertext,
      iv: source.iv,
      tag: source.tag,
      wrappedKey: source.wrappedKey,
      masterKeyVersion: source.masterKeyVersion,
    };
    await keys().update({ accountId: 'acct_globex', provider: AiProvider.OPENAI }, material);
    await keys().update({ accountId: 'acct_acme', provider: AiProvider.ANTHROPIC }, material);
    app.providers.reset();
    for (const result of [await testStored(gina), await testStored(alice, 'ANTHROPIC')]) {
      expect(result.errors?.[0]).toMatchObject({
        message: 'Internal server error',
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      });
    }
    expect(app.providers.requests).toHaveLength(0);
    await app.gql(RemoveProviderKeyDocument, { provider: 'OPENAI' }, gina);
    await app.gql(RemoveProviderKeyDocument, { provider: 'ANTHROPIC' }, alice);
  });

  it('still opens keys written under master key version 1 after version 2 is added, and seals new ones under 2', async () => {
    const apiKey = makeKey(AiProvider.OPENAI);
    await app.stop(true);
    app = await startTestApp(database, {
      env: { ...app.env, BYOK_MASTER_KEYS: `1:${v1},2:${v2}` },
      providers: app.providers,
      dataDir: app.dataDir,
      databaseUrl: app.env.DATABASE_URL,
    });
    app.providers.reset();
    const tested = await testStored(alice);
    expect(tested.data?.testProviderKey).toMatchObject({ ok: true, health: 'VALID' });
    expect(app.providers.requests.map((request) => request.headers.authorization)).toEqual([
      `Bearer ${apiKey}`,
    ]);

    await app.gql(
      AddProviderKeyDocument,
      { input: { provider: 'MISTRAL', apiKey: makeKey(AiProvider.MISTRAL), verify: false } },
      alice,
    );
    const versions = Object.fromEntries(
      (await keys().find()).map((row) => [row.provider, row.masterKeyVersion]),
    );
    expect(versions).toEqual({ OPENAI: 1, MISTRAL: 2 });
    expect((await fetch(`${app.url}/readyz`)).status).toBe(200);
  });

  it('is not ready when a stored key needs a master key version the keyring lacks', async () => {
    await app.stop(true);
    app = await startTestApp(database, {
      env: { ...app.env, BYOK_MASTER_KEYS: `2:${v2}` },
      providers: app.providers,
      dataDir: app.dataDir,
      databaseUrl: app.env.DATABASE_URL,
    });
    const ready = await fetch(`${app.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(app.logs.join('\n')).toMatch(/master key version\(s\) 1, which BYOK_MASTER_KEYS lacks/);
  });

  it('leaves nothing recoverable after a remove: no row, no ciphertext or wrapped key anywhere in the database', async () => {
    const row = await keys().findOneByOrFail({ accountId: 'acct_acme', provider: AiProvider.MISTRAL });
    const removed = await app.gql(RemoveProviderKeyDocument, { provider: 'MISTRAL' }, alice);
    expect(removed.errors).toBeUndefined();
    expect(await keys().findOneBy({ id: row.id })).toBeNull();
    const dump = await dumpDatabase(app);
    for (const secret of [row.ciphertext, row.wrappedKey, row.tag]) {
      expect(dump.includes(secret.toString('hex'))).toBe(false);
      if (database === 'sqlite') {
        const file = fs.readFileSync(path.join(app.dataDir, 'byok.sqlite'));
        expect(file.includes(secret)).toBe(false);
      }
    }
  });

  it('overwrites the key material with zeros of the same length, in place, before it deletes the row', async () => {
    // A trigger keeps what the row holds at the moment it is deleted.
    await app.dataSource.query(
      'CREATE TABLE deleted_key_material (ciphertext BLOB, iv BLOB, auth_tag BLOB, wrapped_key BLOB)',
    );
    const copy =
      'INSERT INTO deleted_key_material VALUES (OLD.ciphertext, OLD.iv, OLD.auth_tag, OLD.wrapped_key)';
    await app.dataSource.query(
      database === 'sqlite'
        ? `CREATE TRIGGER keep_deleted BEFORE DELETE ON provider_keys BEGIN ${copy}; END`
        : `CREATE TRIGGER keep_deleted BEFORE DELETE ON provider_keys FOR EACH ROW ${copy}`,
    );
    try {
      await app.gql(
        AddProviderKeyDocument,
        { input: { provider: 'MISTRAL', apiKey: makeKey(AiProvider.MISTRAL), verify: false } },
        alice,
      );
      const row = await keys().findOneByOrFail({ accountId: 'acct_acme', provider: AiProvider.MISTRAL });
      expect(
        (await app.gql(RemoveProviderKeyDocument, { provider: 'MISTRAL' }, alice)).errors,
      ).toBeUndefined();

      const kept: Record<string, Buffer>[] = await app.dataSource.query('SELECT * FROM deleted_key_material');
      expect(kept).toHaveLength(1);
      expect(kept[0]).toEqual({
        ciphertext: Buffer.alloc(row.ciphertext.length),
        iv: Buffer.alloc(row.iv.length),
        auth_tag: Buffer.alloc(row.tag.length),
        wrapped_key: Buffer.alloc(row.wrappedKey.length),
      });
    } finally {
      await app.dataSource.query('DROP TRIGGER keep_deleted');
      await app.dataSource.query('DROP TABLE deleted_key_material');
    }
  });
});

/** Every value of every table, hex-encoded where binary, as one string. */
async function dumpDatabase(app: TestApp): Promise<string> {
  const parts: string[] = [];
  for (const entity of app.dataSource.entityMetadatas) {
    const rows: Record<string, unknown>[] = await app.dataSource.query(`SELECT * FROM ${entity.tableName}`);
    for (const row of rows) {
      for (const value of Object.values(row))
        parts.push(Buffer.isBuffer(value) ? value.toString('hex') : String(value));
    }
  }
  return parts.join('\n');
}
