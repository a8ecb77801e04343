// The reviewer in both languages (zh-CN first, on the same ledger). Fixture per language: { full, reduced,
// rejected (requested redemptions of 8,000.00 each), invoice (the bytes of the first one's invoice file),
// invoice_sha256 (their SHA-256, as the ledger has it) }; token `reviewer`.
import {
  axe, contains, done, fixture, inBothLanguages, press, refusedWith, row, screenshot, signIn,
  sha256, signOut, switchLanguage, text, titled,
} from './lib.mjs';
import { readFile } from 'node:fs/promises';

/** RFC 4180 CSV: rows of fields (quoted fields may hold commas, quotes and line breaks). */
function parseCsv(text) {
  const rows = [];
  let fields = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 1;
      } else if (c === '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      fields.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') {
        i += 1;
      }
      fields.push(field);
      rows.push(fields);
      fields = [];
      field = '';
    } else {
      field += c;
    }
  }
  if (field !== '' || fields.length > 0) {
    fields.push(field);
    rows.push(fields);
  }
  return rows.map((row) => (row[0]?.startsWith('\uFEFF') ? [row[0].slice(1), ...row.slice(1)] : row));
}

await inBothLanguages('reviewer', async (page, language) => {
  const mine = fixture[language];
  const home = await signIn(page, 'reviewer');
  if (home !== '/reviewer') {
    throw new Error(`the reviewer landed on ${home}, not /reviewer`);
  }
  await titled(page, language, 'reviewer.title', 'the redemptions to review');
  const redemption = (id) => row(page, 'redemptions-to-review', id);
  const full = await redemption(mine.full).innerText();
  contains(full, '¥8,000.00', 'the amount requested');
  contains(full, mine.invoice_sha256, "the invoice's hash");
  // Each document on a line of its own: its name and its hash (the invoice, the remittance proof, a result).
  const documents = (await redemption(mine.full).locator('td').nth(5).innerText()).trim().split('\n');
  if (documents.length !== 3 || documents[0] !== `invoice-${language}.pdf ${mine.invoice_sha256}`) {
    throw new Error(`the documents are not shown one per line: ${JSON.stringify(documents)}`);
  }
  await axe(page, 'the redemptions to review');
  await screenshot(page, `reviewer-${language}`);

  // The queue as CSV: the redemption's row with its documents, one per line, in one quoted field.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.click('[data-testid="redemptions-to-review-csv"]'),
  ]);
  const table = parseCsv(await readFile(await download.path(), 'utf8'));
  const header = table[0];
  const line = table.find((fields) => fields[header.indexOf('redemption_id')] === mine.full);
  if (!line) {
    throw new Error(`the CSV has no row of ${mine.full}: ${JSON.stringify(table).slice(0, 1000)}`);
  }
  const listed = line[header.indexOf('documents')].split('\n');
  if (listed.length !== 3 || listed[0] !== `invoice-${language}.pdf ${mine.invoice_sha256}`) {
    throw new Error(`the CSV's documents of ${mine.full}: ${JSON.stringify(listed)}`);
  }

  // The invoice's file, picked and hashed in the browser, has the hash the ledger shows.
  const invoice = Buffer.from(mine.invoice);
  if ((await sha256(invoice)) !== mine.invoice_sha256) {
    throw new Error(`the fixture's invoice does not hash to ${mine.invoice_sha256}`);
  }
  await page.setInputFiles('#check-file-input', { name: `invoice-${language}.pdf`, mimeType: 'application/pdf', buffer: invoice });
  await page.waitForFunction(
    (hash) => document.querySelector('[data-testid="check-sha256"]')?.value === hash,
    mine.invoice_sha256,
    { timeout: 15000 },
  );
  contains(await text(page, '[data-testid="check-sha256"]'), mine.invoice_sha256, "the picked invoice's hash");

  // In full.
  await press(page, redemption(mine.full).locator('[data-testid="review-full"]'));
  await done(page, 'the approval in full');
  if ((await redemption(mine.full).count()) !== 0) {
    throw new Error('the approved redemption is still in the queue');
  }

  // Reduced: an amount not below the one requested is refused by the rule; a lower one with a reason is
  // recorded.
  const reduce = async (amount) => {
    await redemption(mine.reduced).locator('[name="approved"]').fill(amount);
    await redemption(mine.reduced).locator('[name="reason"]').fill(`${language}: one invoice is not eligible`);
    await press(page, redemption(mine.reduced).locator('[data-testid="review-reduced"]'));
  };
  await reduce('9000.00');
  const refusal = await refusedWith(page, language, 'invalid_request', 'a reduction above the amount requested');
  contains(refusal.text, 'must be less than', "the refusal's detail names the rule");
  await axe(page, 'the redemptions with a refusal');
  await reduce('5000.00');
  await done(page, 'the reduction');
  if ((await redemption(mine.reduced).count()) !== 0) {
    throw new Error('the reduced redemption is still in the queue');
  }

  // Rejected, with a reason.
  await redemption(mine.rejected).locator('[name="reason"]').fill(`${language}: the result is missing`);
  await press(page, redemption(mine.rejected).locator('[data-testid="review-rejected"]'));
  await done(page, 'the rejection');
  if ((await redemption(mine.rejected).count()) !== 0) {
    throw new Error('the rejected redemption is still in the queue');
  }
  await axe(page, 'the redemptions after the actions');
  // The header's switch shows the page in the other language, and back.
  const other = language === 'en' ? 'zh-CN' : 'en';
  await switchLanguage(page, other);
  await titled(page, other, 'reviewer.title', 'the redemptions to review in the other language');
  await axe(page, 'the redemptions to review in the other language');
  await switchLanguage(page, language);
  await titled(page, language, 'reviewer.title', 'the redemptions to review switched back');
  await signOut(page, '/reviewer');
});
