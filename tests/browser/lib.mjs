// What every browser test script shares: launching Debian's Chromium (never a downloaded browser), signing in
// through the link the server prints (the token in the URL fragment), the axe-core check, screenshots, and
// assertions that fail with what the page showed.
//
// The scripts are run by tests/tests/it/console.rs, which starts the real server and passes:
//   CONSOLE_BASE      the server's base URL (http://127.0.0.1:PORT)
//   CONSOLE_TOKENS    JSON: role name -> a token of that role (what `serve --dev` puts in its sign-in links)
//   CONSOLE_FIXTURE   JSON: ids the scenario prepared (vouchers, contracts, ...), per script
//   CONSOLE_OUT       where screenshots go (target/console-screenshots/)
//   CHROMIUM          the browser (default /usr/bin/chromium)

import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);

export const base = required('CONSOLE_BASE');
export const tokens = JSON.parse(process.env.CONSOLE_TOKENS || '{}');
export const fixture = JSON.parse(process.env.CONSOLE_FIXTURE || '{}');
export const out = process.env.CONSOLE_OUT || join(tmpdir(), 'console-screenshots');
export const LANGUAGES = ['zh-CN', 'en'];

function required(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set (tests/tests/it/console.rs sets it)`);
  }
  return value;
}

/** Chromium as the tests want it: Debian's binary, headless, no sandbox (root in a container), no network of
 * its own, and a fresh profile (--user-data-dir, removed afterwards) per launch; the browser prefers
 * `language`. Console errors, page errors and requests to other hosts are collected for `clean`. Returns
 * { page, close }. */
export async function launch(language = 'zh-CN') {
  const profile = mkdtempSync(join(tmpdir(), 'console-chromium-'));
  // Playwright passes the profile as --user-data-dir itself (it refuses the flag among `args`).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    locale: language,
    extraHTTPHeaders: { 'Accept-Language': language === 'en' ? 'en' : 'zh-CN,zh;q=0.9' },
    viewport: { width: 1280, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.problems = [];
  page.on('console', (message) => {
    if (message.type() === 'error') {
      page.problems.push(`console error: ${message.text()}`);
    }
  });
  page.on('pageerror', (error) => page.problems.push(`page error: ${error.message}`));
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(base) && !/^(data|blob|about):/.test(url)) {
      page.problems.push(`request to another host: ${url}`);
    }
  });
  return {
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Fails when the page logged an error, broke its CSP or loaded anything from outside. */
export function clean(page, where) {
  if (page.problems.length > 0) {
    throw new Error(`${where}: ${page.problems.join('\n')}`);
  }
}

/** Opens the sign-in link for `role` (the token in the fragment) and waits until the console signed in and
 * left the token behind: the URL the browser ends on carries no token. */
export async function signIn(page, role, path = '/sign-in') {
  const token = tokens[role];
  if (!token) {
    throw new Error(`no token for role ${role} in CONSOLE_TOKENS`);
  }
  await page.goto(`${base}${path}#token=${token}`);
  await page.waitForSelector('[data-testid="signed-in"]', { timeout: 15000 });
  if (page.url().includes(token)) {
    throw new Error(`signed in but the URL still carries the token: ${page.url()}`);
  }
}

/** Signs out through the page's sign-out button and checks the session is gone. */
export async function signOut(page) {
  await page.click('[data-testid="sign-out"]');
  await page.waitForSelector('[data-testid="signed-out"]', { timeout: 15000 });
}

/** Switches the console's language with its switch (remembered in a cookie). */
export async function switchLanguage(page, language) {
  await page.click(`[data-testid="lang-${language}"]`);
  await page.waitForFunction((lang) => document.documentElement.lang === lang, language);
}

/** axe-core's check of the page as it is: fails on any serious or critical violation, naming them. */
export async function axe(page, where) {
  const source = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  // Injected through the DevTools protocol (evaluate), so the page's CSP does not have to allow it.
  await page.evaluate(source);
  const results = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    return await axe.run(document, { resultTypes: ['violations'] });
  });
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (bad.length > 0) {
    const text = bad
      .map((v) => `${v.impact} ${v.id}: ${v.help}\n  ${v.nodes.slice(0, 5).map((n) => n.target.join(' ')).join('\n  ')}`)
      .join('\n');
    throw new Error(`${where}: axe-core found ${bad.length} serious/critical violation(s):\n${text}`);
  }
  return results.violations.length;
}

/** A full-page screenshot as OUT/<name>.png. */
export async function screenshot(page, name) {
  mkdirSync(out, { recursive: true });
  const path = join(out, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** The text of the first element matching `selector`, waiting for it. */
export async function text(page, selector) {
  await page.waitForSelector(selector, { timeout: 15000 });
  return (await page.textContent(selector)) ?? '';
}

/** Fails unless `haystack` contains `needle`. */
export function contains(haystack, needle, where) {
  if (!haystack.includes(needle)) {
    throw new Error(`${where}: expected ${JSON.stringify(needle)} in:\n${haystack.slice(0, 2000)}`);
  }
}

/** Runs `body(page, language)` once per language (zh-CN first), each in a freshly launched browser with a
 * fresh profile; prints what passed, and on failure exits non-zero with the error and the text the page
 * showed. */
export async function inBothLanguages(name, body) {
  for (const language of LANGUAGES) {
    const { page, close } = await launch(language);
    try {
      await body(page, language);
      clean(page, `${name} [${language}]`);
    } catch (error) {
      let shown = '';
      try {
        shown = `\n--- ${page.url()} ---\n${(await page.innerText('body')).slice(0, 3000)}`;
      } catch {
        // the page is gone: the error says enough
      }
      console.error(`${name} [${language}]: FAILED\n${error.stack || error}${shown}`);
      await close();
      process.exit(1);
    }
    await close();
    console.log(`${name} [${language}]: ok`);
  }
}
