// The bureau in both languages (zh-CN first, on the same ledger). Fixture per language: { provider (an
// application to decide), objection (one to rule on), redemption (approved, to announce), to_pay (a
// redemption of 8,000.00 whose announcement ended), batch (the name of the batch to publish), allocated (the
// 2025 budget's amount allocated to batches once it is published), paid and clawed_back (the dashboard's
// figures after the flow), suspend (an applicant's credit code) }; token `bureau`.
import {
  axe, base, contains, done, fixture, inBothLanguages, press, refusedWith, row, screenshot, signIn, signOut,
  submit, t, text, titled,
} from './lib.mjs';
import { readFile } from 'node:fs/promises';

/** Opens the bureau's page `path` through the navigation, checks its title and runs axe-core on it. */
async function open(page, language, path, key) {
  await press(page, page.locator(`nav a[href="${path}"]`));
  await titled(page, language, key, path);
  await axe(page, path);
}

/** Fails unless the filter `field` of list `list` offers each of `values` by its name in `language`. */
async function namedChoices(page, language, list, field, values) {
  const shown = await page.locator(`[data-testid="${list}-filters"] select[name="${list}_${field}"] option`).allInnerTexts();
  for (const value of values) {
    const name = t(language, `value.${value}`);
    if (!shown.includes(name)) {
      throw new Error(`the filter ${list}_${field} offers ${JSON.stringify(shown)}, not ${JSON.stringify(name)}`);
    }
  }
}

