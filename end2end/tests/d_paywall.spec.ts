import { test, expect } from '@playwright/test';
import { hydrated, PASSWORD, signUp, uniqueEmail } from './helpers';

test('the paywall sends visitors to log in and plan-less users to pricing', async ({ page }) => {
  await page.goto('/dashboard');
  await expect(page).toHaveURL(/\/login\?next=%2Fdashboard$/);
  await page.goto('/settings/api-keys');
  await expect(page).toHaveURL(/\/login\?next=%2Fsettings%2Fapi-keys$/);

  const email = uniqueEmail('paywall');
  await signUp(page, email); // no plan chosen
  await page.goto('/dashboard');
  await expect(page).toHaveURL(/\/pricing$/);

  // Log out, then log in through the redirect and come back to where we were.
  await hydrated(page);
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Log in' })).toBeVisible();
  await page.goto('/notifications');
  await expect(page).toHaveURL(/\/login\?next=%2Fnotifications$/);
  await hydrated(page);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill('wrong password!');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('alert').first()).toContainText('The e-mail or password is not right.');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(/\/notifications$/);

  // Choosing a plan opens the dashboard.
  await page.goto('/pricing');
  await hydrated(page);
  await page.locator('[data-plan="free"]').getByRole('button', { name: 'Choose Free' }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  await expect(page.getByTestId('plan-card')).toHaveAttribute('data-plan', 'free');
});
