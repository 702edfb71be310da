import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { PASSWORD, hydrated, uniqueEmail } from './helpers';

/** Runs the operator CLI on the e2e database. */
function tollgate(args: string[]): string {
  const bin = process.env.E2E_TOLLGATE_BIN;
  const db = process.env.E2E_DATABASE_URL;
  if (!bin || !db) throw new Error('E2E_TOLLGATE_BIN and E2E_DATABASE_URL must be set (see scripts/test.sh)');
  return execFileSync(bin, args, { env: { ...process.env, DATABASE_URL: db, RUST_LOG: 'warn' }, stdio: 'pipe' }).toString();
}

/** `YYYY-MM` of the month before this one (UTC). */
function lastMonth(): string {
  const now = new Date();
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

test('an admin marks a manual invoice paid, and the customer sees it paid', async ({ page, browser }) => {
  // A customer billed by bank transfer since 75 days ago: last month's period is
  // closed, and the invoice run issues its invoice.
  const customerEmail = uniqueEmail('banktransfer');
  const name = `Bank Transfer ${Date.now()}`;
  tollgate(['users', 'create', '--email', customerEmail, '--name', name, '--password', PASSWORD]);
  const started = new Date(Date.now() - 75 * 24 * 3600 * 1000).toISOString();
  tollgate(['accounts', 'set-plan', customerEmail, 'starter', '--started', started]);
  tollgate(['invoices', 'run', '--period', lastMonth()]);

  const adminEmail = uniqueEmail('billingadmin');
  tollgate(['users', 'create', '--email', adminEmail, '--name', 'Bea Billing', '--password', PASSWORD, '--super-admin']);
  await page.goto(`/login?next=${encodeURIComponent('/admin/billing/invoices')}`);
  await hydrated(page);
  await page.getByLabel('E-mail').fill(adminEmail);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(/\/admin\/billing\/invoices$/);

  await page.getByLabel('Number or account').fill(name);
  await page.getByRole('button', { name: 'Filter' }).click();
  const rows = page.locator('table[data-testid="invoices"] tbody tr');
  await expect(rows.first()).toBeVisible();
  const open = page.locator('tr[data-status="open"]').first();
  await expect(open).toContainText(name);
  const number = await open.getAttribute('data-invoice');
  expect(number).toMatch(/^TG-\d{4}-\d{6}$/);
  await open.getByRole('button', { name: 'Mark paid' }).click();

  const paid = page.locator(`tr[data-invoice="${number}"]`);
  await expect(paid).toHaveAttribute('data-status', 'paid');
  await expect(paid.getByTestId('invoice-status')).toHaveText(/paid/i);
  await expect(paid.getByRole('button', { name: 'Mark paid' })).toHaveCount(0);

  // The customer's own billing page agrees.
  const customer = await (await browser.newContext()).newPage();
  await customer.goto(`/login?next=${encodeURIComponent('/billing')}`);
  await hydrated(customer);
  await customer.getByLabel('E-mail').fill(customerEmail);
  await customer.getByLabel('Password').fill(PASSWORD);
  await customer.getByRole('button', { name: 'Log in' }).click();
  await expect(customer).toHaveURL(/\/billing$/);
  await expect(customer.locator(`tr[data-invoice="${number}"]`)).toHaveAttribute('data-status', 'paid');
});
