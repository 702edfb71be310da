import { test, expect } from '@playwright/test';
import { hydrated, PASSWORD, uniqueEmail } from './helpers';

test('a visitor picks Starter on the pricing page, signs up and lands on the dashboard', async ({ page }) => {
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
