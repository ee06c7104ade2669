import { MeDocument } from '../generated/graphql';
import { createLogger } from '../../src/logger';
import { describeEachDatabase } from '../support/test-app';

describeEachDatabase('operation logging', (app) => {
  it('writes one line per operation with its name, duration, outcome and account', async () => {
    const before = app().logs.length;
    await app().gql(MeDocument, {}, await app().token('user_alice', 'acct_acme'));
    await app().gql(MeDocument, {});
    const lines = app()
      .logs.slice(before)
      .map((line) => JSON.parse(line))
      .filter((entry) => entry.msg === 'graphql operation');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ operation: 'Me', outcome: 'OK', accountId: 'acct_acme' });
    expect(typeof lines[0].durationMs).toBe('number');
    expect(lines[1]).toMatchObject({ operation: 'Me', outcome: 'UNAUTHENTICATED', accountId: null });
  });

  it('redacts the bearer token and every secret-named field at any depth, variables included', async () => {
    const token = await app().token('user_alice', 'acct_acme');
    const canary = 'sk-canary-0123456789abcdefghij';
    const before = app().logs.length;
    await app().post(
      {
        query: 'query Me($input: String) { me { role } }',
        operationName: 'Me',
        variables: {
          input: { nested: [{ apiKey: canary, clientSecret: canary, password: canary, token: canary }] },
        },
      },
      { authorization: `Bearer ${token}` },
    );
    const written = app().logs.slice(before).join('\n');
    expect(written).toContain('[Redacted]');
    expect(written).not.toContain(canary);
    expect(written).not.toContain(token);
  });
});

describe('the logger', () => {
  it('redacts an authorization header wherever it sits in a logged object', () => {
    const lines: string[] = [];
    const logger = createLogger('info', { write: (line: string) => lines.push(line) });
    const secret = 'Bearer c1a55ified-token';
    logger.info(
      {
        req: { headers: { authorization: secret } },
        headers: { authorization: secret },
        upstream: { call: { headers: { Authorization: secret } } },
      },
      'request',
    );
    expect(lines[0]).not.toContain('c1a55ified');
    expect(JSON.parse(lines[0])).toMatchObject({
      req: { headers: { authorization: '[Redacted]' } },
      headers: { authorization: '[Redacted]' },
      upstream: { call: { headers: { Authorization: '[Redacted]' } } },
    });
  });

  it('still redacts after more field names than it remembers, and leaves the logged object as it was', () => {
    const lines: string[] = [];
    const logger = createLogger('info', { write: (line: string) => lines.push(line) });
    const many = Object.fromEntries(Array.from({ length: 1_500 }, (_, i) => [`field${i}`, i]));
    logger.info(many, 'many names');
    const logged = { accountId: 'acct_acme', nested: { myApiKey: 'sk-c1a55ified' } };
    logger.info(logged, 'after');
    logger.info(logged, 'again');
    expect(lines.slice(1).join('\n')).not.toContain('c1a55ified');
    expect(JSON.parse(lines[2])).toMatchObject({
      accountId: 'acct_acme',
      nested: { myApiKey: '[Redacted]' },
    });
    expect(logged.nested.myApiKey).toBe('sk-c1a55ified');
  });
});

describe('error logging', () => {
  it("scrubs a failed query's SQL and parameters from a logged error", () => {
    const lines: string[] = [];
    const logger = createLogger('info', { write: (line: string) => lines.push(line) });
    const error = Object.assign(new Error('Duplicate entry'), {
      sql: "INSERT INTO provider_keys VALUES (X'c1a55ified')",
      parameters: ['c1a55ified'],
      driverError: { code: 'ER_DUP_ENTRY', sql: "INSERT … X'c1a55ified'" },
    });
    logger.error({ err: error }, 'unexpected error');
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('c1a55ified');
    expect(JSON.parse(lines[0]).err).toMatchObject({
      message: 'Duplicate entry',
      sql: '[Redacted]',
      parameters: '[Redacted]',
      driverError: { code: 'ER_DUP_ENTRY' },
    });
  });
});
