import { test, expect, type Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { createKey, createSuperAdmin, hydrated, logIn, sendQueries, signUp, uniqueEmail } from './helpers';

/** axe-core's WCAG 2.0/2.1 A and AA rules on `path`, after hydration: the serious and critical violations, one line each. */
async function audit(page: Page, path: string): Promise<string[]> {
  await page.goto(path);
  await hydrated(page);
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${path}: ${v.id} (${v.impact}) ${v.help}: ${v.nodes.slice(0, 4).map((n) => n.target.join(' ')).join(' | ')}`);
}

async function auditAll(page: Page, paths: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const path of paths) found.push(...(await audit(page, path)));
  return found;
}

test('every page passes axe-core WCAG 2.1 AA with no serious or critical violation', async ({ page, browser, request }) => {
  test.setTimeout(240_000);
  const found = await auditAll(page, ['/', '/pricing', '/pricing?interval=year', '/pricing?usage.queries=2000&usage.documents=50', '/signup', '/signup?sent=1', '/login', '/forgot-password']);

  // A customer with usage, a key and an organization.
  const email = uniqueEmail('a11y');
  await signUp(page, email, 'starter');
  const key = await createKey(page);
  await sendQueries(request, key, 5);
  const slug = `a11y-${Date.now()}`;
  await page.goto('/orgs/new');
  await hydrated(page);
  await page.getByLabel('Name').fill('Accessible Inc');
  await page.getByLabel('Address').fill(slug);
  await page.getByLabel('Billing e-mail').fill(email);
  await page.getByRole('button', { name: 'Create organization' }).click();
  await expect(page).toHaveURL(new RegExp(`/orgs/${slug}/billing$`));
  found.push(
    ...(await auditAll(page, [
      `/orgs/${slug}/billing`,
      `/orgs/${slug}/usage`,
      `/orgs/${slug}/members`,
      `/orgs/${slug}/settings`,
      `/orgs/${slug}/security`,
      '/orgs/new',
    ])),
  );
  // Back to the personal account for its own pages.
  const switcher = page.getByTestId('account-switcher');
  await switcher.locator('select').selectOption({ index: 0 });
  await switcher.getByRole('button', { name: 'Switch' }).click();
  await expect(switcher.locator('option[selected]')).not.toContainText('Accessible Inc');
  found.push(...(await auditAll(page, ['/dashboard', '/billing', '/billing/change?plan=pro&interval=month', '/billing/cancel', '/settings/api-keys', '/notifications'])));

  // A super admin's pages.
  const admin = await browser.newContext();
  const adminPage = await admin.newPage();
  const adminEmail = uniqueEmail('a11y-admin');
  createSuperAdmin(adminEmail);
  await logIn(adminPage, adminEmail, '/admin');
  found.push(
    ...(await auditAll(adminPage, [
      '/admin',
      '/admin/usage',
      '/admin/costs',
      '/admin/users',
      `/admin/users?q=${encodeURIComponent(email)}`,
      '/admin/organizations',
      '/admin/audit',
      '/admin/keys',
      '/admin/plans',
      '/admin/billing/invoices',
      '/admin/billing/subscriptions',
    ])),
  );
  await adminPage.goto(`/admin/users?q=${encodeURIComponent(email)}`);
  await adminPage.locator(`tr[data-email="${email}"]`).getByRole('link').first().click();
  await expect(adminPage).toHaveURL(/\/admin\/users\/[0-9a-f-]{36}$/);
  found.push(...(await audit(adminPage, new URL(adminPage.url()).pathname)));
  await adminPage.goto('/admin/organizations');
  await adminPage.getByRole('link', { name: 'Accessible Inc' }).first().click();
  await expect(adminPage).toHaveURL(/\/admin\/organizations\/[0-9a-f-]{36}$/);
  found.push(...(await audit(adminPage, new URL(adminPage.url()).pathname)));
  await admin.close();

  expect(found, found.join('\n')).toEqual([]);
});
