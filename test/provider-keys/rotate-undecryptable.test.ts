import { RotateProviderKeyDocument, AddProviderKeyDocument } from '../generated/graphql';
import { AiProvider } from '../../src/providers/ai-provider.enum';
import { AiTask } from '../../src/providers/ai-task.enum';
import { ProviderKey } from '../../src/provider-keys/provider-key.entity';
import { makeKey } from '../support/fake-providers';
import { describeEachDatabase } from '../support/test-app';

// A stored key that cannot be decrypted is the one an admin most needs to replace: rotation skips the
// "same key" comparison then, says why in a warning, and rotates.

describeEachDatabase('rotating a key that cannot be decrypted', (app) => {
  let alice: string;
  beforeAll(async () => {
    alice = await app().token('user_alice', 'acct_acme');
  });
  afterEach(async () => {
    await app().dataSource.getRepository(ProviderKey).clear();
  });

  const storedRow = () =>
    app()
      .dataSource.getRepository(ProviderKey)
      .findOneByOrFail({ accountId: 'acct_acme', provider: AiProvider.OPENAI });

  it.each([
    [
      'its wrapped key is damaged',
      `UPDATE provider_keys SET wrapped_key = ? WHERE account_id = 'acct_acme'`,
      'integrity check failed',
    ],
    [
      'it needs a master key version the keyring lacks',
      `UPDATE provider_keys SET master_key_version = 7 WHERE account_id = 'acct_acme'`,
      'needs master key version 7',
    ],
  ])('rotates when %s, and logs a warning saying why', async (_case, sql, reason) => {
    const oldKey = makeKey(AiProvider.OPENAI);
    expect(
      (
        await app().gql(
          AddProviderKeyDocument,
          { input: { provider: 'OPENAI', apiKey: oldKey, verify: false } },
          alice,
        )
      ).errors,
    ).toBeUndefined();
    const before = await storedRow();
    await app().dataSource.query(
      sql,
      sql.includes('?') ? [Buffer.alloc(before.wrappedKey.length, 0xab)] : [],
    );
    await expect(app().resolveCredential('acct_acme', AiTask.ANALYSIS)).rejects.toThrow(reason);

    const logged = app().logs.length;
    const newKey = makeKey(AiProvider.OPENAI, 'VALID', 3);
    const rotated = await app().gql(
      RotateProviderKeyDocument,
      { input: { provider: 'OPENAI', apiKey: newKey, expectedVersion: 1 } },
      alice,
    );
    expect(rotated.errors).toBeUndefined();
    expect(rotated.data?.rotateProviderKey).toMatchObject({
      version: 2,
      maskedKey: `****${newKey.slice(-4)}`,
      health: 'VALID',
    });
    expect((await app().resolveCredential('acct_acme', AiTask.ANALYSIS)).apiKey).toBe(newKey);

    const lines = app()
      .logs.slice(logged)
      .map((line) => JSON.parse(line));
    const warning = lines.find((line) => line.level === 40 && /cannot be decrypted/.test(line.msg));
    expect(warning).toMatchObject({
      accountId: 'acct_acme',
      provider: 'OPENAI',
      keyId: before.id,
      reason: expect.stringContaining(reason),
    });
    const written = app().logs.slice(logged).join('\n');
    for (const secret of [oldKey, newKey]) expect(written).not.toContain(secret.slice(3));
    for (const bytes of [before.ciphertext, before.wrappedKey]) {
      expect(written).not.toContain(bytes.toString('hex'));
      expect(written).not.toContain(bytes.toString('base64'));
    }
  });
});
