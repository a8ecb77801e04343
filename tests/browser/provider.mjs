// The provider in both languages. Fixture per language: { voucher, redeemable, code, new_code }; tokens
// `provider-<lang>` (admitted, with a completed contract to redeem and a rated one) and `provider-new-<lang>`
// (not yet applied).
import {
  axe, base, contains, done, fixture, inBothLanguages, pickFile, press, refusedWith, row, rowShows, screenshot,
  signIn, signOut, submit, t, text, titled,
} from './lib.mjs';

await inBothLanguages('provider', async (page, language) => {
  const mine = fixture[language];

  // A new provider applies: its qualification file is hashed in the browser, only the hash is sent.
  const home = await signIn(page, `provider-new-${language}`);
  if (home !== '/provider') {
    throw new Error(`the provider landed on ${home}, not /provider`);
  }
  await titled(page, language, 'provider.title', 'the provider page');
  await axe(page, 'the provider page before applying');
  await page.fill('[data-testid="apply-name"]', `provider ${language}`);
  await page.check('[data-testid="apply-category-technology_innovation"]');
  await page.fill('[data-testid="apply-contact"]', '0851-1234567');
  const licence = Buffer.from(`licence of ${mine.new_code} (${language})`);
  const licenceHash = await pickFile(page, 'qualification-file', 'qualification-sha256', 'licence.pdf', licence);
  await submit(page, '[data-testid="apply-form"]');
  await done(page, 'the application');
  contains(await text(page, '[data-testid="admission-status"]'), t(language, 'value.applied'), 'the admission');
  // The same file checks against the ledger; another does not.
  await pickFile(page, 'check-file', 'check-sha256', 'licence.pdf', licence);
  await page.fill('[data-testid="check-hash"]', licenceHash);
  await submit(page, '[data-testid="check-form"]');
  if ((await page.getAttribute('[data-testid="check-result"]', 'data-found')) !== 'true') {
    throw new Error(`the picked licence is not found in the ledger: ${await text(page, '[data-testid="check-result"]')}`);
  }
  await page.fill('[data-testid="check-hash"]', '0'.repeat(64));
  await submit(page, '[data-testid="check-form"]');
  if ((await page.getAttribute('[data-testid="check-result"]', 'data-found')) !== 'false') {
    throw new Error('a hash no document has is reported found');
  }
  await signOut(page, '/provider');

  // The admitted provider: a contract submitted with its file hashed in the browser.
  await signIn(page, `provider-${language}`);
  contains(await text(page, '[data-testid="provider-code"]'), mine.code, 'the provider page');
  contains(await text(page, '[data-testid="admission-status"]'), t(language, 'value.admitted'), 'the admission');
  await axe(page, 'the admitted provider page');
  await screenshot(page, `provider-${language}`);
  const fillContract = async (total, amount) => {
    await page.fill('[data-testid="contract-voucher"]', mine.voucher);
    await page.selectOption('[data-testid="contract-category"]', 'technology_innovation');
    await page.fill('[data-testid="contract-description"]', `testing service (${language})`);
    await page.fill('[data-testid="contract-start"]', '2025-04-01');
    await page.fill('[data-testid="contract-end"]', '2025-08-31');
    await page.fill('[data-testid="contract-total"]', total);
    await page.fill('[data-testid="contract-amount"]', amount);
    await pickFile(page, 'contract-file', 'contract-sha256', 'contract.pdf', Buffer.from(`contract ${language} ${total}`));
  };
  // A voucher amount above the contract's total is refused by the rule, and nothing is recorded.
  await fillContract('5000.00', '6000.00');
  await submit(page, '[data-testid="contract-form"]');
  const refusal = await refusedWith(page, language, 'invalid_request', 'the contract over its total');
  contains(refusal.text, 'exceeds the total', "the refusal's detail names the rule");
  await axe(page, 'the provider page with a refusal');
  await page.goto(`${base}/provider`);
  const before = await text(page, '[data-testid="provider-contracts-count"]');
  await fillContract('9000.00', '7000.00');
  await submit(page, '[data-testid="contract-form"]');
  await done(page, 'the contract');
  const after = await text(page, '[data-testid="provider-contracts-count"]');
  if (after === before) {
    throw new Error(`the submitted contract is not listed (${before} -> ${after})`);
  }
  // The list shows amounts, not descriptions: the new contract is the one of 9,000.00.
  await rowShows(page, language, 'provider-contracts', '¥9,000.00', 'submitted', 'the new contract');

  // A redemption of the completed contract, with its invoice, remittance proof and result hashed in the browser.
  await page.selectOption('[data-testid="redemption-contract"]', mine.redeemable);
  await pickFile(page, 'invoice-file', 'invoice-sha256', 'invoice.pdf', Buffer.from(`invoice ${language}`));
  await pickFile(page, 'remittance-file', 'remittance-sha256', 'remittance.pdf', Buffer.from(`remittance ${language}`));
  await pickFile(page, 'result-file', 'result-sha256', 'report.pdf', Buffer.from(`report ${language}`));
  await submit(page, '[data-testid="redemption-form"]');
  await done(page, 'the redemption request');
  await rowShows(page, language, 'provider-redemptions', mine.redeemable, 'requested', 'the redemption');
  // Its ratings: one rating recorded.
  contains(await text(page, '[data-testid="ranking"]'), '1', 'the ranking');
  await axe(page, 'the provider page after the actions');
  await signOut(page, '/provider');
});
