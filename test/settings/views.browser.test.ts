import { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { AddProviderKeyDocument, ProviderKeysDocument } from '../generated/graphql';
import { Account } from '../../src/accounts/account.entity';
import { Plan } from '../../src/accounts/plan.enum';
import { AiProvider } from '../../src/providers/ai-provider.enum';
import {
  axeViolations,
  expectNothingFromElsewhere,
  launchChromium,
  openTab,
  PageWatch,
  screenshot,
  signInWith,
} from '../support/browser';
import { makeKey } from '../support/fake-providers';
import { keyFragmentsIn } from '../support/key-fragments';
import { startTestApp, TestApp } from '../support/test-app';

// The "AI Provider Keys" page beyond the admin's main flow, in Chromium against the real service and the
// fake providers: Azure OpenAI's endpoint and deployment, a key the provider rejects, a token the API
// refuses, the rate limit's wait, a member's view and a STARTER account's. Every message on screen is
// the one the API answers (asked again over HTTP here and compared), never a stack.

const SHOTS = 'settings';
const SLOW = 15_000;
const RATE_LIMIT = 8;

describe('AI Provider Keys page: other providers, errors and roles', () => {
  let app: TestApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let watch: PageWatch;
  const text = async (locator: Locator) => (await locator.innerText()).replace(/\s+/g, ' ').trim();
  const addForm = () => page.getByRole('form', { name: 'Add provider key' });
  const row = (name: string) => page.getByRole('row', { name, exact: true });
  const routing = () => page.getByRole('region', { name: 'Routing' });

  /** A fresh tab (no state from the previous test), signed in as `userId` of `accountId`. */
  async function signIn(userId: string, accountId: string, heading = 'Routing'): Promise<string> {
    await context?.close();
    ({ context, page, watch } = await openTab(browser, app.url, SLOW));
    const token = await app.token(userId, accountId);
    await signInWith(page, app.url, token, heading);
    return token;
  }

  beforeAll(async () => {
    app = await startTestApp('sqlite', { env: { TEST_RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT) } });
    browser = await launchChromium();
  }, 60_000);

  // Whatever the test did, the page loaded nothing from elsewhere and logged no error.
  afterEach(() => expectNothingFromElsewhere(watch, app.url));

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it("shows the API's message for a token it refuses, and stays on the sign-in form", async () => {
    // Signing out drops the client and its token: the form is back, empty.
    await signIn('user_alice', 'acct_acme');
    await page.getByRole('button', { name: 'Sign out' }).click();
    expect(await page.getByLabel('Token').inputValue()).toBe('');
    for (const token of ['not-a-token', await app.token('user_gina', 'acct_acme')]) {
      const expected = (await app.post({ query: '{ me { role } }' }, { authorization: `Bearer ${token}` }))
        .json.errors[0].message as string;
      await page.getByLabel('Token').fill(token);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').getByText(expected, { exact: true }).waitFor();
      expect(await page.getByRole('heading', { name: 'Routing' }).count()).toBe(0);
    }
    expect(await text(page.getByRole('alert'))).not.toMatch(/\bat \w+ \(|Error:|stack/);
    await screenshot(page, SHOTS, '20-sign-in-refused');
  });

  it('asks Azure OpenAI for its endpoint and deployment, tests with them, and routes to the deployment', async () => {
    await signIn('user_alice', 'acct_acme');
    await page.getByRole('button', { name: 'Add provider key' }).click();
    const form = addForm();
    await form.getByLabel('Provider').selectOption({ label: 'Azure OpenAI' });
    expect(await text(form)).toContain('KEY 1 or KEY 2 from the resource\'s "Keys and Endpoint" page');
    const azureKey = makeKey(AiProvider.AZURE_OPENAI);
    await form.getByLabel('API key').fill(azureKey);

    // Without an endpoint the API says what is missing; the page shows its words.
    const input = { provider: 'AZURE_OPENAI' as const, apiKey: azureKey };
    const missing = await app.post(
      {
        query: 'mutation ($input: TestProviderKeyInput!) { testProviderKey(input: $input) { ok } }',
        variables: { input },
      },
      { authorization: `Bearer ${await app.token('user_alice', 'acct_acme')}` },
    );
    await form.getByRole('button', { name: 'Test connection' }).click();
    await form.getByText(missing.json.errors[0].message, { exact: true }).waitFor();

    await form.getByLabel('Endpoint').fill(app.providers.azureEndpoint);
    await form.getByLabel('Deployment').fill('gpt41-research');
    await form.getByRole('button', { name: 'Test connection' }).click();
    await form.getByText('Connection works').waitFor();
    await screenshot(page, SHOTS, '21-azure-tested');
    await form.getByRole('button', { name: 'Save' }).click();
    await row('Azure OpenAI').waitFor();
    const shown = await text(row('Azure OpenAI'));
    expect(shown).toContain(`****${azureKey.slice(-4)}`);
    expect(shown).toContain(`${app.providers.azureEndpoint} · gpt41-research`);
    // The only key, so it serves every task, each from the key's deployment.
    await routing().getByText('Azure OpenAI').first().waitFor();
    expect((await text(routing())).match(/Provider Azure OpenAI Model gpt41-research/g)).toHaveLength(3);
    expect(await axeViolations(page)).toEqual([]);

    // Rotating keeps the endpoint and deployment unless they are changed (the fields start with them).
    await row('Azure OpenAI').getByRole('button', { name: 'Rotate' }).click();
    const rotate = row('Azure OpenAI').getByRole('form', { name: 'Rotate the Azure OpenAI key' });
    expect(await rotate.getByLabel('Endpoint').inputValue()).toBe(app.providers.azureEndpoint);
    expect(await rotate.getByLabel('Deployment').inputValue()).toBe('gpt41-research');
    const next = makeKey(AiProvider.AZURE_OPENAI, 'VALID', 7);
    await rotate.getByLabel('API key').fill(next);
    await rotate.getByRole('button', { name: 'Rotate key' }).click();
    await row('Azure OpenAI').getByText('Version 2', { exact: true }).waitFor();
    expect(await text(row('Azure OpenAI'))).toContain(`****${next.slice(-4)}`);
    expect(await text(row('Azure OpenAI'))).toContain(`${app.providers.azureEndpoint} · gpt41-research`);
  });

  it("shows KEY_REJECTED's message when the provider refuses the key, and stores nothing", async () => {
    await signIn('user_alice', 'acct_acme');
    const revoked = makeKey(AiProvider.OPENAI, 'REVOKED');
    await page.getByRole('button', { name: 'Add provider key' }).click();
    await addForm().getByLabel('Provider').selectOption({ label: 'OpenAI' });
    await addForm().getByLabel('API key').fill(revoked);
    await addForm().getByRole('button', { name: 'Save' }).click();
    const alert = addForm().getByRole('alert');
    await alert.waitFor();
    const message = await text(alert);
    expect(message).toMatch(/^The key was not saved: /);
    expect(message).toContain('OpenAI');
    expect(keyFragmentsIn(message, revoked, ['REVOKED'])).toEqual([]);
    expect(await row('OpenAI').count()).toBe(0);
    // The same words the API gives for that key.
    const answer = await app.gql(
      AddProviderKeyDocument,
      { input: { provider: 'OPENAI', apiKey: revoked } },
      await app.token('user_alice', 'acct_acme'),
    );
    expect(answer.errors?.[0].extensions?.code).toBe('KEY_REJECTED');
    expect(message).toBe(answer.errors?.[0].message);
    await screenshot(page, SHOTS, '22-key-rejected');

    // Cancel empties the key field: a new form starts blank.
    await addForm().getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Add provider key' }).click();
    expect(await addForm().getByLabel('API key').inputValue()).toBe('');
  });

  it('shows the wait when connection tests are rate limited', async () => {
    await signIn('user_gina', 'acct_globex');
    await page.getByRole('button', { name: 'Add provider key' }).click();
    await addForm().getByLabel('API key').fill(makeKey(AiProvider.OPENAI));
    const test = addForm().getByRole('button', { name: 'Test connection' });
    for (let attempt = 0; attempt < RATE_LIMIT; attempt++) {
      await test.click();
      await addForm().getByText('Connection works').waitFor();
    }
    await test.click();
    const alert = addForm().getByRole('alert');
    await alert.waitFor();
    expect(await text(alert)).toMatch(
      new RegExp(
        `^Too many connection tests for this account: at most ${RATE_LIMIT} a minute\\. Try again in \\d+ s\\.$`,
      ),
    );
    await screenshot(page, SHOTS, '23-rate-limited');
  });

  it('shows a member the providers and the routes, without any key details or buttons', async () => {
    const alice = await app.token('user_alice', 'acct_acme');
    const stored = (await app.gql(ProviderKeysDocument, {}, alice)).data!.providerKeys;
    expect(stored.map((key) => key.provider)).toEqual(['AZURE_OPENAI']);
    await signIn('user_bob', 'acct_acme');
    expect([...watch.operations].sort()).toEqual(['AiProviders', 'AiSettings', 'Me']);
    expect(await text(page.locator('header'))).toContain('user_bob · Member · acct_acme');
    const providers = page.getByRole('region', { name: 'Providers' });
    expect(await text(providers)).toContain('Azure OpenAI Your own key (BYOK)');
    expect(await text(providers)).toContain('OpenAI Built-in allocation');
    expect(await text(routing())).toContain('Provider Azure OpenAI');
    expect(await page.getByRole('row').count()).toBe(0);
    expect(await page.getByRole('region', { name: 'Activity' }).count()).toBe(0);
    expect((await page.getByRole('button').allInnerTexts()).map((name) => name.trim())).toEqual(['Sign out']);
    expect(await page.locator('body').innerText()).not.toContain(stored[0].maskedKey);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, SHOTS, '24-member');
  });

  it('tells a STARTER account that BYOK needs the Growth plan; a dormant key can only be edited or removed', async () => {
    // A key stored while the account was on Growth stays, dormant, after the downgrade.
    const accounts = app.dataSource.getRepository(Account);
    await accounts.update('acct_initech', { plan: Plan.GROWTH });
    const ivan = await app.token('user_ivan', 'acct_initech');
    const added = await app.gql(
      AddProviderKeyDocument,
      { input: { provider: 'ANTHROPIC', apiKey: makeKey(AiProvider.ANTHROPIC), verify: false } },
      ivan,
    );
    expect(added.errors).toBeUndefined();
    await accounts.update('acct_initech', { plan: Plan.STARTER });

    await signIn('user_ivan', 'acct_initech');
    expect(await text(page.locator('.notice'))).toBe(
      "Bringing your own AI provider key needs the Growth plan or above. This account is on the Starter plan, so every AI task uses the platform's built-in allocation. Stored keys stay, unused, until the plan allows BYOK again; you can still remove them.",
    );
    expect(await page.getByRole('button', { name: 'Add provider key' }).count()).toBe(0);
    expect(await text(row('Anthropic'))).toContain('Built-in allocation');
    // Its label and expiry spend nothing, so they stay editable.
    expect((await row('Anthropic').getByRole('button').allInnerTexts()).map((name) => name.trim())).toEqual([
      'Edit',
      'Remove',
    ]);
    expect((await text(routing())).match(/Built-in allocation/g)).toHaveLength(3);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, SHOTS, '25-starter');

    await row('Anthropic').getByRole('button', { name: 'Remove' }).click();
    await row('Anthropic').getByRole('button', { name: 'Remove key' }).click();
    await row('Anthropic').waitFor({ state: 'detached' });
    expect(await text(page.locator('.notice'))).not.toContain('Stored keys stay');
  });
});
