import { test, expect } from '@playwright/test';
import { createSuperAdmin, hydrated, logIn, signUp, uniqueEmail } from './helpers';

// Seed 001 §1: "admin sets messages to 1000 for starter and it applies at once".
test('an admin raises Starter’s queries limit in the panel and a Starter customer’s dashboard shows it live', async ({ page, browser }) => {
  const customer = await (await browser.newContext()).newPage();
  await signUp(customer, uniqueEmail('limited'), 'starter');
  await customer.goto('/dashboard');
  await hydrated(customer);
  await expect(customer.getByTestId('live-status')).toHaveAttribute('data-live', 'true');
  const used = customer.locator('[data-meter="queries"]').getByTestId('meter-used');
  await expect(used).toContainText('0 / 500');

  const adminEmail = uniqueEmail('planner');
  createSuperAdmin(adminEmail);
  await logIn(page, adminEmail, '/admin/plans');
  await hydrated(page);
  await expect(page.locator('tr[data-plan="enterprise"]')).toContainText('sales-only');
  await expect(page.locator('tr[data-plan="starter"] [data-limit="queries"]')).toHaveText('Queries: 500 soft');

  // A bad value is refused with the loader's reason; nothing is published.
  const editor = page.locator('[data-editor="limit"]');
  await editor.getByLabel('Plan', { exact: true }).selectOption('starter');
  await editor.getByLabel('Meter', { exact: true }).selectOption('queries');
  await editor.getByLabel('Included').fill('1000');
  await editor.getByLabel('Grace % (hard)').fill('10');
  await editor.getByRole('button', { name: 'Preview' }).click();
  await expect(page.getByTestId('edit-error')).toContainText('grace applies to hard limits only');

  await editor.getByLabel('Grace % (hard)').fill('');
  await editor.getByRole('button', { name: 'Preview' }).click();
  await expect(page.getByTestId('edit-change')).toHaveText(['Starter · Queries: 500 soft → 1000 soft']);
  await page.getByRole('button', { name: 'Publish new version' }).click();
  await expect(page.getByTestId('published')).toBeVisible();
  await expect(page.locator('tr[data-plan="starter"] [data-limit="queries"]')).toHaveText('Queries: 1000 soft');

  // The customer's open dashboard follows without a reload.
  await expect(used).toContainText('0 / 1,000', { timeout: 3_000 });

  // Put the shared catalog back for the other tests (the preview link works as a URL too).
  await page.goto('/admin/plans?kind=limit&plan=starter&target=queries&value=500&enforcement=soft');
  await page.getByRole('button', { name: 'Publish new version' }).click();
  await expect(page.locator('tr[data-plan="starter"] [data-limit="queries"]')).toHaveText('Queries: 500 soft');
  await expect(used).toContainText('0 / 500', { timeout: 3_000 });
});
