// The public page without sign-in, in both languages: the current announcements (a provider in its
// admission announcement, with its period in working days), the objection form (an objection is filed
// and the notice shown), the language switch (remembered), a bad sign-in token refused with the API's code
// and message, and axe-core's check. Fixture: { provider } (a credit code in its announcement).
import {
  axe, base, contains, done, fixture, inBothLanguages, refusedWith, screenshot, submit, switchLanguage, t, text, titled,
} from './lib.mjs';

await inBothLanguages('public', async (page, language) => {
  await page.goto(`${base}/`);
  await titled(page, language, 'public.title', 'public page');
  const admissions = await text(page, '[data-testid="admissions"]');
  contains(admissions, fixture.provider, 'the admissions list');
  await axe(page, 'public page');
  await screenshot(page, `public-${language}`);

  // An objection to the announced provider is filed through the API's command path.
  await page.selectOption('[data-testid="objection-target"]', `provider:${fixture.provider}`);
  await page.fill('[data-testid="objection-text"]', `${language}: the provider's licence looks expired`);
  await submit(page, '[data-testid="objection-form"]');
  await done(page, 'objection');
  contains(await text(page, '[data-testid="notice"]'), t(language, 'notice.done'), 'the notice');
  await axe(page, 'public page after an objection');

  // The switch shows the other language and is remembered on the next page.
  const other = language === 'en' ? 'zh-CN' : 'en';
  await switchLanguage(page, other);
  await page.goto(`${base}/`);
  await titled(page, other, 'public.title', 'public page after the switch');
  await switchLanguage(page, language);

  // A token that is not one is refused at sign-in with the API's code and message.
  await page.goto(`${base}/signin#token=not-a-token`);
  await page.waitForSelector('[data-testid="problem"]', { timeout: 15000 });
  await refusedWith(page, language, 'invalid_token', 'a bad sign-in token');
  await axe(page, 'the sign-in page with a refusal');
});
