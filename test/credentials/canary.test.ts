import { AddProviderKeyDocument, RotateProviderKeyDocument } from '../generated/graphql';
import { databaseText, keyFragmentsIn, randomText } from '../support/key-fragments';
import { describeEachDatabase } from '../support/test-app';

// A canary key through the internal credential API: handed out by resolve, and only there, only to a
// caller with the scope; pasted into every field of the requests by mistake; never in an error, a log
// line or a column but the sealed ones.

const RESOLVE = '/internal/v1/credentials/resolve';
const REPORT = '/internal/v1/credentials/report';

describeEachDatabase(
  'internal API canary',
  (app) => {
    it('hands the key out in resolve answers only, and nowhere else', async () => {
      const stored = `sk-proj-${randomText(100)}`;
      const rotated = `sk-proj-${randomText(100)}`;
      const pasted = randomText(40); // alphanumeric: it could pass for a name
      const alice = await app().token('user_alice', 'acct_acme');
      const both = await app().serviceToken('analysis', ['credentials:resolve', 'credentials:report']);
      const reportOnly = await app().serviceToken('analysis', ['credentials:report']);
      const added = await app().gql(
        AddProviderKeyDocument,
        { input: { provider: 'OPENAI', apiKey: stored, verify: false } },
        alice,
      );
      const keyId = added.data!.addProviderKey.id;

      const handedOut: string[] = [];
      const others: string[] = [];
      const call = async (path: string, body: unknown, token = both, extra: Record<string, string> = {}) => {
        const answer = await app().internal(path, body, token, extra);
        (answer.status === 200 ? handedOut : others).push(answer.text, JSON.stringify([...answer.headers]));
        return answer;
      };
      expect((await call(RESOLVE, { accountId: 'acct_acme', task: 'ANALYSIS' })).json.apiKey).toBe(stored);
      await app().gql(
        RotateProviderKeyDocument,
        { input: { provider: 'OPENAI', apiKey: rotated, verify: false } },
        alice,
      );
      expect((await call(RESOLVE, { accountId: 'acct_acme', task: 'ANALYSIS' })).json.apiKey).toBe(rotated);
      await call(RESOLVE, { accountId: 'acct_acme', task: 'ANALYSIS' }, reportOnly); // FORBIDDEN: no key
      for (const key of [stored, pasted]) {
        await call(RESOLVE, { accountId: key, task: 'ANALYSIS' });
        await call(RESOLVE, { accountId: 'acct_acme', task: key });
        await call(RESOLVE, { accountId: 'acct_acme', task: 'ANALYSIS', [key]: true });
        await call(RESOLVE, { accountId: 'acct_acme', task: 'ANALYSIS', apiKey: key });
        await call(REPORT, { accountId: 'acct_acme', keyId: key, keyVersion: 1, outcome: 'OK' });
        await call(REPORT, { accountId: 'acct_acme', keyId, keyVersion: 2, outcome: key });
        await call(REPORT, {
          accountId: 'acct_acme',
          keyId,
          keyVersion: 2,
          outcome: 'RATE_LIMITED',
          providerStatus: key,
        });
        await call(RESOLVE, `{"accountId": "${key}"`); // not JSON
        await call(RESOLVE, { accountId: 'acct_acme', task: 'ANALYSIS' }, key); // as the token
        await call(`/internal/v1/credentials/${key}`, {});
      }
      await call(REPORT, { accountId: 'acct_acme', keyId, keyVersion: 2, outcome: 'INVALID_KEY' });
      await app().flushUsage();

      expect(handedOut).toHaveLength(4);
      const logs = app().logs.join('\n');
      const database = await databaseText(app());
      for (const key of [stored, rotated, pasted]) {
        for (const [where, text] of [
          ['other answers', others.join('\n')],
          ['logs', logs],
          ['database', database],
        ]) {
          expect({ where, fragments: keyFragmentsIn(text, key) }).toEqual({ where, fragments: [] });
        }
      }
      // Each resolve answer carries the key it hands out, and no other (both share the "sk-proj-" prefix).
      expect(keyFragmentsIn(handedOut[0], rotated.slice('sk-proj-'.length))).toEqual([]);
      expect(keyFragmentsIn(handedOut[2], stored.slice('sk-proj-'.length))).toEqual([]);
    });
  },
  { env: { INTERNAL_PORT: '0' } },
);
