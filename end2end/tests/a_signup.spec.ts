import { test, expect } from '@playwright/test';
import { hydrated, openConfirmation, PASSWORD, signUp, uniqueEmail } from './helpers';
import { waitForMail } from './mail';

test('a visitor picks Starter on the pricing page, signs up, opens the e-mailed link and lands on the dashboard', async ({ page }) => {
  await page.goto('/pricing');
  await hydrated(page);
  const starter = page.locator('[data-plan="starter"]');
  await expect(starter.getByTestId('price')).toHaveText('$19');

  await page.getByRole('link', { name: 'Annual' }).click();
  await expect(page).toHaveURL(/interval=year/);
  await expect(starter.getByTestId('price')).toHaveText('$190');
  await page.getByRole('link', { name: 'Monthly' }).click();
  await expect(starter.getByTestId('price')).toHaveText('$19');
  await expect(page.locator('[data-plan="enterprise"]').getByRole('link', { name: 'Contact sales' })).toBeVisible();

  await starter.getByRole('link', { name: 'Start 14-day trial' }).click();
  await expect(page).toHaveURL(/\/signup\?plan=starter&interval=month$/);
  await expect(page.getByTestId('chosen-plan')).toContainText('Starter');
  await hydrated(page);

  // A bad submit keeps what was typed and names the field.
  const email = uniqueEmail('visitor');
  await page.getByLabel('Name').fill('Vera Visitor');
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill('short');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.locator('#field-password-error')).toHaveText('Use at least 10 characters.');
  await expect(page.getByLabel('E-mail')).toHaveValue(email);

  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/signup\?sent=1$/);
  await expect(page.getByTestId('sign-up-sent')).toContainText('We sent a link');

  // The e-mailed link confirms the address, logs in and marks the plan picked.
  await openConfirmation(page, email);
  await expect(page).toHaveURL(/\/pricing\?welcome=1&interval=month&chosen=starter$/);
  const picked = page.locator('[data-chosen="true"]');
  await expect(picked).toHaveCount(1);
  await expect(picked).toHaveAttribute('data-plan', 'starter');
  await hydrated(page);
  await picked.getByRole('button', { name: 'Choose Starter' }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  const plan = page.getByTestId('plan-card');
  await expect(plan).toHaveAttribute('data-plan', 'starter');
  await expect(plan).toHaveAttribute('data-status', 'trialing');
  await expect(plan).toContainText('Trial until');
  const queries = page.locator('[data-meter="queries"]');
  await expect(queries).toHaveAttribute('data-state', 'ok');
  await expect(queries.getByTestId('meter-used')).toHaveText('0 / 500 queries');
  await expect(page.getByTestId('nav-account')).toHaveText('Vera Visitor');
});

test('signing up with an address that has an account answers as for a new one', async ({ page, browser }) => {
  const email = uniqueEmail('twice');
  const first = await browser.newPage();
  await signUp(first, email);
  await first.close();

  await page.goto('/signup');
  await hydrated(page);
  await page.getByLabel('Name').fill('Someone Else');
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill('another password 1');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/signup\?sent=1$/);
  await expect(page.getByTestId('sign-up-sent')).toContainText('We sent a link');
  // The owner of the address is told, with a way back in.
  const notice = await waitForMail(email, /Someone tried to sign up with your address/);
  expect(notice.text).toContain('/forgot-password');
});
