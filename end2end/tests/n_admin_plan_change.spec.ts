import { test, expect } from '@playwright/test';
import { SECOND_URL, createSuperAdmin, hydrated, logIn, openAdminUser, signUp, uniqueEmail } from './helpers';

test('an admin moves a customer to another plan after the preview, cancels and reactivates it, and sets payment terms', async ({ page, browser }) => {
  const customerEmail = uniqueEmail('moved');
  const customer = await (await browser.newContext()).newPage();
  await signUp(customer, customerEmail, 'starter');

  const adminEmail = uniqueEmail('mover');
  createSuperAdmin(adminEmail);
  await logIn(page, adminEmail, '/admin/users');
  await openAdminUser(page, customerEmail);
  const subscription = page.getByTestId('subscription');
  await expect(subscription).toHaveAttribute('data-plan', 'starter');

  // The current plan again is refused in the preview, with the reason.
  const actions = page.getByTestId('account-actions');
  await actions.getByLabel('New plan').selectOption('starter');
  await actions.getByRole('button', { name: 'Preview change' }).click();
  await expect(page.getByTestId('preview-error')).toContainText('already on Starter');
  // The preview is a plain GET form: a new page, hydrated before it is used.
  await hydrated(page);

  // Pro: the preview first (a trial prorates nothing), then the confirmed change.
  await actions.getByLabel('New plan').selectOption('pro');
  await actions.getByRole('button', { name: 'Preview change' }).click();
  await expect(page).toHaveURL(/change=pro/);
  await hydrated(page);
  const preview = page.getByTestId('change-preview');
  await expect(preview.getByTestId('preview-to')).toHaveText('Pro, billed every month');
  await expect(preview.getByTestId('preview-proration')).toHaveText('None');
  await expect(subscription).toHaveAttribute('data-plan', 'starter');
  await preview.getByRole('button', { name: 'Confirm plan change' }).click();
  await expect(subscription).toHaveAttribute('data-plan', 'pro');
  await expect(page.getByTestId('change-preview')).toHaveCount(0);

  // The customer's dashboard shows the new plan.
  await customer.goto('/dashboard');
  await expect(customer.getByTestId('plan-card')).toHaveAttribute('data-plan', 'pro');

  // Cancel needs its confirmation; then it can be undone.
  await actions.getByText('Cancel at period end…').click();
  await actions.getByRole('button', { name: 'Cancel the subscription' }).click();
  await expect(page.getByTestId('cancel-scheduled')).toContainText('Ends on');
  await actions.getByRole('button', { name: 'Reactivate' }).click();
  await expect(page.getByTestId('cancel-scheduled')).toHaveCount(0);

  // Payment terms: a bad value is refused and kept, a good one saved.
  await page.getByLabel('Net terms').fill('500');
  await page.getByRole('button', { name: 'Save terms' }).click();
  await expect(page.getByText('Enter whole days from 0 (due on receipt) to 120.')).toBeVisible();
  await page.getByLabel('Net terms').fill('30');
  await page.getByLabel('External id').fill('crm-e2e-1');
  await page.getByRole('button', { name: 'Save terms' }).click();
  await page.reload();
  await expect(page.getByLabel('Net terms')).toHaveValue('30');
  await expect(page.getByLabel('External id')).toHaveValue('crm-e2e-1');

  // Everything is in the audit log, with the admin as the actor.
  await page.goto('/admin/audit?action=subscription.');
  await expect(page.locator('tr[data-action="subscription.plan_changed"]').first()).toContainText(adminEmail);
});

test('an admin creates a platform key, sees it once, and revoking it ends it at once', async ({ page }) => {
  const adminEmail = uniqueEmail('keymaster');
  createSuperAdmin(adminEmail);
  await logIn(page, adminEmail, '/admin/keys');
  await hydrated(page);
  await page.getByLabel('Name').fill('e2e billing worker');
  await page.getByRole('button', { name: 'Create platform key' }).click();
  const secret = await page.getByTestId('new-key-secret').inputValue();
  expect(secret).toMatch(/^tg_pk_/);
  const row = page.locator('tr[data-key="e2e billing worker"]');
  await expect(row).toHaveAttribute('data-revoked', 'false');

  const asKey = () => page.request.post(`${SECOND_URL}/api/v1/check`, { headers: { Authorization: `Bearer ${secret}` }, data: { feature: 'queries' } });
  expect((await asKey()).status()).not.toBe(401);

  await row.getByRole('link', { name: 'Revoke…' }).click();
  await row.getByRole('button', { name: 'Revoke' }).click();
  await expect(page.locator('tr[data-key="e2e billing worker"]')).toHaveAttribute('data-revoked', 'true');
  await expect(page.getByTestId('new-key')).toHaveCount(0);
  expect((await asKey()).status()).toBe(401);
});
