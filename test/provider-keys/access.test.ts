import { TypedDocumentNode } from '@graphql-typed-document-node/core';
import {
  AddProviderKeyDocument,
  AiProvidersWithKeysDocument,
  ProviderKeyEventsDocument,
  ProviderKeysDocument,
  RemoveProviderKeyDocument,
  RotateProviderKeyDocument,
  TestProviderKeyDocument,
} from '../generated/graphql';
import { AiProvider } from '../../src/providers/ai-provider.enum';
import { ProviderKey } from '../../src/provider-keys/provider-key.entity';
import { ProviderKeyEvent } from '../../src/provider-keys/provider-key-event.entity';
import { makeKey } from '../support/fake-providers';
import { describeEachDatabase, TestApp } from '../support/test-app';

// Who may do what, for every operation: anonymous, a MEMBER, an ADMIN of the account, an ADMIN of
// another account, an ADMIN on the STARTER plan. A denial writes nothing and calls no provider.

type Operation = {
  name: string;
  run: (
    app: TestApp,
    token?: string,
  ) => Promise<{ data?: unknown; errors?: { extensions?: Record<string, unknown> }[] }>;
};

const op = <T, V>(name: string, document: TypedDocumentNode<T, V>, variables: V): Operation => ({
  name,
  run: (app, token) => app.gql(document, variables, token),
});

const OPERATIONS: Operation[] = [
  op('providerKeys', ProviderKeysDocument, {}),
  op('providerKeyEvents', ProviderKeyEventsDocument, { first: 5 }),
  op('addProviderKey', AddProviderKeyDocument, {
    input: { provider: 'ANTHROPIC', apiKey: makeKey(AiProvider.ANTHROPIC) },
  }),
  op('testProviderKey (candidate)', TestProviderKeyDocument, {
    input: { provider: 'OPENAI', apiKey: makeKey(AiProvider.OPENAI, 'VALID', 2) },
  }),
  op('testProviderKey (stored)', TestProviderKeyDocument, { input: { provider: 'OPENAI' } }),
  op('rotateProviderKey', RotateProviderKeyDocument, {
    input: { provider: 'OPENAI', apiKey: makeKey(AiProvider.OPENAI, 'VALID', 1) },
  }),
  op('removeProviderKey', RemoveProviderKeyDocument, { provider: 'OPENAI' as const }),
];

