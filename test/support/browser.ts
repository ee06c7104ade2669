import fs from 'node:fs';
import path from 'node:path';
import { Browser, BrowserContext, chromium, Page } from 'playwright-core';
import { keyFragmentsIn } from './key-fragments';

// Debian's Chromium for the browser tests (playwright-core downloads no browser), and what they check
// on every page: what it requested, what it logged as an error, axe-core's verdict, what it left behind.

export const CHROMIUM = '/usr/bin/chromium';
const INSTALL_HINT = `Chromium is not installed at ${CHROMIUM}: run \`apt-get update && apt-get install -y chromium\` (.ci/run does this).`;

export async function launchChromium(): Promise<Browser> {
  // Fail, never skip: a machine without Chromium must not pass a browser suite by accident.
  if (!fs.existsSync(CHROMIUM)) throw new Error(INSTALL_HINT);
  return chromium.launch({
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
}

export interface PageWatch {
  /** Every URL the page requested. */
  requested: string[];
  /** Page errors and console errors (a CSP refusal or a failed load shows up as one). */
  problems: string[];
  /** The operationName of every GraphQL request, in order. */
  operations: string[];
}

export function watchPage(page: Page, graphqlUrl: string): PageWatch {
  const watch: PageWatch = { requested: [], problems: [], operations: [] };
  page.on('request', (request) => {
    watch.requested.push(request.url());
    if (request.method() === 'POST' && request.url() === graphqlUrl)
      watch.operations.push((request.postDataJSON() as { operationName: string }).operationName);
  });
  page.on('pageerror', (error) => watch.problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') watch.problems.push(`console: ${message.text()}`);
  });
  return watch;
}

/**
 * A fresh tab (no state from another) at a desktop's width, its requests and errors watched; `initScript`
 * runs in every page before the page's own scripts.
 */
export async function openTab(
  browser: Browser,
  appUrl: string,
  timeoutMs: number,
  initScript?: string,
): Promise<{ context: BrowserContext; page: Page; watch: PageWatch }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  if (initScript) await context.addInitScript(initScript);
  const page = await context.newPage();
  page.setDefaultTimeout(timeoutMs);
  return { context, page, watch: watchPage(page, `${appUrl}/graphql`) };
}

/** The settings page, signed in with `token`, once `heading` shows. */
export async function signInWith(page: Page, appUrl: string, token: string, heading: string): Promise<void> {
  await page.goto(`${appUrl}/settings`);
  await page.getByLabel('Token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: heading }).waitFor();
}

/** The page loaded nothing from another origin than the app's, and logged no error (no CSP refusal, no failed load). */
export function expectNothingFromElsewhere(watch: PageWatch, appUrl: string): void {
  expect(watch.requested.filter((url) => !url.startsWith(`${appUrl}/`))).toEqual([]);
  expect(watch.problems).toEqual([]);
}

const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/**
 * axe-core's serious and critical violations on the page as it is now (WCAG 2 A/AA rules and best
 * practices). Injected from node_modules through the DevTools protocol, which the page's CSP does not
 * govern: the page itself never loads it.
 */
export async function axeViolations(
  page: Page,
): Promise<{ id: string; impact: string; targets: string[] }[]> {
  await page.evaluate(AXE);
  const found = await page.evaluate<{ id: string; impact: string; nodes: { target: string[] }[] }[]>(`
    axe.run(document, { resultTypes: ['violations'] }).then((results) => results.violations)
  `);
  return found
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map(({ id, impact, nodes }) => ({ id, impact, targets: nodes.map((node) => node.target.join(' ')) }));
}

/**
 * Every 5-character piece of each secret found in what the browser keeps or shows in its address bar:
 * localStorage, sessionStorage, cookies (the page's and the context's) and the URL.
 */
export async function secretsLeftBehind(
  page: Page,
  context: BrowserContext,
  secrets: Record<string, string>,
): Promise<Record<string, string[]>> {
  const kept = await page.evaluate<string>(`[
    ...[localStorage, sessionStorage].flatMap((store) =>
      Object.keys(store).map((name) => name + '=' + store.getItem(name))),
    document.cookie,
    location.href,
  ].join('\\n')`);
  const cookies = (await context.cookies()).map((cookie) => `${cookie.name}=${cookie.value}`).join('\n');
  const text = [kept, cookies, page.url()].join('\n');
  return Object.fromEntries(
    Object.entries(secrets).map(([name, secret]) => [name, keyFragmentsIn(text, secret)]),
  );
}

/** Saves a screenshot under test-artifacts/<folder>/<name>.png. */
export async function screenshot(page: Page, folder: string, name: string): Promise<void> {
  const file = path.resolve(__dirname, '../../test-artifacts', folder, `${name}.png`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await page.screenshot({ path: file, fullPage: true });
}