await inBothLanguages('bureau', async (page, language) => {
  const mine = fixture[language];
  const other = fixture[language === 'en' ? 'zh-CN' : 'en'];

  // The dashboard of the fiscal year with a budget: its figures and charts.
  const home = await signIn(page, 'bureau');
  if (home !== '/bureau') {
    throw new Error(`the bureau landed on ${home}, not /bureau`);
  }
  await titled(page, language, 'bureau.dashboard', 'the dashboard');
  contains(await text(page, '[data-testid="dashboard-budget"]'), '¥10,000,000.00', "the dashboard's budget");
  await page.waitForSelector('[data-testid="chart-money-by-stage"]');
  await axe(page, 'the dashboard');
  await screenshot(page, `bureau-${language}`);

  // The work queue: a provider's application rejected without a reason is refused by the rule; approved, it
  // leaves the queue.
  await open(page, language, '/bureau/queues', 'bureau.queues');
  await screenshot(page, `bureau-queues-${language}`);
  const application = () => row(page, 'providers-to-decide', mine.provider);
  await press(page, application().locator('[data-testid="reject-provider"]'));
  const refusal = await refusedWith(page, language, 'invalid_registration', 'a rejection without a reason');
  contains(refusal.text, 'needs a reason', "the refusal's detail names the rule");
  await axe(page, 'the work queues with a refusal');
  await press(page, application().locator('[data-testid="approve-provider"]'));
  await done(page, 'the approval');
  if ((await application().count()) !== 0) {
    throw new Error(`the approved provider ${mine.provider} is still in the queue`);
  }

  // An objection dismissed with a reason.
  const objection = () => row(page, 'objections-to-rule', mine.objection);
  await objection().locator('[name="reason"]').fill(`${language}: the licence was checked with the issuer`);
  await press(page, objection().locator('[data-testid="dismiss"]'));
  await done(page, 'the ruling');
  if ((await objection().count()) !== 0) {
    throw new Error(`the ruled objection ${mine.objection} is still in the queue`);
  }

  // A redemption whose announcement ended, paid.
  const payable = () => row(page, 'redemptions-to-pay', mine.to_pay);
  contains(await payable().innerText(), '¥8,000.00', 'the redemption to pay');
  await payable().locator('[name="payment_reference"]').fill(`GY-2025-${language}`);
  await press(page, payable().locator('[data-testid="disburse"]'));
  await done(page, 'the payment');
  if ((await payable().count()) !== 0) {
    throw new Error(`the paid redemption ${mine.to_pay} is still in the queue`);
  }

  // The approved redemptions: this language's is announced, the other's (unticked) stays in the queue.
  const pick = (id) => row(page, 'redemptions-to-announce', id).locator('[data-testid="announce-pick"]');
  if (await pick(other.redemption).count()) {
    await pick(other.redemption).uncheck();
  }
  if (!(await pick(mine.redemption).isChecked())) {
    throw new Error('an approved redemption is not ticked for announcement');
  }
  await submit(page, '[data-testid="announce-form"]');
  await done(page, 'the announcement');
  if ((await row(page, 'redemptions-to-announce', mine.redemption).count()) !== 0) {
    throw new Error(`the announced redemption ${mine.redemption} is still in the queue`);
  }
  if (language === 'zh-CN' && (await row(page, 'redemptions-to-announce', other.redemption).count()) !== 1) {
    throw new Error(`the unticked redemption ${other.redemption} left the queue`);
  }
  await axe(page, 'the work queues after the actions');

  // The approved provider is in its admission announcement, in the providers' list; the list's filters name
  // their values in the page's language.
  await open(page, language, '/bureau/providers', 'bureau.providers');
  contains(await row(page, 'providers', mine.provider).innerText(), t(language, 'value.announced'), 'the approved provider');
  await namedChoices(page, language, 'providers', 'suspended', ['false']);
  // Filtered by status with the list's form: only applications in their announcement.
  await page.selectOption('[name="providers_status"]', 'announced');
  await press(page, page.locator('[data-testid="providers-filters"] [type="submit"]'));
  const announcedOnly = await text(page, '[data-testid="providers"] tbody');
  contains(announcedOnly, mine.provider, 'the providers filtered by status');
  if (announcedOnly.includes(t(language, 'value.admitted'))) {
    throw new Error('the filter by status kept an admitted provider');
  }

  // A batch published with the issuance guide; one over the budget is refused by the rule.
  await open(page, language, '/bureau/batches', 'bureau.batches');
  await screenshot(page, `bureau-batches-${language}`);
  const publish = async (name, total) => {
    const form = '[data-testid="publish-batch-form"]';
    await page.fill(`${form} [name="name"]`, name);
    await page.fill(`${form} [name="fiscal_year"]`, '2025');
    await page.fill(`${form} [name="total"]`, total);
    await page.fill(`${form} [name="face_value"]`, '50000.00');
    // A batch open to enterprises and project entities both, as the issuance guide may say.
    await page.selectOption(`${form} [name="eligible_kind"]`, ['enterprise', 'project_entity']);
    await page.fill(`${form} [name="eligible_industries"]`, 'advanced_equipment, aluminum');
    await page.fill(`${form} [name="eligible_categories"]`, 'technology_innovation');
    await page.fill(`${form} [name="claim_opens"]`, '2025-07-01');
    await page.fill(`${form} [name="claim_closes"]`, '2025-09-30');
    await page.fill(`${form} [name="valid_until"]`, '2025-12-31');
    await submit(page, form);
  };
  await publish(`${mine.batch} (too large)`, '90000000.00');
  await refusedWith(page, language, 'budget_insufficient', 'a batch over the budget');
  await axe(page, 'the batches with a refusal');
  await page.goto(`${base}/bureau/batches`);
  await publish(mine.batch, '500000.00');
  await done(page, 'the publication');
  const published = await row(page, 'batches', mine.batch).innerText();
  contains(published, '¥500,000.00', 'the published batch');
  contains(published, t(language, 'value.project_entity'), "the published batch's eligible kinds");
  contains(published, t(language, 'value.enterprise'), "the published batch's eligible kinds");
  if ((await row(page, 'batches', `${mine.batch} (too large)`).count()) !== 0) {
    throw new Error('the refused batch is listed');
  }
  await namedChoices(page, language, 'batches', 'closed', ['false']);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid="batches-csv"]')]);
  const csv = await readFile(await download.path(), 'utf8');
  contains(csv, mine.batch, 'the batches CSV');
  contains(csv, '500000.00', 'the batches CSV');

  // Closed early: the batch says so and offers no closing any more.
  await press(page, row(page, 'batches', mine.batch).locator('[data-testid="close-batch"]'));
  await done(page, 'the closing');
  contains(await row(page, 'batches', mine.batch).innerText(), t(language, 'value.true'), 'the closed batch');
  if ((await row(page, 'batches', mine.batch).locator('[data-testid="close-batch"]').count()) !== 0) {
    throw new Error('the closed batch can be closed again');
  }

  // The payment clawed back in part (more than was paid is refused by the rule), and recovered.
  await open(page, language, '/bureau/enforcement', 'bureau.enforcement');
  await screenshot(page, `bureau-enforcement-${language}`);
  const paid = () => row(page, 'paid-redemptions', mine.to_pay);
  contains(await paid().innerText(), '¥8,000.00', 'the paid redemption');
  const clawBack = async (amount) => {
    await paid().locator('[name="amount"]').fill(amount);
    await paid().locator('[name="reason"]').fill(`${language}: the invoice was issued twice`);
    await press(page, paid().locator('[data-testid="clawback"]'));
  };
  await clawBack('9000.00');
  await refusedWith(page, language, 'clawback_exceeds_disbursed', 'a clawback over the payment');
  await axe(page, 'the enforcement page with a refusal');
  await clawBack('1000.00');
  await done(page, 'the clawback');
  const clawback = () => row(page, 'clawbacks', mine.to_pay);
  contains(await clawback().innerText(), '¥1,000.00', 'the clawback');
  await clawback().locator('[name="amount"]').fill('1000.00');
  await press(page, clawback().locator('[data-testid="recover"]'));
  await done(page, 'the recovery');
  if ((await clawback().locator('[data-testid="recover"]').count()) !== 0) {
    throw new Error('a clawback recovered in full still offers a recovery');
  }
  // An applicant suspended, a provider referred to the authorities.
  await page.fill('[data-testid="suspend-applicant-form"] [name="credit_code"]', mine.suspend);
  await page.fill('[data-testid="suspend-applicant-form"] [name="reason"]', `${language}: false statements`);
  await submit(page, '[data-testid="suspend-applicant-form"]');
  await done(page, 'the suspension');
  await page.fill('[data-testid="referral-form"] [name="party"]', mine.provider);
  await page.fill('[data-testid="referral-form"] [name="authority"]', 'market regulation');
  await page.fill('[data-testid="referral-form"] [name="note"]', `${language}: forged licence`);
  await submit(page, '[data-testid="referral-form"]');
  await done(page, 'the referral');
  await axe(page, 'the enforcement page after the actions');

  // The dashboard's budget shows the money allocated to it.
  await open(page, language, '/bureau', 'bureau.dashboard');
  contains(await row(page, 'budgets', '2025').innerText(), mine.allocated, "the budget's allocation");
  // Its figures count the payment and the clawback.
  contains(await text(page, '[data-testid="dashboard-paid"]'), mine.paid, "the dashboard's paid figure");
  contains(await text(page, '[data-testid="dashboard-clawed_back"]'), mine.clawed_back, "the dashboard's clawbacks");
  await signOut(page, '/bureau');
});
