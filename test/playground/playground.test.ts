import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import { AddProviderKeyDocument } from '../generated/graphql';
import { AiProvider } from '../../src/providers/ai-provider.enum';
import { makeKey } from '../support/fake-providers';
import { keyFragmentsIn } from '../support/key-fragments';
import { startTestApp, TestApp } from '../support/test-app';

// The playground as an admin sees it: Debian's Chromium opens GET /graphql on the real service, sets a
// token in the headers editor, runs providerKeys and reads the masked key off the screen. Nothing may be
// fetched from anywhere but the service itself (the page must work offline).

const CHROMIUM = '/usr/bin/chromium';
const INSTALL_HINT = `Chromium is not installed at ${CHROMIUM}: run \`apt-get update && apt-get install -y chromium\` (.ci/run does this).`;
const SCREENSHOT = path.resolve(__dirname, '../../test-artifacts/playground.png');
const SLOW = 30_000;
/** GraphiQL writes its editors to storage 500 ms after the last change (debounced); wait that out and more. */
const STORAGE_DEBOUNCE_MS = 1_000;
const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const randomText = (length: number) =>
  Array.from(crypto.randomBytes(length), (byte) => alphabet[byte % alphabet.length]).join('');

describe('GraphQL playground in a browser', () => {
  let app: TestApp;
  let browser: Browser | undefined;
  let page: Page;
  let apiKey: string;
  const requested: string[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    // Fail, never skip: a machine without Chromium must not pass this suite by accident.
    if (!fs.existsSync(CHROMIUM)) throw new Error(INSTALL_HINT);
    app = await startTestApp('sqlite');
    apiKey = makeKey(AiProvider.OPENAI);
    const alice = await app.token('user_alice', 'acct_acme');
    const added = await app.gql(
      AddProviderKeyDocument,
      { input: { provider: 'OPENAI', apiKey, verify: false } },
      alice,
    );
    expect(added.errors).toBeUndefined();

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.setDefaultTimeout(SLOW);
    page.on('request', (request) => requested.push(request.url()));
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      // CSP refusals and failed loads show up here, as errors.
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it('runs providerKeys with a bearer token and shows only the masked key', async () => {
    await page.goto(`${app.url}/graphql`);
    const headersEditor = page.locator(
      'section.graphiql-editor-tool[aria-label="Headers"] .graphiql-editor:not(.hidden) .CodeMirror',
    );
    await headersEditor.waitFor();
    await replaceEditorText(
      page,
      headersEditor,
      JSON.stringify({ Authorization: `Bearer ${await app.token('user_alice', 'acct_acme')}` }, null, 2),
    );
    await replaceEditorText(
      page,
      page.locator('.graphiql-query-editor .CodeMirror'),
      '{ providerKeys { provider maskedKey } }',
    );
    await page.locator('.graphiql-execute-button').click();

    const masked = `****${apiKey.slice(-4)}`;
    const pane = page.locator('.result-window');
    const shown = await pane
      .filter({ hasText: masked })
      .waitFor({ timeout: SLOW })
      .then(
        () => true,
        () => false,
      );
    const result = (await pane.textContent()) ?? '';
    // On a miss, say what the pane shows and what the service logged rather than just "timeout".
    if (!shown)
      throw new Error(
        `no ${masked} in the response pane: ${result}\n${app.logs.filter((line) => /"level":50/.test(line)).join('\n')}`,
      );
    expect(result).toContain('"provider": "OPENAI"');
    expect(await page.content()).not.toContain(apiKey);
    expect(await page.locator('body').innerText()).not.toContain(apiKey);
  }, 60_000);

  it('browses the schema in the docs explorer (introspection)', async () => {
    await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
    const explorer = page.locator('.graphiql-doc-explorer');
    await explorer
      .locator('a', { hasText: /^Query$/ })
      .first()
      .click();
    await explorer.getByText('providerKeys', { exact: true }).waitFor();

    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
  }, 60_000);

  it("keeps no key and no token in the browser's storage, not even after a reload", async () => {
    const inlineKey = `sk-ant-api03-${randomText(90)}`;
    const variablesKey = `AIza${randomText(35)}`;
    const token = await app.token('user_alice', 'acct_acme');
    await page.goto(`${app.url}/graphql`);
    const headersEditor = page.locator(
      'section.graphiql-editor-tool[aria-label="Headers"] .graphiql-editor:not(.hidden) .CodeMirror',
    );
    await headersEditor.waitFor();
    await replaceEditorText(
      page,
      headersEditor,
      JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2),
    );
    await page.locator('.graphiql-editor-tools button[data-name="variables"]').click();
    const variablesEditor = page.locator(
      'section.graphiql-editor-tool[aria-label="Variables"] .graphiql-editor:not(.hidden) .CodeMirror',
    );
    await replaceEditorText(page, variablesEditor, JSON.stringify({ gemini: variablesKey }));
    await replaceEditorText(
      page,
      page.locator('.graphiql-query-editor .CodeMirror'),
      `mutation ($gemini: String!) {
  anthropic: addProviderKey(input: { provider: ANTHROPIC, apiKey: "${inlineKey}", verify: false }) { maskedKey }
  gemini: addProviderKey(input: { provider: GOOGLE_GEMINI, apiKey: $gemini, verify: false }) { maskedKey }
}`,
    );
    await page.locator('.graphiql-execute-button').click();
    const pane = page.locator('.result-window');
    await pane
      .filter({ hasText: `****${inlineKey.slice(-4)}` })
      .filter({ hasText: `****${variablesKey.slice(-4)}` })
      .waitFor();
    await page.waitForTimeout(STORAGE_DEBOUNCE_MS);

    // Every entry of both storages as name=value lines (a string: the browser's globals are not in our types).
    const storageText = () =>
      page.evaluate<string>(
        "[localStorage, sessionStorage].flatMap((store) => Object.keys(store).map((name) => name + '=' + store.getItem(name))).join('\\n')",
      );
    const leaks = (text: string) => ({
      inlineKey: keyFragmentsIn(text, inlineKey),
      variablesKey: keyFragmentsIn(text, variablesKey),
      token: keyFragmentsIn(text, token),
    });
    const none = { inlineKey: [], variablesKey: [], token: [] };
    expect(leaks(await storageText())).toEqual(none);

    // A reload is what the next person at a shared browser sees: the editors start afresh.
    await page.reload();
    await page.locator('.graphiql-query-editor .CodeMirror').waitFor();
    await page.waitForTimeout(STORAGE_DEBOUNCE_MS);
    expect(leaks(await storageText())).toEqual(none);
    expect(leaks(await page.content())).toEqual(none);
  }, 60_000);

  it('loaded nothing from another origin, and logged no error (no CSP refusal, no failed load)', () => {
    expect(requested.length).toBeGreaterThan(0);
    expect(requested.filter((url) => !url.startsWith(`${app.url}/`))).toEqual([]);
    expect(problems).toEqual([]);
  });
});

/** Selects everything in a CodeMirror editor and types over it (insertText: no auto-closed brackets). */
async function replaceEditorText(
  page: Page,
  editor: ReturnType<Page['locator']>,
  text: string,
): Promise<void> {
  await editor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText(text);
}
