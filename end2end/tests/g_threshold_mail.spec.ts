import { test, expect } from '@playwright/test';
import { createKey, sendQueries, signUp, uniqueEmail } from './helpers';
import { allMail, waitForMail } from './mail';

// Starter includes 500 queries a month; the emtchat catalog e-mails at 75 % and 90 %.
test('a Starter account is warned by e-mail at 75 % and 90 % of its queries, once each', async ({ page, request }) => {
  const email = uniqueEmail('mail');
  await signUp(page, email, 'starter');
  const key = await createKey(page);

  await sendQueries(request, key, 380); // 76 %
  const warning = await waitForMail(email, /usage is at 75%/);
  expect(warning.subject).toBe('Your EMTChat usage is at 75%');
  expect(warning.text).toContain('Hi E2E Tester,');
  expect(warning.text).toContain("You've used 380 of your 500 queries this period on the Starter plan");
  expect(warning.link).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/pricing$/);
  await page.goto(warning.link!);
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await expect(page).toHaveURL(/\/pricing$/);

  await sendQueries(request, key, 10); // 78 %: nothing new
  await sendQueries(request, key, 70); // 92 %
  const critical = await waitForMail(email, /usage is at 90%/);
  expect(critical.text).toContain("You've used 460 of your 500 queries");
  expect(allMail(email, /usage is at 75%/)).toHaveLength(1);
  // Two usage warnings in all (besides the address confirmation sent at sign-up).
  expect(allMail(email, /usage is at/)).toHaveLength(2);
});
