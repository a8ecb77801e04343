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
    // A refused action's page comes with its 4xx status, which Chromium logs as a failed load: that is the
    // refusal the test asks for, not an error of the page.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource: the server responded')) {
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

/** Opens the sign-in link for `role` (`/signin#token=...`: the token in the fragment, as `serve --dev` prints
 * it), lets the console's script post it, and waits until the role's first page shows who is signed in.
 * The URL the browser ends on carries no token. Returns that page's path. */
export async function signIn(page, role) {
  const token = tokens[role];
  if (!token) {
    throw new Error(`no token for role ${role} in CONSOLE_TOKENS`);
  }
  await page.goto(`${base}/signin#token=${token}`);
  await page.waitForSelector('[data-testid="signed-in-as"]', { timeout: 15000 });
  if (page.url().includes(token)) {
    throw new Error(`signed in but the URL still carries the token: ${page.url()}`);
  }
  return new URL(page.url()).pathname;
}

/** Signs out with the header's button: back on the public page, signed out, and the role's page no longer
 * opens (it sends to sign-in). */
export async function signOut(page, home) {
  await Promise.all([page.waitForNavigation(), page.click('[data-testid="signout"]')]);
  await page.waitForSelector('[data-testid="signin-link"]', { timeout: 15000 });
  if (home) {
    await page.goto(`${base}${home}`);
    if (!new URL(page.url()).pathname.startsWith('/signin')) {
      throw new Error(`after signing out, ${home} opened as ${page.url()} instead of sending to sign-in`);
    }
  }
}

/** Switches the console's language with the header's switch. */
export async function switchLanguage(page, language) {
  await Promise.all([page.waitForNavigation(), page.click('[data-testid="lang-switch-button"]')]);
  const lang = await page.evaluate(() => document.documentElement.lang);
  if (lang !== language) {
    throw new Error(`the language switch led to lang=${lang}, not ${language}`);
  }
}

/** Submits the form `selector` (clicking its submit button) and waits for the page it leads to. */
export async function submit(page, selector) {
  await Promise.all([page.waitForNavigation(), page.click(`${selector} [type="submit"]`)]);
}

/** The action's outcome: the notice of a done action, or fails with the refusal shown. */
export async function done(page, where) {
  const problem = await page.$('[data-testid="problem"]');
  if (problem) {
    throw new Error(`${where}: refused: ${await problem.innerText()}`);
  }
  await page.waitForSelector('[data-testid="notice"]', { timeout: 15000 });
}

/** The refusal shown: its code (`data-code`) and text; fails when none is shown. */
export async function refused(page, where) {
  const problem = await page.waitForSelector('[data-testid="problem"]', { timeout: 15000 }).catch(() => null);
  if (!problem) {
    throw new Error(`${where}: expected a refusal, the page shows none`);
  }
  return { code: await problem.getAttribute('data-code'), text: await problem.innerText() };
}

/** The page's language as the document says it. */
export async function documentLanguage(page) {
  return page.evaluate(() => document.documentElement.lang);
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

// The console's catalogue (api/src/console/i18n/*.toml: `"key" = "value"` lines), so the scripts check the
// strings each language must show without copying them.
const catalogues = {};
function catalogue(language) {
  if (!catalogues[language]) {
    const file = new URL(`../../api/src/console/i18n/${language}.toml`, import.meta.url);
    const entries = {};
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const match = line.match(/^"([^"]+)"\s*=\s*(".*")\s*$/);
      if (match) {
        entries[match[1]] = JSON.parse(match[2]);
      }
    }
    catalogues[language] = entries;
  }
  return catalogues[language];
}

/** The catalogue's string `key` in `language`, with `{name}` placeholders filled from `values`. */
export function t(language, key, values = {}) {
  let text = catalogue(language)[key];
  if (text === undefined) {
    throw new Error(`the catalogue of ${language} has no ${key}`);
  }
  for (const [name, value] of Object.entries(values)) {
    text = text.replaceAll(`{${name}}`, value);
  }
  return text;
}

/** Fails unless the page's <h1> is the catalogue's `key` in `language` and the document says `language`. */
export async function titled(page, language, key, where) {
  const lang = await documentLanguage(page);
  if (lang !== language) {
    throw new Error(`${where}: the page is in ${lang}, not ${language}`);
  }
  const shown = (await text(page, '[data-testid="page-title"]')).trim();
  const expected = t(language, key);
  if (shown !== expected) {
    throw new Error(`${where}: the title is ${JSON.stringify(shown)}, not ${JSON.stringify(expected)}`);
  }
}

/** The row of list `list` (its data-testid) that contains `needle`. */
export function row(page, list, needle) {
  return page.locator(`[data-testid="${list}"] tbody tr`, { hasText: needle });
}

/** Clicks `locator` (a submit button) and waits for the page it leads to. */
export async function press(page, locator) {
  await Promise.all([page.waitForNavigation(), locator.click()]);
}

/** Fails unless the page shows a refusal with the stable `code`, titled as the catalogue's `problem.<code>`
 * in `language` when the catalogue has it. */
export async function refusedWith(page, language, code, where) {
  const shown = await refused(page, where);
  if (shown.code !== code) {
    throw new Error(`${where}: refused with ${shown.code}, not ${code}: ${shown.text}`);
  }
  let title = null;
  try {
    title = t(language, `problem.${code}`);
  } catch {
    // not every code has a title of its own in the catalogue: the code is checked
  }
  if (title !== null) {
    contains(shown.text, title, `${where}: the refusal's title`);
    // A code with a title has its hint in the page's language: what the rule is and what to do.
    contains(shown.text, t(language, `hint.${code}`), `${where}: the refusal's hint`);
  }
  return shown;
}

/** Checks `status` is shown in the row of `list` containing `needle`, as the catalogue names it. */
export async function rowShows(page, language, list, needle, value, where) {
  const cells = await row(page, list, needle).innerText();
  contains(cells, t(language, `value.${value}`), where);
}

/** The SHA-256 of `bytes` as lowercase hex (what the console's script computes in the browser). */
export async function sha256(bytes) {
  const { createHash } = await import('node:crypto');
  return createHash('sha256').update(bytes).digest('hex');
}

/** Picks a file of `bytes` named `name` in the file input `testid` and waits until the console's script has
 * written its SHA-256 into the hidden field `hashTestid`; fails unless that is the file's SHA-256. */
export async function pickFile(page, testid, hashTestid, name, bytes) {
  await page.setInputFiles(`[data-testid="${testid}"]`, { name, mimeType: 'application/pdf', buffer: bytes });
  const expected = await sha256(bytes);
  await page.waitForFunction(
    ([selector, hash]) => document.querySelector(selector)?.value === hash,
    [`[data-testid="${hashTestid}"]`, expected],
    { timeout: 15000 },
  );
  return expected;
}
