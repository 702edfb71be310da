import { test, expect } from '@playwright/test';
import { createKey, createSuperAdmin, hydrated, logIn, signUp, uniqueEmail } from './helpers';

test('a super admin finds a user, impersonates them with a reason, and the audit log shows it all', async ({ page, browser }) => {
  // A customer on a trial, in a browser of their own.
  const customerEmail = uniqueEmail('impersonated');
  const customer = await browser.newContext();
  const customerPage = await customer.newPage();
  await signUp(customerPage, customerEmail, 'starter');
  await createKey(customerPage, 'customer backend');
  await customer.close();

  const adminEmail = uniqueEmail('superadmin');
  createSuperAdmin(adminEmail);
  await logIn(page, adminEmail, '/admin');
  await expect(page.getByTestId('nav-admin')).toBeVisible();
  await expect(page.getByTestId('figure-mrr')).toBeVisible();

  // Search.
  await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Users' }).click();
  await expect(page).toHaveURL(/\/admin\/users$/);
  await page.getByLabel('E-mail or name').fill(customerEmail);
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(/\/admin\/users\?q=/);
  const row = page.locator(`tr[data-email="${customerEmail}"]`);
  await expect(row).toBeVisible();
  await expect(row).toContainText('starter');
  await row.getByRole('link', { name: 'E2E Tester' }).click();
  await expect(page).toHaveURL(/\/admin\/users\/[0-9a-f-]{36}$/);
  const userPage = page.url();
  await expect(page.getByTestId('subscription')).toHaveAttribute('data-status', 'trialing');
  await expect(page.getByTestId('no-invoices')).toContainText('No invoices yet');

  // Impersonate: the reason is required.
  await hydrated(page);
  await page.getByRole('button', { name: 'Impersonate' }).click();
  await expect(page.getByText('Say why you need to view as this user.')).toBeVisible();
  await page.getByLabel('Reason', { exact: true }).fill('E2E: customer cannot find their API keys');
  await page.getByRole('button', { name: 'Impersonate' }).click();
  await expect(page).toHaveURL(/\/dashboard$/);
  const banner = page.getByTestId('impersonation-banner');
  await expect(banner).toContainText(`Viewing as E2E Tester <${customerEmail}>`);
  await expect(page.getByTestId('nav-admin')).toHaveCount(0);

  // No admin powers meanwhile.
  await page.goto('/admin/users');
  await expect(page.getByText('Not allowed')).toBeVisible();

  // No new credentials in the user's name (issue 12)...
  await page.goto('/settings/api-keys');
  await hydrated(page);
  await page.getByLabel('Name').fill('made while impersonating');
  await page.getByRole('button', { name: 'Create key' }).click();
  await expect(page.getByText('While impersonating you cannot create API keys')).toBeVisible();
  await expect(page.locator('tr[data-key="made while impersonating"]')).toHaveCount(0);
  // ...but a change as the user: revoking their key, confirmed.
  const key = page.locator('tr[data-key="customer backend"]');
  await key.getByRole('link', { name: 'Revoke…' }).click();
  await key.getByRole('button', { name: 'Revoke' }).click();
  await expect(page.locator('tr[data-key="customer backend"]')).toHaveAttribute('data-revoked', 'true');
  await expect(banner).toBeVisible();

  // Stop: back to the admin, on the user's page.
  await banner.getByRole('button', { name: 'Stop' }).click();
  await expect(page).toHaveURL(userPage);
  await expect(page.getByTestId('impersonation-banner')).toHaveCount(0);
  await expect(page.getByTestId('nav-admin')).toBeVisible();

  // The audit log, filtered by the customer as actor.
  await page.goto('/admin/audit');
  await hydrated(page);
  await page.getByLabel('Actor e-mail').fill(customerEmail);
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/\/admin\/audit\?actor=/);
  for (const action of ['impersonation.started', 'api_key.revoked', 'impersonation.stopped']) {
    const entry = page.locator(`tr[data-action="${action}"]`);
    await expect(entry).toHaveCount(1);
    await expect(entry).toContainText(customerEmail);
    await expect(entry.getByTestId('impersonator')).toHaveText(`via ${adminEmail}`);
  }
  await expect(page.locator('tr[data-action="impersonation.started"]')).toContainText('E2E: customer cannot find their API keys');
  // Newest first: stopped, then the revoked key, then started.
  const actions = await page.locator('tr[data-testid="audit-row"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action')));
  const order = ['impersonation.stopped', 'api_key.revoked', 'impersonation.started'].map((a) => actions.indexOf(a));
  expect(order).toEqual([...order].sort((a, b) => a - b));
});
