import { test, expect } from '@playwright/test';
import { hydrated, PASSWORD, uniqueEmail } from './helpers';

// A third `tollgate serve` (E2E_STRIPE_URL) is configured for Stripe, pointed at the
// project's Stripe test double (E2E_DOUBLE_URL), which delivers signed webhooks to it.
const STRIPE_URL = process.env.E2E_STRIPE_URL ?? 'http://127.0.0.1:3102';
const DOUBLE_URL = process.env.E2E_DOUBLE_URL ?? 'http://127.0.0.1:12111';

test('a visitor signs up for Pro, pays in Checkout after a declined card, and sees the plan and the invoice', async ({ page }) => {
  await page.goto(`${STRIPE_URL}/signup?plan=pro&interval=month`);
  await hydrated(page);
  await page.getByLabel('Name').fill('Paula Payer');
  await page.getByLabel('E-mail').fill(uniqueEmail('stripe'));
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();

  // Stripe's hosted Checkout page (the double's).
  await expect(page).toHaveURL(new RegExp(`^${DOUBLE_URL}/checkout/cs_`));
  await page.getByLabel('Card number').fill('4000000000000002');
  await page.getByRole('button', { name: 'Pay' }).click();
  await expect(page.getByText('Your card was declined.')).toBeVisible();
  await page.getByLabel('Card number').fill('4242424242424242');
  await page.getByRole('button', { name: 'Pay' }).click();

  // Back in Tollgate: the return page waits for the webhook, then shows the plan.
  await expect(page).toHaveURL(new RegExp(`^${STRIPE_URL}/billing/checkout\\?session_id=cs_`));
  await expect(page.getByTestId('checkout-plan')).toHaveText('Pro, trialing', { timeout: 20_000 });

  await page.getByRole('link', { name: 'See billing' }).click();
  await expect(page.getByTestId('billing-plan')).toHaveText('Pro, trialing');
  await expect(page.getByText('Paid by card through Stripe.')).toBeVisible();
  const invoice = page.locator('tr[data-status="paid"]');
  await expect(invoice).toHaveCount(1);
  await expect(invoice.getByTestId('invoice-total')).toHaveText('$0.00');
});
