import { test, expect } from '@playwright/test';
import { PASSWORD, uniqueEmail } from './helpers';
import { waitForMail } from './mail';

test.use({ javaScriptEnabled: false });

test('pricing, sign-up errors and the dashboard work without JavaScript', async ({ page }) => {
  await page.goto('/pricing?interval=year');
  await expect(page.locator('[data-plan]')).toHaveCount(5);
  await expect(page.locator('[data-plan="pro"]').getByTestId('price')).toHaveText('$490');
  await expect(page.getByRole('table')).toContainText('Queries per month');
  await expect(page.getByText('Can I change plans anytime?')).toBeVisible();
  // The bill estimator is a plain form.
  await page.getByLabel('Documents (document)').fill('50');
  await page.getByLabel('Seats').fill('2');
  await page.getByRole('button', { name: 'Estimate' }).click();
  await expect(page.locator('[data-estimate-plan="pro"]')).toHaveAttribute('data-cheapest', 'true');
  await expect(page.locator('[data-estimate-plan="pro"]').getByTestId('estimate-total')).toHaveText('$490.00');

  await page.goto('/signup?plan=pro&interval=year');
  const email = uniqueEmail('nojs');
  await page.getByLabel('Name').fill('Noah No-Script');
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.locator('#field-password-error')).toHaveText('Use at least 10 characters.');
  await expect(page.getByLabel('E-mail')).toHaveValue(email);
  await expect(page.getByLabel('Name')).toHaveValue('Noah No-Script');
  await expect(page.getByTestId('chosen-plan')).toContainText('Pro billed every year');

  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/signup\?sent=1$/);
  await expect(page.getByTestId('sign-up-sent')).toContainText('We sent a link');

  const mail = await waitForMail(email, /Confirm your e-mail address/);
  expect(mail.link).toContain('&plan=pro&interval=year');

  // Until the e-mailed link is opened, the password alone does not let in (and
  // another link, to the API keys page, is sent).
  await page.goto('/login');
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('alert').first()).toContainText('The e-mail or password is not right.');

  // The link confirms the address, logs in and marks the plan picked.
  await page.goto(mail.link!);
  await expect(page).toHaveURL(/\/pricing\?welcome=1&interval=year&chosen=pro$/);
  await expect(page.getByRole('status').filter({ hasText: 'Your e-mail address is confirmed' })).toBeVisible();
  await page.locator('[data-chosen="true"]').getByRole('button', { name: 'Choose Pro' }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId('plan-card')).toHaveAttribute('data-plan', 'pro');
  await expect(page.locator('[data-meter="queries"]')).toContainText('Unlimited on your plan');

  // A confirmed address owns keys.
  await page.goto('/settings/api-keys');
  await expect(page.getByRole('heading', { name: 'Confirm your e-mail address' })).toHaveCount(0);
  await page.getByLabel('Name').fill('no-js key');
  await page.getByRole('button', { name: 'Create key' }).click();
  await expect(page.getByTestId('new-key-secret')).toHaveValue(/^tg_sk_/);
  await page.reload();
  await expect(page.getByTestId('new-key')).toHaveCount(0); // shown once
});
