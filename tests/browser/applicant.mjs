// The enterprise and the project entity in both languages. Fixture per language: { voucher, to_sign,
// to_complete, to_rate, code, project_code } (tests/tests/it/console.rs prepares them over the API); tokens
// `enterprise-<lang>` and `project-<lang>`.
import {
  axe, base, contains, done, fixture, inBothLanguages, press, refusedWith, row, rowShows, screenshot, signIn,
  signOut, t, text, titled,
} from './lib.mjs';

await inBothLanguages('applicant', async (page, language) => {
  const mine = fixture[language];
  const home = await signIn(page, `enterprise-${language}`);
  if (home !== '/applicant') {
    throw new Error(`the enterprise landed on ${home}, not /applicant`);
  }
  await titled(page, language, 'applicant.title', 'the applicant page');
  contains(await text(page, '[data-testid="applicant-code"]'), mine.code, 'the applicant page');
  await axe(page, 'the applicant page');
  await screenshot(page, `enterprise-${language}`);

  // Claim from the second batch: a voucher more; claiming from it again is refused by the rule.
  const claim = () => row(page, 'open-batches', 'second batch').locator('[data-testid="claim-submit"]');
  await press(page, claim());
  await done(page, 'the claim');
  contains(await text(page, '[data-testid="my-vouchers-count"]'), t(language, 'list.count', { n: '2' }), 'my vouchers');
  await press(page, claim());
  await refusedWith(page, language, 'already_claimed', 'the second claim');
  await axe(page, 'the applicant page with a refusal');

  // Sign the contract the provider sent, confirm the filed one complete, rate the completed one.
  await press(page, row(page, 'my-contracts', mine.to_sign).locator('[data-testid="sign-submit"]'));
  await done(page, 'the signature');
  await rowShows(page, language, 'my-contracts', mine.to_sign, 'signed', 'the signed contract');
  await press(page, row(page, 'my-contracts', mine.to_complete).locator('[data-testid="complete-submit"]'));
  await done(page, 'the completion');
  await rowShows(page, language, 'my-contracts', mine.to_complete, 'completed', 'the completed contract');
  const rating = row(page, 'my-contracts', mine.to_rate);
  await rating.locator('[data-testid="rate-quality"]').selectOption('4');
  await rating.locator('[data-testid="rate-text"]').fill(`${language}: on time`);
  await press(page, rating.locator('[data-testid="rate-submit"]'));
  await done(page, 'the rating');
  if ((await row(page, 'my-contracts', mine.to_rate).locator('[data-testid="rate-submit"]').count()) !== 0) {
    throw new Error('the rated contract can still be rated');
  }
  await axe(page, 'the applicant page after the actions');

  // The list sorts, filters and downloads: contracts filtered by status.
  await page.goto(`${base}/applicant?my-contracts_status=completed`);
  const filtered = await text(page, '[data-testid="my-contracts"] tbody');
  contains(filtered, mine.to_complete, 'the contracts filtered by status');
  if (filtered.includes(mine.to_sign)) {
    throw new Error('the filter by status kept a signed contract');
  }
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.click('[data-testid="my-contracts-csv"]'),
  ]);
  const csv = await (await import('node:fs/promises')).readFile(await download.path(), 'utf8');
  contains(csv, mine.to_complete, 'the contracts CSV');

  // The voucher's history: records with hashes, and the chain checks.
  await page.goto(`${base}/applicant`);
  await press(page, row(page, 'my-vouchers', mine.voucher).locator('[data-testid="voucher-history"]'));
  await titled(page, language, 'applicant.voucher_history', 'the voucher history');
  const verdict = await page.getAttribute('[data-testid="chain-verdict"]', 'data-checks');
  if (verdict !== 'true') {
    throw new Error(`the voucher's chain does not check: ${await text(page, '[data-testid="chain-verdict"]')}`);
  }
  contains(await text(page, '[data-testid="records"]'), mine.to_sign, 'the voucher history names its contracts');
  await axe(page, 'the voucher history');
  await signOut(page, '/applicant');

  // The project entity claims too.
  await signIn(page, `project-${language}`);
  contains(await text(page, '[data-testid="applicant-code"]'), mine.project_code, 'the project entity page');
  await press(page, row(page, 'open-batches', 'second batch').locator('[data-testid="claim-submit"]'));
  await done(page, "the project entity's claim");
  contains(await text(page, '[data-testid="my-vouchers-count"]'), t(language, 'list.count', { n: '1' }), 'its vouchers');
  await axe(page, 'the project entity page');
  await screenshot(page, `project-entity-${language}`);
  await signOut(page, '/applicant');
});
