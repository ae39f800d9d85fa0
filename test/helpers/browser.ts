// A real browser for the web UI's tests: Debian's Chromium (/usr/bin/chromium, installed by
// .ci/run; never a downloaded browser) driven by playwright-core. Collects console errors so a
// test can fail on them, injects axe-core for accessibility checks and keeps screenshots.
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { packageRoot } from '../../lib/version.js';

export const CHROMIUM = process.env.OPS_TEST_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = join(packageRoot(), 'test-artifacts', 'web');

export function launchBrowser(): Promise<Browser> {
  // --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

export interface WatchedPage {
  page: Page;
  /** Console errors and uncaught exceptions so far (each with the page's URL then). */
  errors: string[];
  /** While set, the browser's own "Failed to load resource" lines (a test that stops the manager or ends the session) are expected. */
  allowNetworkErrors: boolean;
}

export async function openPage(browser: Browser, options: BrowserContextOptions = {}): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
  const page = await context.newPage();
  const watched: WatchedPage = { page, errors: [], allowNetworkErrors: false };
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    if (watched.allowNetworkErrors && /Failed to load resource|net::ERR_/.test(text)) return;
    watched.errors.push(`${page.url()}: ${text}`);
  });
  page.on('pageerror', (err) => watched.errors.push(`${page.url()}: uncaught ${err.message}`));
  return watched;
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }

/** axe-core's serious and critical violations on the page as it is now (WCAG 2.1 A/AA rules). */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  // evaluate, not a <script> tag: the page's CSP allows only its own scripts.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, opts: unknown): Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Saves a full-page screenshot under test-artifacts/web/ and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  // animations: 'disabled' ends CSS transitions first (progress bars, chip colours mid-change).
  await page.screenshot({ path, fullPage: true, animations: 'disabled' });
  return path;
}
