import { test, expect } from '@playwright/test';
import { createKey, createSuperAdmin, hydrated, logIn, sendQueries, signUp, uniqueEmail } from './helpers';

test('an admin watches a customer’s meter move live on /admin/usage and on the customer’s admin page', async ({ page, browser }) => {
  // A customer on Starter (500 queries a month) at 92.6 %: a warning. The count is
  // one no other test leaves, so the customer's line is the only one with it.
  const customer = await (await browser.newContext()).newPage();
  const customerEmail = uniqueEmail('watched');
  await signUp(customer, customerEmail, 'starter');
  const key = await createKey(customer);
  await sendQueries(customer.request, key, 463);

  const adminEmail = uniqueEmail('watcher');
  createSuperAdmin(adminEmail);
  await logIn(page, adminEmail, '/admin/usage');
  await page.goto('/admin/usage?plan=starter&meter=queries&state=warning');
  await hydrated(page);
  await expect(page.getByTestId('live-status')).toHaveAttribute('data-live', 'true');
  // The stream's first message (the board as it is) has arrived.
  await expect(page.getByTestId('live-status')).toHaveAttribute('data-version', /^\d+$/);
  await page.evaluate(() => ((window as any).__not_reloaded = true));
  await expect(page.locator('tr[data-meter="queries"][data-usage="463"]')).toHaveCount(1);
  const account = await page.locator('tr[data-meter="queries"][data-usage="463"]').getAttribute('data-account');
  expect(account).toBeTruthy();
  const row = page.locator(`tr[data-account="${account}"][data-meter="queries"]`);
  await expect(row).toHaveAttribute('data-state', 'warning');
  await expect(row.getByTestId('line-used')).toContainText('463 / 500');

  // Events go to the second server process; the admin's page is on the first.
  await sendQueries(page.request, key, 10);
  await expect(row).toHaveAttribute('data-usage', '473', { timeout: 1_000 });
  await expect(row.getByTestId('line-used')).toContainText('473 / 500');
  await sendQueries(page.request, key, 27);
  await expect(row).toHaveAttribute('data-usage', '500', { timeout: 1_000 });
  await expect(row).toHaveAttribute('data-state', 'limit_reached');
  await expect(page.getByTestId('near-limit').locator(`li[data-account="${account}"]`)).toBeVisible();
  expect(await page.evaluate(() => (window as any).__not_reloaded)).toBe(true);

  // The same live meter card on the customer's admin page.
  await row.getByRole('link').click();
  await expect(page).toHaveURL(/\/admin\/users\/[0-9a-f-]{36}$/);
  await hydrated(page);
  await expect(page.getByTestId('live-status')).toHaveAttribute('data-live', 'true');
  const card = page.getByTestId('meters').locator('[data-meter="queries"]');
  await expect(card).toHaveAttribute('data-usage', '500');
  await sendQueries(page.request, key, 5);
  await expect(card).toHaveAttribute('data-usage', '505', { timeout: 1_000 });
  await expect(card.getByTestId('meter-used')).toContainText('505 / 500');
});

test('/admin/usage works without JavaScript: filters, totals and lines from the server', async ({ browser }) => {
  const adminEmail = uniqueEmail('nojs-watcher');
  createSuperAdmin(adminEmail);
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto('/login?next=/admin/usage');
  await page.getByLabel('E-mail').fill(adminEmail);
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(/\/admin\/usage$/);
  await expect(page.getByRole('heading', { name: 'Usage across customers' })).toBeVisible();
  await expect(page.getByTestId('meter-total').first()).toBeVisible();
  await page.getByLabel('Meter', { exact: true }).selectOption('queries');
  await page.getByLabel('Sort', { exact: true }).selectOption('name');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/meter=queries/);
  const metersShown = await page.getByTestId('usage-lines').locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-meter')));
  expect(metersShown.length).toBeGreaterThan(0);
  expect(new Set(metersShown)).toEqual(new Set(['queries']));
  await expect(page.getByTestId('live-status')).toHaveText('Current as of page load');
});
