// The harness checks itself: Chromium launches as lib.mjs launches it, and axe-core finds a critical
// violation on a page built to have one (an image without alternative text), so that "no violation" on the
// console's pages is a finding.
import { launch, axe } from './lib.mjs';

const { page, close } = await launch('en');
try {
  await page.setContent('<html lang="en"><title>harness</title><main><h1>harness</h1><img src="data:,"></main></html>');
  let found = null;
  try {
    await axe(page, 'harness');
  } catch (error) {
    found = error.message;
  }
  if (!found || !found.includes('image-alt')) {
    console.error(`harness: axe-core did not report the missing alternative text (${found})`);
    process.exitCode = 1;
  } else {
    console.log(found);
  }
} finally {
  await close();
}
