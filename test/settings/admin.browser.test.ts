import { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import {
  AddProviderKeyDocument,
  RemoveProviderKeyDocument,
  RotateProviderKeyDocument,
} from '../generated/graphql';
import { AiProvider } from '../../src/providers/ai-provider.enum';
import {
  axeViolations,
  expectNothingFromElsewhere,
  launchChromium,
  openTab,
  PageWatch,
  screenshot,
  secretsLeftBehind,
} from '../support/browser';
import { makeKey } from '../support/fake-providers';
import { keyFragmentsIn } from '../support/key-fragments';
import { startTestApp, TestApp } from '../support/test-app';

// The seed's admin (user_alice of acct_acme) on the "AI Provider Keys" page in Chromium, against the real
// service and the fake providers: sign in, add a key with "Test connection" then "Save", test it again,
// rotate it (and meet someone else's rotation), remove it and see the built-in allocation, page through
// the audit trail; by keyboard alone; at a desktop's and a phone's width; with axe-core. The page must
// keep what the mutations answer without asking again, load nothing from another origin, and leave no
// key or token in storage, cookies or the URL. Screenshots of each step: test-artifacts/settings/.

const SHOTS = 'settings';
const SLOW = 15_000;

describe('AI Provider Keys page, as an admin', () => {
  let app: TestApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let watch: PageWatch;
  let alice: string;
  const secrets: Record<string, string> = {};
  const openaiKey = makeKey(AiProvider.OPENAI, 'VALID', 1);
  const rotatedKey = makeKey(AiProvider.OPENAI, 'VALID', 2);
  const masked = (key: string) => `****${key.slice(-4)}`;

  /** The GraphQL operations the page sends while `action` runs and until `expected` have all been sent. */
  async function operationsDuring(expected: string[], action: () => Promise<void>): Promise<string[]> {
    const from = watch.operations.length;
    await action();
    const sent = () => watch.operations.slice(from);
    const missing = () => {
      const left = [...sent()];
      return expected.filter((name) => {
        const index = left.indexOf(name);
        if (index >= 0) left.splice(index, 1);
        return index < 0;
      });
    };
    const deadline = Date.now() + SLOW;
    while (missing().length && Date.now() < deadline) await page.waitForTimeout(25);
    // Anything else the page would send (a refetch it should not need) has time to show up.
    await page.waitForTimeout(300);
    return [...sent()].sort();
  }

  const row = (name: string) => page.getByRole('row', { name, exact: true });
  const routing = () => page.getByRole('region', { name: 'Routing' });
  const activity = () => page.getByRole('region', { name: 'Activity' });
  const addForm = () => page.getByRole('form', { name: 'Add provider key' });
  const text = async (locator: Locator) => (await locator.innerText()).replace(/\s+/g, ' ');
  /** The accessible name of the focused control, near enough: its aria-label, its label or its text. */
  const focused = () =>
    page.evaluate<string>(`(() => {
      const element = document.activeElement;
      const label = element && element.labels && element.labels[0];
      return ((element && element.getAttribute('aria-label')) || (label && label.textContent) || (element && element.textContent) || '').trim();
    })()`);
  /** Presses Tab until the control named `name` has the focus: it is reachable by keyboard. */
  async function tabTo(name: string, backwards = false): Promise<void> {
    for (let presses = 0; presses < 60; presses++) {
      await page.keyboard.press(backwards ? 'Shift+Tab' : 'Tab');
      if ((await focused()) === name) return;
    }
    throw new Error(`Tab never reached "${name}"`);
  }
  const layoutShifts = () => page.evaluate<number[]>('window.layoutShifts');

  beforeAll(async () => {
    app = await startTestApp('sqlite', { env: { TEST_RATE_LIMIT_PER_MINUTE: '1000' } });
    alice = await app.token('user_alice', 'acct_acme');
    secrets.token = alice;
    secrets.openaiKey = openaiKey;
    secrets.rotatedKey = rotatedKey;
    // Earlier history, so that the audit trail has more than one page by the end.
    for (let round = 0; round < 4; round++) {
      const apiKey = makeKey(AiProvider.GOOGLE_GEMINI, 'VALID', round);
      const input = { provider: 'GOOGLE_GEMINI' as const, apiKey, verify: false };
      expect((await app.gql(AddProviderKeyDocument, { input }, alice)).errors).toBeUndefined();
      expect(
        (await app.gql(RemoveProviderKeyDocument, { provider: 'GOOGLE_GEMINI' }, alice)).errors,
      ).toBeUndefined();
    }
    browser = await launchChromium();
    // Layout shifts not caused by a recent input (CLS's rule), collected from the first paint on.
    ({ context, page, watch } = await openTab(
      browser,
      app.url,
      SLOW,
      `
      window.layoutShifts = [];
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) if (!entry.hadRecentInput) window.layoutShifts.push(entry.value);
      }).observe({ type: 'layout-shift', buffered: true });
    `,
    ));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('asks for a token, signs in with it and shows the keys, the routes and the activity', async () => {
    await page.goto(`${app.url}/settings`);
    const token = page.getByLabel('Token');
    expect(await token.getAttribute('type')).toBe('password');
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, SHOTS, '01-sign-in');

    const sent = await operationsDuring(
      ['Me', 'AiProviders', 'AiSettings', 'ProviderKeys', 'ProviderKeyUsage', 'ProviderKeyEvents'],
      async () => {
        await token.fill(alice);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByRole('heading', { name: 'Connected providers' }).waitFor();
      },
    );
    expect(sent).toEqual([
      'AiProviders',
      'AiSettings',
      'Me',
      'ProviderKeyEvents',
      'ProviderKeyUsage',
      'ProviderKeys',
    ]);
    expect(await page.getByRole('row').count()).toBe(0);
    expect(await text(page.locator('header'))).toContain('user_alice · Admin · acct_acme · Growth plan');
    // Every provider is listed with what it would need, Azure's endpoint and deployment included.
    const notConnected = await text(page.locator('section', { has: page.getByText('Not connected') }));
    expect(notConnected).toContain('OpenAI Starts with sk-');
    expect(notConnected).toContain('Anthropic Starts with sk-ant-');
    expect(notConnected).toMatch(/Azure OpenAI .*also needs the resource endpoint and a deployment name/);
    const routes = await text(routing());
    for (const task of ['Interview conversation', 'Analysis', 'Insight generation'])
      expect(routes).toContain(`${task} Provider OpenAI`);
    expect(routes.match(/Built-in allocation/g)).toHaveLength(3);
    expect(await activity().getByRole('listitem').count()).toBe(8);
    expect(await activity().getByRole('button', { name: 'Load more' }).count()).toBe(0);
    await screenshot(page, SHOTS, '02-signed-in');
  });

  it('adds an OpenAI key: "Test connection" shows the result before "Save", which lists the key', async () => {
    await page.getByRole('button', { name: 'Add provider key' }).click();
    const form = addForm();
    await form.getByLabel('Provider').selectOption({ label: 'OpenAI' });
    expect(await text(form)).toContain('Starts with sk-');
    // Azure's fields are Azure's only.
    expect(await form.getByLabel('Endpoint').count()).toBe(0);
    const apiKey = form.getByLabel('API key');
    expect(await apiKey.getAttribute('type')).toBe('password');
    await apiKey.fill(openaiKey);
    await form.getByLabel('Label').fill('Research team');

    const tested = await operationsDuring(['TestProviderKey'], async () => {
      await form.getByRole('button', { name: 'Test connection' }).click();
      await form.getByText('Connection works').waitFor();
    });
    expect(tested).toEqual(['TestProviderKey']);
    const result = await text(form.locator('.outcome'));
    expect(result).toMatch(/^Valid Connection works · \d+ ms /);
    expect(result).toContain('every model the platform needs');
    // Tested, not stored; and the key is on screen nowhere, not even in the page's markup.
    expect(await page.getByRole('row').count()).toBe(0);
    expect(keyFragmentsIn(await page.content(), openaiKey)).toEqual([]);
    expect(keyFragmentsIn(await page.locator('body').innerText(), openaiKey)).toEqual([]);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, SHOTS, '03-add-tested');

    // Saved from the answer: the list and the dropdown come from the cache, only routes and activity are asked.
    const saved = await operationsDuring(['AddProviderKey', 'AiSettings', 'ProviderKeyEvents'], async () => {
      await form.getByRole('button', { name: 'Save' }).click();
      await row('OpenAI').waitFor();
    });
    expect(saved).toEqual(['AddProviderKey', 'AiSettings', 'ProviderKeyEvents']);
    const listed = await text(row('OpenAI'));
    for (const shown of [masked(openaiKey), 'Research team', 'Valid', 'Your own key (BYOK)', 'Version 1'])
      expect(listed).toContain(shown);
    expect(listed).toMatch(/Last test \w+ \d+, \d{4}/);
    expect(await text(page.getByRole('status').first())).toBe(`OpenAI key ${masked(openaiKey)} saved.`);
    expect(await addForm().count()).toBe(0);
    await routing().getByText('Your own key (BYOK)').first().waitFor();
    expect((await text(routing())).match(/Your own key \(BYOK\)/g)).toHaveLength(3);
    await activity().getByText('Added OpenAI key').waitFor();
    expect(await text(page.locator('section', { has: page.getByText('Not connected') }))).not.toContain(
      'OpenAI Starts with sk-',
    );
    // The dropdown no longer offers OpenAI, and a new form starts with an empty key.
    await page.getByRole('button', { name: 'Add provider key' }).click();
    expect(await addForm().getByLabel('Provider').locator('option').allInnerTexts()).toEqual([
      'Anthropic',
      'Google Gemini',
      'Azure OpenAI',
      'Mistral AI',
    ]);
    expect(await addForm().getByLabel('API key').inputValue()).toBe('');
    await addForm().getByRole('button', { name: 'Cancel' }).click();
    await screenshot(page, SHOTS, '04-added');
  });

  it('tests the stored key again: the answer updates the row (health, message, time), no refetch of keys', async () => {
    const before = await row('OpenAI').locator('time').getAttribute('datetime');
    await page.waitForTimeout(1_100); // test times have second precision at least
    const sent = await operationsDuring(['TestProviderKey', 'AiSettings', 'ProviderKeyEvents'], async () => {
      await row('OpenAI').getByRole('button', { name: 'Test', exact: true }).click();
      await row('OpenAI')
        .getByText(/Tested in \d+ ms/)
        .waitFor();
    });
    expect(sent).toEqual(['AiSettings', 'ProviderKeyEvents', 'TestProviderKey']);
    expect(await row('OpenAI').locator('time').getAttribute('datetime')).not.toBe(before);
    expect(await text(row('OpenAI'))).toContain('Valid');
    await activity().getByText('Tested OpenAI key').waitFor();
    await screenshot(page, SHOTS, '05-tested-again');
  });

  it('rotates the key in place: same row, new last four, version 2', async () => {
    await row('OpenAI').getByRole('button', { name: 'Rotate' }).click();
    const rotate = row('OpenAI').getByRole('form', { name: 'Rotate the OpenAI key' });
    expect(await text(rotate)).toContain(`replaces ${masked(openaiKey)} (version 1) in place`);
    expect(await rotate.getByLabel('API key').getAttribute('type')).toBe('password');
    await rotate.getByLabel('API key').fill(rotatedKey);
    await screenshot(page, SHOTS, '06-rotate');
    const sent = await operationsDuring(
      ['RotateProviderKey', 'AiSettings', 'ProviderKeyEvents'],
      async () => {
        await rotate.getByRole('button', { name: 'Rotate key' }).click();
        await row('OpenAI').getByText('Version 2', { exact: true }).waitFor();
      },
    );
    expect(sent).toEqual(['AiSettings', 'ProviderKeyEvents', 'RotateProviderKey']);
    const shown = await text(row('OpenAI'));
    expect(shown).toContain(masked(rotatedKey));
    expect(shown).not.toContain(masked(openaiKey));
    expect(await text(page.getByRole('status').first())).toBe(
      `OpenAI key rotated: now ${masked(rotatedKey)}, version 2.`,
    );
    // The panel is gone and the focus is back where it was.
    expect(await row('OpenAI').getByRole('form').count()).toBe(0);
    expect(await page.evaluate<string>('document.activeElement.textContent')).toBe('Rotate');
    await activity().getByText('Rotated OpenAI key').waitFor();
  });

  it('explains a CONFLICT when someone else rotated first, and shows their version', async () => {
    await row('OpenAI').getByRole('button', { name: 'Rotate' }).click();
    const rotate = row('OpenAI').getByRole('form', { name: 'Rotate the OpenAI key' });
    // Another admin, elsewhere, rotates meanwhile.
    const theirs = makeKey(AiProvider.OPENAI, 'VALID', 3);
    secrets.theirKey = theirs;
    const other = await app.gql(
      RotateProviderKeyDocument,
      { input: { provider: 'OPENAI', apiKey: theirs, verify: false } },
      alice,
    );
    expect(other.data?.rotateProviderKey.version).toBe(3);

    const mine = makeKey(AiProvider.OPENAI, 'VALID', 4);
    secrets.lateKey = mine;
    await rotate.getByLabel('API key').fill(mine);
    const sent = await operationsDuring(
      ['RotateProviderKey', 'ProviderKeys', 'AiSettings', 'ProviderKeyEvents'],
      async () => {
        await rotate.getByRole('button', { name: 'Rotate key' }).click();
        await rotate.getByText('Someone else rotated this key').waitFor();
      },
    );
    // No answer carries their key: the keys, routes and activity are asked for again.
    expect(sent).toEqual(['AiSettings', 'ProviderKeyEvents', 'ProviderKeys', 'RotateProviderKey']);
    const explained = await text(rotate);
    expect(explained).toContain('The key changed meanwhile: it is at version 3, not 2.');
    await row('OpenAI').getByText('Version 3', { exact: true }).waitFor();
    expect(await text(row('OpenAI'))).toContain(masked(theirs));
    expect(await text(row('OpenAI'))).toContain('Not tested');
    await routing().getByText('Not tested').first().waitFor();
    await screenshot(page, SHOTS, '07-rotate-conflict');
    await rotate.getByRole('button', { name: 'Cancel' }).click();
  });

  it('removes the key after a confirmation naming the built-in allocation, and routes fall back to it', async () => {
    await row('OpenAI').getByRole('button', { name: 'Remove' }).click();
    const confirm = row('OpenAI').getByRole('group');
    expect(await text(confirm)).toMatch(
      /^Remove the OpenAI key \*{4}\w{4}\? It is deleted for good, and OpenAI falls back to the platform's built-in allocation: with no key left, every AI task runs on the built-in allocation/,
    );
    // The safe choice has the focus; the buttons that opened the panel are gone meanwhile.
    expect(await page.evaluate<string>('document.activeElement.textContent')).toBe('Cancel');
    expect(await row('OpenAI').getByRole('button', { name: 'Remove', exact: true }).count()).toBe(0);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, SHOTS, '08-remove-confirm');

    const sent = await operationsDuring(
      ['RemoveProviderKey', 'AiSettings', 'ProviderKeyEvents'],
      async () => {
        await confirm.getByRole('button', { name: 'Remove key' }).click();
        await row('OpenAI').waitFor({ state: 'detached' });
      },
    );
    expect(sent).toEqual(['AiSettings', 'ProviderKeyEvents', 'RemoveProviderKey']);
    expect(await page.getByRole('row').count()).toBe(0);
    expect(await text(page.getByRole('status').first())).toBe(
      "OpenAI key removed: OpenAI now uses the platform's built-in allocation.",
    );
    await routing().getByText('Managed by the platform').first().waitFor();
    expect((await text(routing())).match(/Built-in allocation/g)).toHaveLength(3);
    expect(await text(page.locator('section', { has: page.getByText('Not connected') }))).toContain(
      'OpenAI Starts with sk-',
    );
    expect(await page.evaluate<string>('document.activeElement.textContent')).toBe('Add provider key');
    await activity().getByText('Removed OpenAI key').waitFor();
    await screenshot(page, SHOTS, '09-removed');
  });

  it('pages through the audit trail with "Load more"', async () => {
    // 8 earlier events, then added, tested, rotated twice and removed: 13, newest first, 10 a page.
    const items = activity().getByRole('listitem');
    expect(await items.count()).toBe(10);
    const sent = await operationsDuring(['ProviderKeyEvents'], async () => {
      await activity().getByRole('button', { name: 'Load more' }).click();
      await items.nth(12).waitFor();
    });
    expect(sent).toEqual(['ProviderKeyEvents']);
    expect(await items.count()).toBe(13);
    expect(await activity().getByRole('button', { name: 'Load more' }).count()).toBe(0);
    const actions = (await items.allInnerTexts()).map((item) => item.split(/\s/)[0]);
    expect(actions.slice(0, 6)).toEqual(['Removed', 'Rotated', 'Rotated', 'Tested', 'Added', 'Removed']);
    await screenshot(page, SHOTS, '10-activity');
  });

  it('works by keyboard alone: add a key with a test, then remove it after the confirmation', async () => {
    const anthropicKey = makeKey(AiProvider.ANTHROPIC, 'VALID', 5);
    secrets.anthropicKey = anthropicKey;
    await page.evaluate('document.activeElement && document.activeElement.blur()');
    await tabTo('Add provider key');
    await page.keyboard.press('Enter');
    expect(await focused()).toBe('Provider');
    await page.keyboard.type('Anth'); // a closed select picks the option its typed letters start
    expect(await addForm().getByLabel('Provider').inputValue()).toBe('ANTHROPIC');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('API key');
    await page.keyboard.type(anthropicKey);
    await tabTo('Test connection');
    await page.keyboard.press('Enter');
    await addForm().getByText('Connection works').waitFor();
    // A busy button keeps the focus, so the next key press still lands where the admin is.
    expect(await focused()).toBe('Test connection');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('Save');
    await page.keyboard.press('Enter');
    await row('Anthropic').waitFor();
    expect(await focused()).toBe('Add provider key');
    await screenshot(page, SHOTS, '11-keyboard-added');

    await tabTo('Remove');
    await page.keyboard.press('Enter');
    expect(await focused()).toBe('Cancel');
    await page.keyboard.press('Shift+Tab');
    expect(await focused()).toBe('Remove key');
    await page.keyboard.press('Enter');
    await row('Anthropic').waitFor({ state: 'detached' });
    expect(await focused()).toBe('Add provider key');
  });

  it('keeps the layout still when a slow connection test answers, at a desktop and a phone width', async () => {
    const slowKey = makeKey(AiProvider.MISTRAL, 'DELAY500', 6);
    secrets.slowKey = slowKey;
    for (const viewport of [
      { width: 1280, height: 800 },
      { width: 390, height: 844 },
    ]) {
      await page.setViewportSize(viewport);
      await page.getByRole('button', { name: 'Add provider key' }).click();
      await addForm().getByLabel('Provider').selectOption({ label: 'Mistral AI' });
      await addForm().getByLabel('API key').fill(slowKey);
      await page.evaluate('window.layoutShifts = []');
      // The fake answers after 500 ms: past the half second in which CLS forgives a shift after a click.
      await addForm().getByRole('button', { name: 'Test connection' }).click();
      await addForm().getByText('Connection works').waitFor();
      expect({ viewport, shifts: await layoutShifts() }).toEqual({ viewport, shifts: [] });
      await addForm().getByRole('button', { name: 'Cancel' }).click();
    }

    // The same for a stored key's "Test": the row keeps room for its answer.
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole('button', { name: 'Add provider key' }).click();
    await addForm().getByLabel('Provider').selectOption({ label: 'Mistral AI' });
    await addForm().getByLabel('API key').fill(slowKey);
    await addForm().getByRole('button', { name: 'Save' }).click();
    await row('Mistral AI').waitFor();
    await page.evaluate('window.layoutShifts = []');
    await row('Mistral AI').getByRole('button', { name: 'Test', exact: true }).click();
    await row('Mistral AI')
      .getByText(/Tested in \d+ ms/)
      .waitFor();
    expect(await layoutShifts()).toEqual([]);
  });

  it('is readable at a phone width: one column, nothing wider than the screen, axe-clean', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await row('Mistral AI').getByRole('button', { name: 'Rotate' }).click();
    const overflow = await page.evaluate<number>(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    );
    expect(overflow).toBe(0);
    for (const button of await page.getByRole('button').all()) {
      const box = await button.boundingBox();
      expect(box && box.x >= 0 && box.x + box.width <= 390).toBe(true);
    }
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, SHOTS, '12-phone');
    await row('Mistral AI').getByRole('button', { name: 'Cancel' }).click();
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(await axeViolations(page)).toEqual([]);
  });

  it('leaves no key or token behind, forgets the token on reload, and loaded nothing from elsewhere', async () => {
    const none = Object.fromEntries(Object.keys(secrets).map((name) => [name, []]));
    expect(await secretsLeftBehind(page, context, secrets)).toEqual(none);
    await page.reload();
    await page.getByLabel('Token').waitFor();
    expect(await page.getByLabel('Token').inputValue()).toBe('');
    expect(await secretsLeftBehind(page, context, secrets)).toEqual(none);

    expect(watch.requested.length).toBeGreaterThan(0);
    expectNothingFromElsewhere(watch, app.url);
  });
});