describeEachDatabase('access to provider keys', (app) => {
  const tokens: Record<string, string | undefined> = {};
  const storedKey = makeKey(AiProvider.OPENAI, 'VALID', 9);

  beforeAll(async () => {
    tokens.anonymous = undefined;
    tokens.member = await app().token('user_bob', 'acct_acme');
    tokens.admin = await app().token('user_alice', 'acct_acme');
    tokens.otherAdmin = await app().token('user_gina', 'acct_globex');
    tokens.otherAdminInAcme = await app().token('user_gina', 'acct_acme');
    tokens.starterAdmin = await app().token('user_ivan', 'acct_initech');
  });

  beforeEach(async () => {
    await app().dataSource.getRepository(ProviderKey).clear();
    await app().dataSource.getRepository(ProviderKeyEvent).clear();
    const added = await app().gql(
      AddProviderKeyDocument,
      { input: { provider: 'OPENAI', apiKey: storedKey, verify: false } },
      tokens.admin,
    );
    expect(added.errors).toBeUndefined();
    app().providers.reset();
  });

  const snapshot = async () => ({
    keys: await app()
      .dataSource.getRepository(ProviderKey)
      .find({ order: { id: 'ASC' } }),
    events: await app().dataSource.getRepository(ProviderKeyEvent).count(),
  });

  describe.each([
    ['anonymous', 'UNAUTHENTICATED'],
    ['member', 'FORBIDDEN'],
    ['otherAdminInAcme', 'FORBIDDEN'],
  ])('%s', (who, code) => {
    it.each(OPERATIONS.map((operation) => [operation.name, operation]))(
      'is denied %s with nothing written',
      async (_name, operation) => {
        const before = await snapshot();
        const result = await operation.run(app(), tokens[who]);
        expect(result.data).toBeNull();
        expect(result.errors?.map((error) => error.extensions?.code)).toEqual([code]);
        expect(await snapshot()).toEqual(before);
        expect(app().providers.requests).toHaveLength(0);
      },
    );
  });

  it("answers a member's provider dropdown with the key selected with every key null and no error; the admin sees the key", async () => {
    const asMember = await app().gql(AiProvidersWithKeysDocument, {}, tokens.member);
    expect(asMember.errors).toBeUndefined();
    expect(asMember.data!.aiProviders.map(({ provider, key }) => ({ provider, key }))).toEqual(
      ['OPENAI', 'ANTHROPIC', 'GOOGLE_GEMINI', 'AZURE_OPENAI', 'MISTRAL'].map((provider) => ({
        provider,
        key: null,
      })),
    );
    expect(asMember.data!.aiProviders[0].billingMode).toBe('BYOK'); // what every member may know

    const asAdmin = await app().gql(AiProvidersWithKeysDocument, {}, tokens.admin);
    expect(asAdmin.errors).toBeUndefined();
    const [stored] = (await app().gql(ProviderKeysDocument, {}, tokens.admin)).data!.providerKeys;
    expect(asAdmin.data!.aiProviders[0].key).toMatchObject({
      id: stored.id,
      maskedKey: `****${storedKey.slice(-4)}`,
      version: 1,
    });
    expect(app().providers.requests).toHaveLength(0);
  });

  it.each(OPERATIONS.map((operation) => [operation.name, operation]))(
    'lets the admin of the account %s',
    async (_name, operation) => {
      const result = await operation.run(app(), tokens.admin);
      expect(result.errors).toBeUndefined();
      expect(result.data).not.toBeNull();
    },
  );

  it("keeps another account's admin out of this account's keys (tenant isolation in the service)", async () => {
    const before = await snapshot();
    const gina = tokens.otherAdmin;
    expect((await app().gql(ProviderKeysDocument, {}, gina)).data?.providerKeys).toEqual([]);
    expect((await app().gql(ProviderKeyEventsDocument, {}, gina)).data?.providerKeyEvents.edges).toEqual([]);
    for (const result of [
      await app().gql(TestProviderKeyDocument, { input: { provider: 'OPENAI' } }, gina),
      await app().gql(
        RotateProviderKeyDocument,
        { input: { provider: 'OPENAI', apiKey: makeKey(AiProvider.OPENAI, 'VALID', 4) } },
        gina,
      ),
      await app().gql(RemoveProviderKeyDocument, { provider: 'OPENAI' }, gina),
    ]) {
      expect(result.errors?.[0].extensions?.code).toBe('PROVIDER_KEY_NOT_FOUND');
    }
    expect(await snapshot()).toEqual(before);
  });

  it('answers PLAN_UPGRADE_REQUIRED to a STARTER admin for add, test and rotate, with nothing written', async () => {
    const ivan = tokens.starterAdmin;
    const before = await snapshot();
    for (const name of [
      'addProviderKey',
      'testProviderKey (candidate)',
      'testProviderKey (stored)',
      'rotateProviderKey',
    ]) {
      const result = await OPERATIONS.find((operation) => operation.name === name)!.run(app(), ivan);
      expect({ name, code: result.errors?.[0].extensions?.code }).toEqual({
        name,
        code: 'PLAN_UPGRADE_REQUIRED',
      });
    }
    expect(await snapshot()).toEqual(before);
    expect(app().providers.requests).toHaveLength(0);
    expect((await app().gql(ProviderKeysDocument, {}, ivan)).data?.providerKeys).toEqual([]);
    expect(
      (await app().gql(RemoveProviderKeyDocument, { provider: 'OPENAI' }, ivan)).errors?.[0].extensions?.code,
    ).toBe('PROVIDER_KEY_NOT_FOUND');
  });
});
