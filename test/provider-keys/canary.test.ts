import { DocumentNode, print } from 'graphql';
import {
  AddProviderKeyDocument,
  AiProvidersWithKeysDocument,
  AiSettingsDocument,
  MeDocument,
  ProviderKeyEventsDocument,
  ProviderKeysDocument,
  RemoveProviderKeyDocument,
  RotateProviderKeyDocument,
  TestProviderKeyDocument,
} from '../generated/graphql';
import { databaseText, keyFragmentsIn, randomText } from '../support/key-fragments';
import { describeEachDatabase } from '../support/test-app';

// A canary key goes through every key operation, on success and failure paths, with the service logging
// at debug level and the fake providers echoing keys back. No 5-character run of it, bar the last four
// a masked key shows, may appear in a response, a log line, an audit row or any column but the sealed ones.

/** Realistic OpenAI shapes; the fake answers by the marker inside (none: valid). */
const canary = (marker = '') => `sk-proj-${marker}${randomText(100)}`;

describeEachDatabase('key canary', (app) => {
  it('never shows a stored, rotated, rejected or mistyped key beyond its last four', async () => {
    const alice = await app().token('user_alice', 'acct_acme');
    const bob = await app().token('user_bob', 'acct_acme');
    const ivan = await app().token('user_ivan', 'acct_initech');
    const first = canary();
    const second = canary();
    const revoked = canary('REVOKED');
    const echoedWhole = canary('HTML401');
    // Keys pasted where names go: as the operation name, an object key of the variables, a $variable name
    // (letters only, as a GraphQL name must be: a Mistral key has the same alphabet).
    const asOperationName = canary();
    const asObjectKey = canary();
    const deepValue = canary();
    const asVariableName = randomText(40);
    const keys = [
      first,
      second,
      revoked,
      echoedWhole,
      asOperationName,
      asObjectKey,
      deepValue,
      asVariableName,
    ];
    const responses: string[] = [];
    const send = async (query: unknown, token = alice) => {
      const { text } = await app().post(query, token ? { authorization: `Bearer ${token}` } : {});
      responses.push(text);
      return JSON.parse(text);
    };
    const q = (document: DocumentNode, variables: unknown) => ({ query: print(document), variables });

    const added = await send(
      q(AddProviderKeyDocument, { input: { provider: 'OPENAI', apiKey: ` ${first} `, label: 'canary' } }),
    );
    expect(added.data.addProviderKey.maskedKey).toBe(`****${first.slice(-4)}`);
    await send(q(AddProviderKeyDocument, { input: { provider: 'OPENAI', apiKey: first } })); // PROVIDER_KEY_EXISTS
    await send(q(AddProviderKeyDocument, { input: { provider: 'ANTHROPIC', apiKey: first } })); // wrong prefix
    await send(
      q(AddProviderKeyDocument, {
        input: { provider: 'OPENAI', apiKey: `${first.slice(0, 20)} ${first.slice(20)}` },
      }),
    ); // inner space
    await send(q(AddProviderKeyDocument, { input: { provider: 'MISTRAL', apiKey: revoked.slice(8) } })); // KEY_REJECTED, echoed
    await send(q(TestProviderKeyDocument, { input: { provider: 'OPENAI', apiKey: revoked } }));
    await send(q(TestProviderKeyDocument, { input: { provider: 'OPENAI', apiKey: echoedWhole } }));
    await send(q(TestProviderKeyDocument, { input: { provider: 'OPENAI' } }));
    await send(q(TestProviderKeyDocument, { input: { provider: 'OPENAI', apiKey: first } }), bob); // FORBIDDEN
    await send(q(RotateProviderKeyDocument, { input: { provider: 'OPENAI', apiKey: first } })); // same key
    await send(q(RotateProviderKeyDocument, { input: { provider: 'OPENAI', apiKey: revoked } })); // KEY_REJECTED
    const rotated = await send(
      q(RotateProviderKeyDocument, { input: { provider: 'OPENAI', apiKey: second, expectedVersion: 1 } }),
    );
    expect(rotated.data.rotateProviderKey.version).toBe(2);
    await send(
      q(RotateProviderKeyDocument, { input: { provider: 'OPENAI', apiKey: first, expectedVersion: 1 } }),
    ); // CONFLICT
    await send(q(ProviderKeysDocument, {}));
    await send(q(ProviderKeyEventsDocument, { first: 50 }));
    await send(q(AiProvidersWithKeysDocument, {}));
    await send(q(AiProvidersWithKeysDocument, {}), bob); // key: null for a member
    await send(q(AiSettingsDocument, {}));
    await send(q(MeDocument, {}));
    await send(q(AddProviderKeyDocument, { input: { provider: 'OPENAI', apiKey: second } }), ivan); // PLAN_UPGRADE_REQUIRED
    await send(q(RotateProviderKeyDocument, { input: { provider: 'OPENAI', apiKey: second } }), ''); // UNAUTHENTICATED
    await send({ query: `mutation { testProviderKey(input: { provider: OPENAI, apiKey: 42 }) { ok } }` });
    await send({ query: `mutation { addProviderKey(input: { provider: ${first} , apiKey: "x" }) { id } }` });
    await send({
      query: 'mutation($i: AddProviderKeyInput!) { addProviderKey(input: $i) { id } }',
      variables: { i: first },
    });
    await send({
      query: 'mutation($i: TestProviderKeyInput!) { testProviderKey(input: $i) { ok } }',
      variables: { i: { provider: first } },
    });
    await send({ query: '{ me { role } }', operationName: asOperationName });
    let deep: unknown = { apiKey: 'redacted by name anyway', note: deepValue };
    for (let level = 0; level < 12; level++) deep = { nested: deep };
    await send({
      query: 'query Me($input: String) { me { role } }',
      variables: { input: { [asObjectKey]: 'x', deep } },
    });
    await send({ query: `query($${asVariableName}: String) { me { role } }` });
    const database = await databaseText(app());
    await send(q(RemoveProviderKeyDocument, { provider: 'OPENAI' }));

    const logs = app().logs.join('\n');
    expect(logs).toMatch(/"level":20/); // debug lines were written and are part of the scan
    for (const key of keys) {
      for (const [where, text] of [
        ['responses', responses.join('\n')],
        ['logs', logs],
        ['database', database],
        ['database after remove', await databaseText(app())],
      ]) {
        expect({ where, fragments: keyFragmentsIn(text, key) }).toEqual({ where, fragments: [] });
      }
    }
    expect(responses.join('\n')).toContain(`****${second.slice(-4)}`);
  });
});
