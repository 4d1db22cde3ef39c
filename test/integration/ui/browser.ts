/**
 * Headless Chromium for the Temporal Web UI test: Debian's `chromium` (never a browser
 * downloaded by Playwright) driven by playwright-core, plus small helpers that speak the
 * Temporal UI 2.54 page structure through roles, labels and visible text.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { ROOT, tempDir } from '../../support/env';

/** Debian's package installs it here (`apt-get install chromium`); LONGRL_CHROMIUM overrides. */
export const CHROMIUM_PATH = process.env.LONGRL_CHROMIUM ?? '/usr/bin/chromium';

/** Flags for a sandbox without network: no sandboxing, no GPU, no calls home at start. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
] as const;

/** Screenshots of every step land here (git-ignored; CI keeps them as test artifacts). */
export const ARTIFACT_DIR = path.join(ROOT, 'test-artifacts', 'ui');

export interface UiBrowser {
  readonly page: Page;
  readonly userDataDir: string;
  /** Save a viewport screenshot as `test-artifacts/ui/NN-name.png`; returns its path. */
  shot(name: string, opts?: { fullPage?: boolean }): Promise<string>;
  close(): Promise<void>;
}

/**
 * Launch Chromium with a fresh user-data dir (a persistent context is how Playwright takes
 * `--user-data-dir`). The Temporal UI calls home for a news feed; that fails quietly here.
 */
export async function launchUi(): Promise<UiBrowser> {
  const userDataDir = tempDir('chromium');
  const context: BrowserContext = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS],
    viewport: { width: 1400, height: 1000 },
    timeout: 60_000,
  });
  context.setDefaultTimeout(20_000);
  const page = context.pages()[0] ?? (await context.newPage());
  // Fresh screenshots each run: drop those of an earlier run so the folder shows one story.
  fs.mkdirSync(ARTIFACT_DIR, { recursive: true });
  for (const f of fs.readdirSync(ARTIFACT_DIR)) if (f.endsWith('.png')) fs.rmSync(path.join(ARTIFACT_DIR, f), { force: true });
  let n = 0;
  return {
    page,
    userDataDir,
    async shot(name, opts = {}) {
      const file = path.join(ARTIFACT_DIR, `${String(++n).padStart(2, '0')}-${name}.png`);
      await page.screenshot({ path: file, fullPage: opts.fullPage ?? false });
      return file;
    },
    async close() {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Repeat `load` (a navigation or a click that re-fetches) until `target()` is visible;
 * waits are explicit per try (`tryMs`), overall bounded by `timeoutMs`. For UI views that
 * show server state at load time (lists, pending activities) and do not push updates.
 */
export async function untilVisible(load: () => Promise<void>, target: () => Locator, what: string, timeoutMs = 45_000, tryMs = 3_000): Promise<Locator> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    await load();
    const loc = target();
    try {
      await loc.waitFor({ state: 'visible', timeout: Math.max(500, Math.min(tryMs, deadline - Date.now())) });
      return loc;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`the Temporal UI did not show ${what} within ${timeoutMs} ms (${(lastError as Error)?.message?.split('\n')[0]})`);
  }
}

/**
 * Type a JSON payload into one of the UI's code editors (the Start Workflow form's `Data`,
 * the Update dialog's `Data`). `insertText` inserts the text as one input, so the editor's
 * bracket auto-closing does not add stray `}`/`]`.
 */
export async function typeJson(page: Page, editor: Locator, value: unknown): Promise<void> {
  await editor.click();
  await page.keyboard.insertText(JSON.stringify(value, null, 2));
}

/** The Temporal UI's URL for a namespace's workflow list filtered by a List Filter query. */
export function listUrl(base: string, query: string, namespace = 'default'): string {
  return `${base}/namespaces/${namespace}/workflows?query=${encodeURIComponent(query)}`;
}

/**
 * Filter the workflow list the way an operator does: open the raw query box (the `</>`
 * toggle, which has only the UI's test id as a handle) and type a List Filter query.
 * The UI moves the query into the URL, so a reload shows the same filtered list.
 */
export async function filterList(page: Page, base: string, query: string, namespace = 'default'): Promise<void> {
  await page.goto(`${base}/namespaces/${namespace}/workflows`);
  const box = page.getByPlaceholder('Enter a query');
  if (!(await box.isVisible())) await page.getByTestId('toggle-manual-query').click();
  await box.fill(query);
  await box.press('Enter');
  await page.waitForURL((u) => u.searchParams.get('query') === query);
}

/** The latest run of a workflow id (the UI redirects to it). */
export function workflowUrl(base: string, workflowId: string, namespace = 'default'): string {
  return `${base}/namespaces/${namespace}/workflows/${encodeURIComponent(workflowId)}`;
}

/** Open a tab of the workflow page (Relationships, Pending Activities, Queries, ...). */
export async function openTab(page: Page, name: string): Promise<void> {
  await page.getByRole('tab', { name: new RegExp(`^${name}\\b`) }).click();
}

/**
 * Send an Update from the workflow page: More Actions -> Send an Update -> pick the name ->
 * JSON data -> Submit. Resolves once the UI says it succeeded, or, with `rejected`, once it
 * shows the rejection text (the run's Update validator message), then closes the dialog.
 * The Name select has no accessible name of its own in UI 2.54 (its label points at a
 * disabled inner input), so it is found by the UI's own test id.
 */
export async function sendUpdate(ui: UiBrowser, name: string, data: unknown, shotName: string, rejected?: RegExp): Promise<void> {
  const { page } = ui;
  await page.getByRole('button', { name: 'More Actions' }).click();
  await page.getByRole('menuitem', { name: 'Send an Update' }).filter({ visible: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Send an Update' });
  await dialog.waitFor({ state: 'visible' });
  await dialog.getByTestId('update-select-button').click();
  await dialog.getByRole('option', { name, exact: true }).click();
  await typeJson(page, dialog.getByRole('textbox', { name: 'Data' }), data);
  await ui.shot(`${shotName}-dialog`);
  await dialog.getByRole('button', { name: 'Submit' }).click();
  // Toast texts are also mirrored into an aria-live region: take the first match.
  await page.getByText(rejected ?? 'Update successful').first().waitFor({ state: 'visible' });
  await ui.shot(`${shotName}-${rejected ? 'rejected' : 'sent'}`);
  if (await dialog.isVisible()) await dialog.getByRole('button', { name: 'Cancel' }).last().click(); // the footer's, not the x
  await dialog.waitFor({ state: 'hidden' });
}

/** Run a Query from the workflow page's Queries tab and return the result text it shows. */
export async function runQueryInUi(page: Page, queryType: string): Promise<string> {
  await openTab(page, 'Queries');
  await page.getByTestId('query-select-button').click();
  await page.getByRole('option', { name: queryType, exact: true }).click();
  const result = page.getByRole('textbox', { name: 'Query Result' });
  await page.getByRole('button', { name: 'Run Query' }).click();
  await result.waitFor({ state: 'visible' });
  // The pane is empty until the answer arrives; callers open a freshly loaded page.
  const deadline = Date.now() + 15_000;
  for (;;) {
    const text = await result.innerText();
    if (text.trim().startsWith('{') || Date.now() > deadline) return text;
    await page.waitForTimeout(200);
  }
}
