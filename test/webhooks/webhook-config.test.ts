import { loadConfig } from '../../src/config';
import { SECRET } from '../support/webhook-receiver';
import { refusal } from '../support/config-refusal';

// WEBHOOK_URL and WEBHOOK_SECRET as an operator sets them: what start-up accepts, and the one line it
// answers otherwise, which names the variable and never quotes a value (either may carry credentials).

const URL_WITH_PASSWORD = 'https://byok:hunter2-password@platform.example.com/webhooks/byok';

describe('webhook configuration', () => {
  it('is off without WEBHOOK_URL', () => {
    expect(loadConfig({}).webhook).toBeUndefined();
  });

  it('takes an https URL with its secret', () => {
    expect(loadConfig({ WEBHOOK_URL: URL_WITH_PASSWORD, WEBHOOK_SECRET: SECRET }).webhook).toEqual({
      url: URL_WITH_PASSWORD,
      secret: SECRET,
    });
  });

  it('takes http outside production, and in production only to a host in OUTBOUND_ALLOWLIST', () => {
    const http = {
      WEBHOOK_URL: 'http://127.0.0.1:8080/hooks',
      WEBHOOK_SECRET: SECRET,
      AUTH_JWT_SECRET: 'x'.repeat(32),
    };
    expect(loadConfig(http).webhook?.url).toBe('http://127.0.0.1:8080/hooks');
    expect(refusal({ ...http, NODE_ENV: 'production' })).toMatch(/^WEBHOOK_URL: must be https in production/);
    const allowed = { ...http, NODE_ENV: 'production', OUTBOUND_ALLOWLIST: '127.0.0.1:8080' };
    expect(loadConfig(allowed).webhook?.url).toBe('http://127.0.0.1:8080/hooks');
  });

  it.each([
    ['no secret', { WEBHOOK_URL: URL_WITH_PASSWORD }, /^WEBHOOK_SECRET: required with WEBHOOK_URL/],
    [
      'a secret without whsec_',
      { WEBHOOK_URL: URL_WITH_PASSWORD, WEBHOOK_SECRET: SECRET.slice(6) },
      /^WEBHOOK_SECRET: expected whsec_/,
    ],
    [
      'a secret of 8 bytes',
      { WEBHOOK_URL: URL_WITH_PASSWORD, WEBHOOK_SECRET: 'whsec_c2hvcnRrZXk=' },
      /^WEBHOOK_SECRET: expected whsec_/,
    ],
    [
      'a secret that is not base64',
      { WEBHOOK_URL: URL_WITH_PASSWORD, WEBHOOK_SECRET: 'whsec_not base64 at all, and long enough!!' },
      /^WEBHOOK_SECRET: expected whsec_/,
    ],
    ['a secret without a URL', { WEBHOOK_SECRET: SECRET }, /^WEBHOOK_SECRET: is set but WEBHOOK_URL is not/],
    [
      'a URL that is not one',
      { WEBHOOK_URL: 'platform.example.com/hooks?token=hunter2-password', WEBHOOK_SECRET: SECRET },
      /^WEBHOOK_URL: expected an https URL/,
    ],
    [
      'an ftp URL',
      { WEBHOOK_URL: 'ftp://byok:hunter2-password@platform.example.com/', WEBHOOK_SECRET: SECRET },
      /^WEBHOOK_URL: expected an https URL/,
    ],
  ])('refuses %s, in one line that quotes neither value', (_what, env, message) => {
    const text = refusal(env);
    expect(text).toMatch(message);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain(SECRET.slice(6, 20));
  });
});
