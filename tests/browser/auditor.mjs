// The auditor in both languages. Fixture: { voucher, contract, contract_sha256, head, before } (a voucher
// and a completed contract; the log's head; a date before every record); token `auditor`.
import {
  axe, base, contains, done, fixture, inBothLanguages, press, refusedWith, row, screenshot, signIn, signOut,
  submit, t, text, titled,
} from './lib.mjs';
import { readFile } from 'node:fs/promises';

async function chainChecks(page, where) {
  const verdict = await page.getAttribute('[data-testid="chain-verdict"]', 'data-checks');
  if (verdict !== 'true') {
    throw new Error(`${where}: the chain does not check: ${await text(page, '[data-testid="chain-verdict"]')}`);
  }
}

async function asOfPosition(page) {
  return Number(await page.getAttribute('[data-testid="as-of-shown"]', 'data-position'));
}

await inBothLanguages('auditor', async (page, language) => {
  const home = await signIn(page, 'auditor');
  if (home !== '/auditor') {
    throw new Error(`the auditor landed on ${home}, not /auditor`);
  }
  await titled(page, language, 'auditor.title', 'the audit page');
  await axe(page, 'the audit page');
  await screenshot(page, `auditor-${language}`);

  // The ledger now, then as of the day before the program: fewer records, by the API's as-of rule.
  const now = await asOfPosition(page);
  if (now < fixture.head) {
    throw new Error(`the ledger now is at ${now}, before the head ${fixture.head}`);
  }
  await page.fill('[data-testid="as-of-date"]', fixture.before);
  await submit(page, '[data-testid="as-of-form"]');
  const before = await asOfPosition(page);
  if (!(before < fixture.head)) {
    throw new Error(`as of ${fixture.before} the ledger is at ${before}, not before ${fixture.head}`);
  }
  await axe(page, 'the audit page as of a date');

  // A voucher's history: its records with hashes, and the chain checks; one record's page.
  await page.goto(`${base}/auditor`);
  await page.fill('[data-testid="history-id"]', fixture.voucher);
  await submit(page, '[data-testid="history-form"]');
  await titled(page, language, 'auditor.voucher_history', 'the voucher history');
  await chainChecks(page, 'the voucher history');
  contains(await text(page, '[data-testid="records"]'), fixture.contract, 'the voucher history names its contract');
  await axe(page, 'the voucher history');
  await press(page, page.locator('[data-testid="records"] tbody tr a').first());
  await chainChecks(page, 'a record');
  if ((await text(page, '[data-testid="record-hash"]')).trim().length !== 64) {
    throw new Error('the record page shows no SHA-256 hash');
  }
  await axe(page, 'a record');

  // A contract's history with its document's hash.
  await page.goto(`${base}/auditor`);
  await page.fill('[data-testid="history-id"]', fixture.contract);
  await submit(page, '[data-testid="history-form"]');
  await titled(page, language, 'auditor.contract_history', 'the contract history');
  await chainChecks(page, 'the contract history');
  contains(await text(page, '[data-testid="documents"]'), fixture.contract_sha256, "the contract's document hash");
  await axe(page, 'the contract history');

  // An id that names nothing is refused with its message.
  await page.goto(`${base}/auditor`);
  await page.fill('[data-testid="history-id"]', 'not-an-id');
  await submit(page, '[data-testid="history-form"]');
  contains(await text(page, '[data-testid="problem"]'), t(language, 'auditor.history_not_found'), 'a bad id');

  // A sample of size 0 is refused by the rule; one of size 1 draws the contract; a finding is recorded.
  await page.goto(`${base}/auditor`);
  await page.selectOption('[data-testid="draw-jurisdiction"]', 'guiyang');
  await page.fill('[data-testid="draw-year"]', '2025');
  await page.fill('[data-testid="draw-size"]', '0');
  await page.evaluate(() => document.querySelector('[data-testid="draw-size"]').removeAttribute('min'));
  await page.fill('[data-testid="draw-seed"]', `seed-${language}`);
  await submit(page, '[data-testid="draw-form"]');
  await refusedWith(page, language, 'out_of_bounds', 'a sample of size 0');
  await axe(page, 'the audit page with a refusal');
  await page.goto(`${base}/auditor`);
  await page.fill('[data-testid="draw-year"]', '2025');
  await page.fill('[data-testid="draw-size"]', '1');
  await page.fill('[data-testid="draw-seed"]', `seed-${language}`);
  await submit(page, '[data-testid="draw-form"]');
  await done(page, 'the draw');
  await titled(page, language, 'auditor.sample_title', 'the sample');
  const drawn = row(page, 'sample-contracts', fixture.contract);
  await drawn.locator('[data-testid="finding-select"]').selectOption('compliant');
  await drawn.locator('[data-testid="finding-note"]').fill(`${language}: documents complete`);
  await press(page, drawn.locator('[data-testid="finding-submit"]'));
  await done(page, 'the finding');
  contains(await row(page, 'sample-contracts', fixture.contract).innerText(), t(language, 'value.compliant'), 'the finding');
  await axe(page, 'the sample');

  // The samples list, and a download of the vouchers as CSV.
  await page.goto(`${base}/auditor`);
  contains(await text(page, '[data-testid="samples"]'), t(language, 'value.guiyang'), 'the samples list');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="download-vouchers"]')]);
  contains(await readFile(await download.path(), 'utf8'), fixture.voucher, 'the vouchers CSV');
  await signOut(page, '/auditor');
});
