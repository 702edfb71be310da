import { test, expect } from '@playwright/test';
import { createSuperAdmin, hydrated, logIn, signUp, uniqueEmail } from './helpers';

// Issue 11 §3: a new price applies to new subscriptions; current subscribers keep
// theirs until the operator moves them to the current price.
test('an admin raises Starter’s price: a current subscriber keeps $19, the pricing page shows $21, and the move is previewed then made', async ({ page, browser }) => {
  const customer = await (await browser.newContext()).newPage();
  await signUp(customer, uniqueEmail('grandfathered'), 'starter');
  await expect(customer.getByTestId('plan-card')).toContainText('$19/month');

  const adminEmail = uniqueEmail('pricer');
  createSuperAdmin(adminEmail);
  await logIn(page, adminEmail, '/admin/plans');
  await hydrated(page);
  const editor = page.locator('[data-editor="price"]');
  await editor.getByLabel('Plan', { exact: true }).selectOption('starter');
  await editor.getByLabel('Billed').selectOption('month');
  await editor.getByLabel('Amount').fill('-3');
  await editor.getByRole('button', { name: 'Preview' }).click();
  await expect(page.getByTestId('edit-error')).toContainText('Enter the amount');

  await editor.getByLabel('Amount').fill('21');
  await editor.getByRole('button', { name: 'Preview' }).click();
  await expect(page.getByTestId('edit-change')).toHaveText(['Starter · monthly price: $19.00/month → $21.00/month']);
  await expect(page.getByTestId('edit-reach')).toContainText('keep their price until you move them');
  await page.getByRole('button', { name: 'Publish new version' }).click();
  await expect(page.getByTestId('published')).toBeVisible();
  const starter = page.locator('tr[data-plan="starter"]');
  await expect(starter.getByTestId('plan-price').first()).toHaveText('$21.00/month');
  const kept = starter.locator('[data-kept="month"]');
  await expect(kept).toContainText(/\d+ monthly subscribers? keeps? an older price/);

  // The subscriber keeps $19; a visitor sees $21.
  await customer.reload();
  await expect(customer.getByTestId('plan-card')).toContainText('$19/month');
  await customer.goto('/pricing');
  await expect(customer.locator('[data-plan="starter"]').getByTestId('price')).toHaveText('$21');

  // Preview the move (how many, MRR before → after), then make it.
  await kept.getByRole('link', { name: 'Move to the current price' }).click();
  const move = page.getByTestId('move-preview');
  await expect(move).toContainText('Starter billed monthly');
  await expect(move.getByTestId('move-mrr')).toContainText('→');
  // Subscribers Stripe bills cannot move from a server without Stripe: they are
  // announced, reported as not moved, and still listed.
  const stripeBilled = Number(/\((\d+) billed by Stripe\)/.exec(await move.getByTestId('move-count').innerText())?.[1] ?? '0');
  if (stripeBilled > 0) await expect(move.getByTestId('move-stripe-unavailable')).toBeVisible();
  await move.getByRole('button', { name: 'Move them to the current price' }).click();
  await expect(page.getByTestId('moved')).toContainText('to the current price, from their next renewal');
  const left = page.locator('tr[data-plan="starter"] [data-kept="month"]');
  if (stripeBilled === 0) {
    await expect(left).toHaveCount(0);
  } else {
    await expect(page.getByTestId('moved')).toContainText(`${stripeBilled} could not be moved`);
    await expect(left).toContainText(`${stripeBilled} monthly subscriber`);
  }

  // Put the shared catalog back for the other tests.
  await page.goto('/admin/plans?kind=price&plan=starter&target=month&value=19');
  await page.getByRole('button', { name: 'Publish new version' }).click();
  await expect(page.locator('tr[data-plan="starter"]').getByTestId('plan-price').first()).toHaveText('$19.00/month');
});
