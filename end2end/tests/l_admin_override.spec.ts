import { test, expect } from '@playwright/test';
import { createSuperAdmin, hydrated, logIn, openAdminUser, signUp, uniqueEmail } from './helpers';

test('an admin raises a customer limit with an override: the customer’s meter follows live, and removing it restores the plan', async ({ page, browser }) => {
  // The customer on Starter (500 queries a month), watching their dashboard.
  const customerEmail = uniqueEmail('deal');
  const customer = await (await browser.newContext()).newPage();
  await signUp(customer, customerEmail, 'starter');
  await customer.goto('/dashboard');
  await hydrated(customer);
  await expect(customer.getByTestId('live-status')).toHaveAttribute('data-live', 'true');
  const used = customer.locator('[data-meter="queries"]').getByTestId('meter-used');
  await expect(used).toContainText('0 / 500');

  const adminEmail = uniqueEmail('dealmaker');
  createSuperAdmin(adminEmail);
  await logIn(page, adminEmail, '/admin/users');
  await openAdminUser(page, customerEmail);
  await expect(page.getByTestId('no-overrides')).toBeVisible();

  // A bad value is refused with the reason, and nothing is set.
  await page.getByLabel('Limit or feature').selectOption('limit:queries');
  await page.getByLabel('Included').fill('lots');
  await page.getByLabel('Override reason').fill('Enterprise deal, ticket 4242');
  await page.getByRole('button', { name: 'Set override' }).click();
  await expect(page.getByText('Enter a quantity (like 1000) or `unlimited`.')).toBeVisible();

  await page.getByLabel('Included').fill('1000');
  await page.getByRole('button', { name: 'Set override' }).click();
  const item = page.locator('[data-override="limit:queries"]');
  await expect(item.getByTestId('override-summary')).toHaveText('included 1,000');
  await expect(item).toContainText('Enterprise deal, ticket 4242');

  // The customer's meter moves without a reload.
  await expect(used).toContainText('0 / 1,000', { timeout: 3_000 });

  await item.getByText('Remove…').click();
  await item.getByRole('button', { name: 'Remove override' }).click();
  await expect(page.getByTestId('no-overrides')).toBeVisible();
  await expect(used).toContainText('0 / 500', { timeout: 3_000 });
});
