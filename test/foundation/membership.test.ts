import { AddProviderKeyDocument, MeDocument, ProviderKeysDocument } from '../generated/graphql';
import { createMembershipReader } from '../../src/auth/membership.query';
import { ProviderKeyStore } from '../../src/provider-keys/provider-key.store';
import { parseKeyring } from '../../src/crypto/keyring';
import { AiProvider } from '../../src/providers/ai-provider.enum';
import { makeKey } from '../support/fake-providers';
import { describeEachDatabase } from '../support/test-app';

// Lookups of concurrent requests share a statement (src/auth/membership.query.ts). Each must still get
// its own user's role, its own account's plan and its own account's keys, and nothing of another's.

const IDENTITIES = [
  {
    userId: 'user_alice',
    accountId: 'acct_acme',
    expected: { role: 'ADMIN', plan: 'GROWTH', providers: ['OPENAI'] },
  },
  {
    userId: 'user_bob',
    accountId: 'acct_acme',
    expected: { role: 'MEMBER', plan: 'GROWTH', providers: ['OPENAI'] },
  },
  {
    userId: 'user_gina',
    accountId: 'acct_globex',
    expected: { role: 'ADMIN', plan: 'GROWTH', providers: ['ANTHROPIC', 'MISTRAL'] },
  },
  {
    userId: 'user_ivan',
    accountId: 'acct_initech',
    expected: { role: 'ADMIN', plan: 'STARTER', providers: [] },
  },
  { userId: 'user_alice', accountId: 'acct_globex', expected: undefined },
  { userId: 'user_nobody', accountId: 'acct_acme', expected: undefined },
  // Ids match exactly, although MySQL's collation compares them without case.
  { userId: 'USER_ALICE', accountId: 'acct_acme', expected: undefined },
] as const;

describeEachDatabase('membership lookups of concurrent requests', (app) => {
  beforeAll(async () => {
    const add = async (userId: string, accountId: string, provider: AiProvider) => {
      const result = await app().gql(
        AddProviderKeyDocument,
        { input: { provider, apiKey: makeKey(provider), verify: false } },
        await app().token(userId, accountId),
      );
      expect(result.errors).toBeUndefined();
    };
    await add('user_alice', 'acct_acme', AiProvider.OPENAI);
    await add('user_gina', 'acct_globex', AiProvider.MISTRAL);
    await add('user_gina', 'acct_globex', AiProvider.ANTHROPIC);
  });

  it('gives every lookup of one tick, across several statements, its own role, plan and keys', async () => {
    // 40 lookups started together: more than one statement's worth, identities interleaved and repeated.
    const lookups = Array.from({ length: 40 }, (_, i) => IDENTITIES[i % IDENTITIES.length]);
    // The statement as the service wires it: provider-keys' part (its keys, no key material) beside the membership.
    const store = new ProviderKeyStore(
      app().dataSource,
      parseKeyring(`1:${Buffer.alloc(32, 1).toString('base64')}`),
    );
    const readMembership = createMembershipReader(app().dataSource, store.accountPart);
    const results = await Promise.all(
      lookups.map(({ userId, accountId }) => readMembership(userId, accountId)),
    );
    results.forEach((membership, i) => {
      const { expected, accountId } = lookups[i];
      if (!expected) return expect(membership).toBeUndefined();
      expect(membership).toMatchObject({ role: expected.role, plan: expected.plan });
      expect(membership!.account.keys.map((key) => key.provider)).toEqual(expected.providers);
      for (const key of membership!.account.keys) expect(key.accountId).toBe(accountId);
    });
  });

  it('answers concurrent HTTP requests of different users and accounts each with their own data', async () => {
    const tokens = await Promise.all(
      IDENTITIES.map(({ userId, accountId }) => app().token(userId, accountId)),
    );
    const requests = Array.from({ length: 60 }, (_, i) => i % IDENTITIES.length);
    const answers = await Promise.all(
      requests.map(async (n) => {
        const token = tokens[n];
        return n % 2 === 0
          ? { n, me: await app().gql(MeDocument, {}, token) }
          : { n, keys: await app().gql(ProviderKeysDocument, {}, token) };
      }),
    );
    for (const { n, me, keys } of answers) {
      const { userId, accountId, expected } = IDENTITIES[n];
      const answer = me ?? keys;
      if (!expected) {
        expect(answer.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      } else if (me) {
        expect(me.data?.me).toEqual({ userId, accountId, role: expected.role, plan: expected.plan });
      } else if (expected.role === 'ADMIN') {
        expect(keys.errors).toBeUndefined();
        expect(keys.data?.providerKeys.map((key) => key.provider)).toEqual(expected.providers);
      } else {
        expect(keys.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      }
    }
  });
});
