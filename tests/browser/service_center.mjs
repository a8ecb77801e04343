// The service center in both languages (zh-CN first, on the same ledger). Fixture per language: { to_verify,
// to_reject (credit codes of registered applicants), to_file, to_refuse (contracts both parties signed) };
// token `service_center`.
import {
  axe, contains, done, fixture, inBothLanguages, press, refusedWith, row, screenshot, signIn, signOut,
  switchLanguage, t, text, titled,
} from './lib.mjs';
import { readFile } from 'node:fs/promises';

/** Fails unless no row of `list` contains `needle`. */
async function gone(page, list, needle, what) {
  if ((await row(page, list, needle).count()) !== 0) {
    throw new Error(`${what} ${needle} is still in ${list}`);
  }
}

await inBothLanguages('service_center', async (page, language) => {
  const mine = fixture[language];
  const home = await signIn(page, 'service_center');
  if (home !== '/service-center') {
    throw new Error(`the service center landed on ${home}, not /service-center`);
  }
  await titled(page, language, 'service_center.applicants', 'the applicants to verify');
  contains(await text(page, '[data-testid="applicants-to-verify"] tbody'), mine.to_verify, 'the applicants to verify');
  await axe(page, 'the applicants to verify');
  await screenshot(page, `service-center-${language}`);
  // The filters name their values in the page's language.
  const industries = await page
    .locator('[data-testid="applicants-to-verify-filters"] select[name="applicants-to-verify_industry"] option')
    .allInnerTexts();
  if (!industries.includes(t(language, 'value.advanced_equipment'))) {
    throw new Error(`the industry filter offers ${JSON.stringify(industries)}, not the industry's name`);
  }

  // A rejection without a reason is refused by the rule, and the applicant stays; with one, it is recorded.
  const applicant = (code) => row(page, 'applicants-to-verify', code);
  await press(page, applicant(mine.to_reject).locator('[data-testid="reject-applicant"]'));
  const refusal = await refusedWith(page, language, 'invalid_registration', 'a rejection without a reason');
  contains(refusal.text, 'needs a reason', "the refusal's detail names the rule");
  await axe(page, 'the applicants with a refusal');
  await applicant(mine.to_reject).locator('[name="reason"]').fill(`${language}: not tax compliant`);
  await press(page, applicant(mine.to_reject).locator('[data-testid="reject-applicant"]'));
  await done(page, 'the rejection');
  await gone(page, 'applicants-to-verify', mine.to_reject, 'the rejected applicant');
  await press(page, applicant(mine.to_verify).locator('[data-testid="verify"]'));
  await done(page, 'the verification');
  await gone(page, 'applicants-to-verify', mine.to_verify, 'the verified applicant');
  await axe(page, 'the applicants after the actions');

  // Contracts both parties signed: one filed, one rejected with a reason.
  await press(page, page.locator('nav a[href="/service-center/contracts"]'));
  await titled(page, language, 'service_center.contracts', 'the contracts to file');
  await axe(page, 'the contracts to file');
  await screenshot(page, `service-center-contracts-${language}`);
  const contract = (id) => row(page, 'contracts-to-file', id);
  // Filtered by category with the list's filter form, and downloaded as CSV.
  await page.selectOption('[name="contracts-to-file_category"]', 'technology_innovation');
  await press(page, page.locator('[data-testid="contracts-to-file-filters"] [type="submit"]'));
  contains(await contract(mine.to_file).innerText(), t(language, 'value.technology_innovation'), 'the filtered contracts');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.click('[data-testid="contracts-to-file-csv"]'),
  ]);
  const csv = await readFile(await download.path(), 'utf8');
  contains(csv, mine.to_file, 'the contracts CSV');
  contains(csv, '10000.00', 'the contracts CSV');
  contains(await contract(mine.to_file).innerText(), '¥10,000.00', 'the contract to file');
  await press(page, contract(mine.to_file).locator('[data-testid="file-contract"]'));
  await done(page, 'the filing');
  await gone(page, 'contracts-to-file', mine.to_file, 'the filed contract');
  await contract(mine.to_refuse).locator('[name="reason"]').fill(`${language}: the service is not eligible`);
  await press(page, contract(mine.to_refuse).locator('[data-testid="reject-contract"]'));
  await done(page, "the contract's rejection");
  await gone(page, 'contracts-to-file', mine.to_refuse, 'the rejected contract');
  contains(await text(page, '[data-testid="notice"]'), t(language, 'notice.done'), 'the notice');
  await axe(page, 'the contracts after the actions');
  // The header's switch shows the page in the other language, and back.
  const other = language === 'en' ? 'zh-CN' : 'en';
  await switchLanguage(page, other);
  await titled(page, other, 'service_center.contracts', 'the contracts to file in the other language');
  await axe(page, 'the contracts to file in the other language');
  await switchLanguage(page, language);
  await titled(page, language, 'service_center.contracts', 'the contracts to file switched back');
  await signOut(page, '/service-center');
});
