import path from 'node:path';
import { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import {
  AddProviderKeyDocument,
  AiSettingsDocument,
  ProviderKeysDocument,
  UpdateProviderKeyDocument,
} from '../generated/graphql';
import { Account } from '../../src/accounts/account.entity';
import { Plan } from '../../src/accounts/plan.enum';
import { AiProvider } from '../../src/providers/ai-provider.enum';
import { ProviderKey } from '../../src/provider-keys/provider-key.entity';
import {
  axeViolations,
  expectNothingFromElsewhere,
  launchChromium,
  openTab,
  PageWatch,
  screenshot,
  secretsLeftBehind,
  signInWith,
} from '../support/browser';
import { makeKey } from '../support/fake-providers';
import { startTestApp, TestApp } from '../support/test-app';

// The settings page's controls since issues 14–16, in Chromium against the real service, its internal
// credential API (pipelines resolving keys and reporting failures) and the fake providers: a key's last
// use, 30 days of use, cooldown, listed models, "Edit" (label, expiry) and the expired state; "Expires" on
// add and rotate; the "Deep test (billed)" option; the routing region's status and reason, a paused task,
// and the admin's routing choices (provider order, built-in fallback, model per task) saved from the
// mutation's answer alone; a health change in the activity; a member's view. Screenshots:
// test-artifacts/settings/3x-*.png.

const SHOTS = 'settings';
const SLOW = 15_000;
const RESOLVE = '/internal/v1/credentials/resolve';
const REPORT = '/internal/v1/credentials/report';

describe('AI Provider Keys page: routing, key details and the new controls', () => {
  let app: TestApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let watch: PageWatch;
  let alice: string;
  let reporter: string;
  const openaiKey = makeKey(AiProvider.OPENAI, 'VALID', 11);
  const anthropicKey = makeKey(AiProvider.ANTHROPIC, 'VALID', 12);
  const mistralKey = makeKey(AiProvider.MISTRAL, 'VALID', 13);
  const mistralRotated = makeKey(AiProvider.MISTRAL, 'VALID', 14);
  const secrets: Record<string, string> = { openaiKey, anthropicKey, mistralKey, mistralRotated };

  const text = async (locator: Locator) => (await locator.innerText()).replace(/\s+/g, ' ').trim();
  const row = (name: string) => page.getByRole('row', { name, exact: true });
  const routing = () => page.getByRole('region', { name: 'Routing' });
  const choices = () => page.getByRole('form', { name: 'Routing choices' });
  const activity = () => page.getByRole('region', { name: 'Activity' });
  const addForm = () => page.getByRole('form', { name: 'Add provider key' });
  const routeOf = (task: string) => routing().getByRole('listitem').filter({ hasText: task }).first();
  const keyOf = async (provider: string) =>
    (await app.gql(ProviderKeysDocument, {}, alice)).data!.providerKeys.find(
      (key) => key.provider === provider,
    )!;
  const report = async (provider: string, outcome: string) => {
    const key = await keyOf(provider);
    const body = { accountId: 'acct_acme', keyId: key.id, keyVersion: key.version, outcome };
    expect((await app.internal(REPORT, body, reporter)).status).toBe(204);
  };

  /** The GraphQL operations the page sends while `action` runs, and for a moment after (sorted). */
  async function operationsDuring(expected: string[], action: () => Promise<void>): Promise<string[]> {
    const from = watch.operations.length;
    await action();
    const sent = () => watch.operations.slice(from);
    const deadline = Date.now() + SLOW;
    while (expected.some((name) => !sent().includes(name)) && Date.now() < deadline)
      await page.waitForTimeout(25);
    // Anything else the page would send (a refetch it should not need) has time to show up.
    await page.waitForTimeout(300);
    return [...sent()].sort();
  }

  /** A fresh page (a reload forgets the token and the cache), signed in with `token`. */
  const signIn = (token: string) => signInWith(page, app.url, token, 'Routing');

  beforeAll(async () => {
    app = await startTestApp('sqlite', {
      env: { TEST_RATE_LIMIT_PER_MINUTE: '1000', INTERNAL_PORT: '0' },
    });
    alice = await app.token('user_alice', 'acct_acme');
    secrets.token = alice;
    for (const [provider, apiKey, label] of [
      ['OPENAI', openaiKey, 'Research'],
      ['ANTHROPIC', anthropicKey, undefined],
    ] as const) {
      const added = await app.gql(AddProviderKeyDocument, { input: { provider, apiKey, label } }, alice);
      expect(added.errors).toBeUndefined();
    }
    // A pipeline is handed the OpenAI key three times, then reports three transient failures: the key
    // cools down, and its usage counts 3 resolves and 3 failures.
    const resolver = await app.serviceToken('interview-pipeline', ['credentials:resolve']);
    reporter = await app.serviceToken('interview-pipeline', ['credentials:report']);
    for (let call = 0; call < 3; call++) {
      const resolved = await app.internal(RESOLVE, { accountId: 'acct_acme', task: 'ANALYSIS' }, resolver);
      expect(resolved.json.provider).toBe('OPENAI');
    }
    for (let call = 0; call < 3; call++) await report('OPENAI', 'PROVIDER_ERROR');
    await app.flushUsage();
    // The cooldown lasts 60 s; stretched to an hour here so that a slow machine does not outlive it.
    const cooling = await app.dataSource
      .getRepository(ProviderKey)
      .findOneByOrFail({ provider: AiProvider.OPENAI });
    expect(cooling.coolingDownUntil).not.toBeNull();
    await app.dataSource
      .getRepository(ProviderKey)
      .update({ id: cooling.id }, { coolingDownUntil: new Date(Date.now() + 3_600_000) });

    browser = await launchChromium();
    ({ context, page, watch } = await openTab(browser, app.url, SLOW));
  }, 60_000);

  afterEach(() => expectNothingFromElsewhere(watch, app.url));

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it("shows a key's last use, 30 days of use, its cooldown and its models; the routes say why", async () => {
    await signIn(alice);
    const openai = row('OpenAI');
    const shown = await text(openai);
    expect(shown).toMatch(/Last used \w+ \d+, \d{4}/);
    expect(shown).toContain('Last 30 days: 3 uses, 3 failures');
    expect(shown).toMatch(/Paused until \w+ \d+, \d{4}.* after repeated failures/);
    expect(shown).toContain('No expiry');
    // The first five of the models the key listed, and how many more.
    expect(shown).toContain(
      '7 models listed: gpt-4.1, gpt-4.1-2025-04-14, gpt-4.1-mini, o4-mini, o4-mini-2025-04-16 and 2 more',
    );
    expect(await text(row('Anthropic'))).toContain('Not used yet');
    expect(await text(row('Anthropic'))).toContain('Last 30 days: 0 uses, 0 failures');

    // The cooling OpenAI key is skipped: the Anthropic key serves, and each route says so.
    const analysis = await text(routeOf('Analysis'));
    expect(analysis).toMatch(/^Analysis Provider Anthropic Model \S+ Billing Your own key \(BYOK\)/);
    expect(analysis).toContain('Status Fallback key');
    expect(analysis).toMatch(
      /Your Anthropic key is used because your OpenAI key is paused until .* after repeated failures at OpenAI/,
    );
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, SHOTS, '30-key-details-and-routes');

    // A passing test puts the key back: the row and the routes show it.
    await openai.getByRole('button', { name: 'Test', exact: true }).click();
    await routeOf('Analysis').getByText('Your first key').waitFor();
    expect(await text(routeOf('Analysis'))).toContain('Provider OpenAI');
    expect(await text(openai)).not.toContain('Paused until');
    // The top of the page as the README shows it (docs/settings.png is copied from it by hand).
    await page.screenshot({
      path: path.resolve(__dirname, '../../test-artifacts', SHOTS, '39-readme.png'),
      fullPage: true,
      clip: { x: 0, y: 0, width: 1280, height: 1500 },
    });
  });

  it('edits the label and the expiry from the answer; a past expiry is refused; an expired key says so', async () => {
    const openai = row('OpenAI');
    await openai.getByRole('button', { name: 'Edit' }).click();
    const edit = openai.getByRole('form', { name: 'Edit the OpenAI key' });
    expect(await edit.getByLabel('Label').inputValue()).toBe('Research');
    expect(await edit.getByLabel('Expires').inputValue()).toBe('');
    await edit.getByLabel('Label').fill('Production');
    await edit.getByLabel('Expires').fill('2030-01-01T12:00');
    const sent = await operationsDuring(['UpdateProviderKey', 'ProviderKeyEvents'], async () => {
      await edit.getByRole('button', { name: 'Save changes' }).click();
      await openai.getByText('Production').waitFor();
    });
    // The key from the answer; only the audit trail is asked again (the routes did not change).
    expect(sent).toEqual(['ProviderKeyEvents', 'UpdateProviderKey']);
    expect(await text(openai)).toMatch(/Expires Jan 1, 2030/);
    expect(await text(page.getByRole('status').first())).toBe('OpenAI key updated.');
    expect(await page.evaluate<string>('document.activeElement.textContent')).toBe('Edit');
    await activity().getByText('Updated OpenAI key').waitFor();
    const stored = await keyOf('OPENAI');
    expect(stored.label).toBe('Production');
    expect(stored.expiresAt).toBe(await page.evaluate<string>(`new Date('2030-01-01T12:00').toISOString()`));

    // A past expiry: the API's own words, and nothing changes.
    await openai.getByRole('button', { name: 'Edit' }).click();
    await edit.getByLabel('Expires').fill('2020-01-01T00:00');
    await edit.getByRole('button', { name: 'Save changes' }).click();
    const refused = await app.gql(
      UpdateProviderKeyDocument,
      { input: { provider: 'OPENAI', expiresAt: '2020-01-01T00:00:00.000Z' } },
      alice,
    );
    expect(refused.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    // The message names the server's time, so the page's says another instant.
    const anyInstant = (message: string) => message.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '<now>');
    await edit.getByRole('alert').waitFor();
    expect(anyInstant(await text(edit.getByRole('alert')))).toBe(anyInstant(refused.errors![0].message));
    await screenshot(page, SHOTS, '31-edit-refused');
    await edit.getByRole('button', { name: 'Cancel' }).click();
    expect((await keyOf('OPENAI')).expiresAt).toBe(stored.expiresAt);

    // Once the expiry has passed (set in the database: the API takes only future ones) the row says
    // "Expired" and routing skips the key; removing the expiry puts it back, and the routes show it.
    await app.dataSource
      .getRepository(ProviderKey)
      .update({ id: stored.id }, { expiresAt: new Date(Date.now() - 60_000) });
    await signIn(alice);
    await openai.getByText('Expired', { exact: true }).waitFor();
    expect(await text(openai)).toMatch(/Expired \w+ \d+, \d{4}/);
    expect(await text(routeOf('Analysis'))).toMatch(/your OpenAI key expired at/);
    await screenshot(page, SHOTS, '32-expired');
    await openai.getByRole('button', { name: 'Edit' }).click();
    await edit.getByLabel('Expires').fill('');
    const cleared = await operationsDuring(
      ['UpdateProviderKey', 'ProviderKeyEvents', 'AiSettings'],
      async () => {
        await edit.getByRole('button', { name: 'Save changes' }).click();
        await openai.getByText('No expiry').waitFor();
      },
    );
    expect(cleared).toEqual(['AiSettings', 'ProviderKeyEvents', 'UpdateProviderKey']);
    await routeOf('Analysis').getByText('Your first key').waitFor();
    expect(await text(openai)).not.toContain('Expired');
  });

  it('adds a key with an expiry after a deep test (billed), and rotates it with a new expiry', async () => {
    await page.getByRole('button', { name: 'Add provider key' }).click();
    const form = addForm();
    await form.getByLabel('Provider').selectOption({ label: 'Mistral AI' });
    await form.getByLabel('API key').fill(mistralKey);
    const deep = form.getByRole('checkbox', { name: 'Deep test (billed)' });
    expect(await deep.isChecked()).toBe(false);
    expect(await text(form)).toContain('Your provider bills these requests');
    const billed = () =>
      app.providers.requests.filter((request) => request.url.startsWith('/mistral/v1/chat/completions'))
        .length;

    // Without the option: the model list only.
    const before = billed();
    await form.getByRole('button', { name: 'Test connection' }).click();
    await form.getByText('Connection works').waitFor();
    expect(billed()).toBe(before);
    expect(await text(form.locator('.outcome'))).not.toContain('Deep test');

    // With it: billed requests, and the result says so.
    await deep.check();
    await form.getByRole('button', { name: 'Test connection' }).click();
    await form.getByText('Deep test: billed requests were made').waitFor();
    expect(billed()).toBeGreaterThan(before);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, SHOTS, '33-deep-test');

    await form.getByLabel('Expires').fill('2031-06-01T09:30');
    await form.getByRole('button', { name: 'Save' }).click();
    await row('Mistral AI').waitFor();
    expect(await text(row('Mistral AI'))).toMatch(/Expires Jun 1, 2031/);
    // The new key's chart is there at once, without its query being sent again.
    expect(await text(row('Mistral AI'))).toContain('Last 30 days: 0 uses, 0 failures');

    // Rotate starts with the current expiry; a new one goes with the new key.
    await row('Mistral AI').getByRole('button', { name: 'Rotate' }).click();
    const rotate = row('Mistral AI').getByRole('form', { name: 'Rotate the Mistral AI key' });
    expect(await rotate.getByLabel('Expires').inputValue()).toBe('2031-06-01T09:30');
    await rotate.getByLabel('API key').fill(mistralRotated);
    await rotate.getByLabel('Expires').fill('2032-03-15T08:00');
    await rotate.getByRole('button', { name: 'Rotate key' }).click();
    await row('Mistral AI').getByText('Version 2', { exact: true }).waitFor();
    expect(await text(row('Mistral AI'))).toMatch(/Expires Mar 15, 2032/);
  });

  it('reorders providers and chooses a model per task; the routes show the answer without a refetch', async () => {
    const form = choices();
    const order = async () =>
      (await form.locator('.provider-order li').allInnerTexts()).map(
        (item) => /^\d+\. (.+?) (key stored|no key)/.exec(item.replace(/\s+/g, ' '))?.[1],
      );
    expect(await order()).toEqual(['OpenAI', 'Anthropic', 'Google Gemini', 'Azure OpenAI', 'Mistral AI']);
    expect(await text(routeOf('Analysis'))).toContain('Provider OpenAI');

    // By keyboard: the focus stays on the button that moved its provider.
    await form.getByRole('button', { name: 'Move Anthropic up' }).focus();
    await page.keyboard.press('Enter');
    expect(await order()).toEqual(['Anthropic', 'OpenAI', 'Google Gemini', 'Azure OpenAI', 'Mistral AI']);
    expect(await page.evaluate<string>(`document.activeElement.getAttribute('aria-label')`)).toBe(
      'Move Anthropic up',
    );
    await form.getByRole('button', { name: 'Move Mistral AI up' }).click();
    await form.getByRole('button', { name: 'Move Mistral AI up' }).click();
    await form.getByRole('button', { name: 'Move Mistral AI up' }).click();
    expect(await order()).toEqual(['Anthropic', 'Mistral AI', 'OpenAI', 'Google Gemini', 'Azure OpenAI']);
    // Nothing is saved until "Save routing".
    expect(await text(routeOf('Analysis'))).toContain('Provider OpenAI');
    const saved = await operationsDuring(['UpdateAiSettings'], async () => {
      await form.getByRole('button', { name: 'Save routing' }).click();
      await form.getByText('Routing saved.').waitFor();
    });
    expect(saved).toEqual(['UpdateAiSettings']);
    expect(await text(routeOf('Analysis'))).toMatch(/Provider Anthropic .*Status Your first key/);
    expect((await app.gql(AiSettingsDocument, {}, alice)).data!.aiSettings.providerOrder).toEqual([
      'ANTHROPIC',
      'MISTRAL',
      'OPENAI',
      'GOOGLE_GEMINI',
      'AZURE_OPENAI',
    ]);

    // A model for one task, among the serving key's models; the default names the catalog's model.
    const select = form.getByLabel('Model for Analysis');
    const catalog = (await text(routeOf('Analysis'))).match(/Model (\S+)/)![1];
    const insight = await text(routeOf('Insight generation'));
    const options = await select.locator('option').allInnerTexts();
    expect(options[0]).toBe(`${catalog} (default)`);
    expect(options.slice(1)).toEqual(
      (await keyOf('ANTHROPIC')).availableModels.filter((model) => model !== catalog),
    );
    await select.selectOption('claude-opus-4-1-20250805');
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, SHOTS, '34-routing-choices');
    const chosen = await operationsDuring(['UpdateAiSettings'], async () => {
      await form.getByRole('button', { name: 'Save routing' }).click();
      await routeOf('Analysis').getByText('claude-opus-4-1-20250805').waitFor();
    });
    expect(chosen).toEqual(['UpdateAiSettings']);
    expect(await text(routeOf('Insight generation'))).toBe(insight);
    expect(await select.inputValue()).toBe('claude-opus-4-1-20250805');
    // The default keeps its name once another model is chosen, and choosing it goes back to the catalog.
    expect((await select.locator('option').allInnerTexts())[0]).toBe(`${catalog} (default)`);
    await select.selectOption({ label: `${catalog} (default)` });
    await form.getByRole('button', { name: 'Save routing' }).click();
    await routeOf('Analysis').getByText(catalog, { exact: true }).waitFor();
    expect((await app.gql(AiSettingsDocument, {}, alice)).data!.aiSettings.taskModels).toEqual([]);
    await select.selectOption('claude-opus-4-1-20250805');
    await form.getByRole('button', { name: 'Save routing' }).click();
    await routeOf('Analysis').getByText('claude-opus-4-1-20250805').waitFor();
  });

  it("turns the built-in fallback off: the removal's confirmation says AI tasks pause; API errors show", async () => {
    const form = choices();
    const fallback = form.getByRole('checkbox', { name: 'Built-in fallback' });
    expect(await fallback.isChecked()).toBe(true);
    await fallback.uncheck();
    expect(await text(form)).toContain(
      "Off: when none of your stored keys works, AI tasks pause instead of running on the platform's built-in allocation",
    );
    const sent = await operationsDuring(['UpdateAiSettings'], async () => {
      await form.getByRole('button', { name: 'Save routing' }).click();
      await form.getByText('Routing saved.').waitFor();
    });
    expect(sent).toEqual(['UpdateAiSettings']);
    expect((await app.gql(AiSettingsDocument, {}, alice)).data!.aiSettings.builtInFallback).toBe(false);

    await row('OpenAI').getByRole('button', { name: 'Remove' }).click();
    const confirm = row('OpenAI').getByRole('group');
    expect(await text(confirm)).toContain(
      "if none works, AI tasks pause instead of falling back to the platform's built-in allocation, because the built-in fallback is off for this account.",
    );
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, SHOTS, '35-remove-fallback-off');
    await confirm.getByRole('button', { name: 'Cancel' }).click();

    // What the API refuses is shown in its words: here the plan changed meanwhile.
    const accounts = app.dataSource.getRepository(Account);
    await accounts.update('acct_acme', { plan: Plan.STARTER });
    await form.getByRole('button', { name: 'Move OpenAI up' }).click();
    await form.getByRole('button', { name: 'Save routing' }).click();
    const refused = await app.post(
      { query: 'mutation { updateAiSettings(input: { builtInFallback: false }) { builtInFallback } }' },
      { authorization: `Bearer ${alice}` },
    );
    expect(refused.json.errors[0].extensions.code).toBe('PLAN_UPGRADE_REQUIRED');
    await form.getByRole('alert').getByText(refused.json.errors[0].message, { exact: true }).waitFor();
    await accounts.update('acct_acme', { plan: Plan.GROWTH });
  });

  it('shows paused tasks clearly when no key works, and a health change in the activity', async () => {
    // The pipelines' calls are refused by every provider: hard outcomes mark each key at once.
    for (const provider of ['OPENAI', 'ANTHROPIC', 'MISTRAL']) await report(provider, 'INVALID_KEY');
    await signIn(alice);
    for (const task of ['Interview conversation', 'Analysis', 'Insight generation']) {
      const route = await text(routeOf(task));
      expect(route).toContain('Status Paused: no key can serve');
      expect(route).toContain('AI tasks are paused because your Anthropic key was rejected by Anthropic');
    }
    expect(await routing().locator('.route-unavailable').count()).toBe(3);
    const change = activity().getByRole('listitem').filter({ hasText: 'Health changed Mistral AI key' });
    expect(await text(change)).toMatch(
      /^Health changed Mistral AI key \*{4}\w{4} Valid → to Invalid key by service:interview-pipeline/,
    );
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, SHOTS, '36-paused');
  });

  it('shows a member the routes with their status and reason, and no controls', async () => {
    const bob = await app.token('user_bob', 'acct_acme');
    secrets.memberToken = bob;
    await signIn(bob);
    expect(await text(routeOf('Analysis'))).toContain('Status Paused: no key can serve');
    expect(await choices().count()).toBe(0);
    expect(await page.getByRole('checkbox').count()).toBe(0);
    expect(await page.getByRole('combobox').count()).toBe(0);
    expect((await page.getByRole('button').allInnerTexts()).map((name) => name.trim())).toEqual(['Sign out']);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, SHOTS, '37-member-routes');
  });

  it('leaves no key or token in storage, cookies or the URL', async () => {
    const none = Object.fromEntries(Object.keys(secrets).map((name) => [name, []]));
    expect(await secretsLeftBehind(page, context, secrets)).toEqual(none);
  });
});
