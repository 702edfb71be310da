import { test, expect } from '@playwright/test';
import { hydrated, signUpAndConfirm, uniqueEmail } from './helpers';

// A third `tollgate serve` (E2E_STRIPE_URL) is configured for Stripe, pointed at the
// project's Stripe test double (E2E_DOUBLE_URL), which delivers signed webhooks to it.
const STRIPE_URL = process.env.E2E_STRIPE_URL ?? 'http://127.0.0.1:3102';
const DOUBLE_URL = process.env.E2E_DOUBLE_URL ?? 'http://127.0.0.1:12111';

test('a visitor signs up for Pro, pays in Checkout after a declined card, and sees the plan and the invoice', async ({ page }) => {
  await signUpAndConfirm(page, uniqueEmail('stripe'), 'pro', 'month', STRIPE_URL);

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

test('a failed renewal shows the past-due banner, and a new card in the Portal pays and restores the plan', async ({ page, request }) => {
  const email = uniqueEmail('dunning');
  await signUpAndConfirm(page, email, 'starter', 'month', STRIPE_URL);
  await expect(page).toHaveURL(new RegExp(`^${DOUBLE_URL}/checkout/cs_`));
  await page.getByLabel('Card number').fill('4242424242424242');
  await page.getByRole('button', { name: 'Pay' }).click();
  await expect(page.getByTestId('checkout-plan')).toHaveText('Starter, trialing', { timeout: 20_000 });

  // Stripe's side: the card on file starts failing, and the trial reaches its end.
  const auth = { Authorization: 'Bearer sk_test_e2e' };
  const customers = await (await request.get(`${DOUBLE_URL}/v1/customers?email=${encodeURIComponent(email)}`, { headers: auth })).json();
  const customer = customers.data[0].id as string;
  const subscriptions = await (await request.get(`${DOUBLE_URL}/v1/subscriptions?customer=${customer}`, { headers: auth })).json();
  const subscription = subscriptions.data[0].id as string;
  expect((await request.post(`${DOUBLE_URL}/_double/customers/${customer}/card`, { form: { number: '4000000000000341' } })).status()).toBe(200);
  expect((await request.post(`${DOUBLE_URL}/_double/subscriptions/${subscription}/advance`)).status()).toBe(200);

  // Past due: the plan still applies during the grace period, with a banner.
  await expect(async () => {
    await page.goto(`${STRIPE_URL}/dashboard`);
    await expect(page.getByTestId('past-due-banner')).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
  await expect(page.getByTestId('past-due-banner')).toContainText('Your last payment failed.');
  await expect(page.getByTestId('renewal-prompt')).toHaveCount(0);

  // The owner opens the Portal from /billing and replaces the card.
  await page.getByRole('link', { name: 'Go to billing' }).click();
  await expect(page.getByTestId('billing-plan')).toHaveText('Starter, past due');
  await page.getByRole('button', { name: 'Manage payment method' }).click();
  await expect(page).toHaveURL(new RegExp(`^${DOUBLE_URL}/portal/`));
  await page.getByLabel('Card number').fill('4242424242424242');
  await page.getByRole('button', { name: 'Update card' }).click();
  await expect(page.getByText('Card updated.')).toBeVisible();
  await page.getByRole('link', { name: 'Return' }).click();
  await expect(page).toHaveURL(`${STRIPE_URL}/billing`);

  // The new card pays the open invoice: active again, banner gone.
  await expect(async () => {
    await page.goto(`${STRIPE_URL}/billing`);
    await expect(page.getByTestId('billing-plan')).toHaveText('Starter, active', { timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
  await expect(page.locator('tr[data-status="paid"]')).toHaveCount(2);
  await page.goto(`${STRIPE_URL}/dashboard`);
  await expect(page.getByTestId('plan-card')).toHaveAttribute('data-status', 'active');
  await expect(page.getByTestId('past-due-banner')).toHaveCount(0);
});

test('a customer changes plan after a proration preview, schedules a downgrade, and cancels then reactivates', async ({ page, request }) => {
  const email = uniqueEmail('upgrade');
  await signUpAndConfirm(page, email, 'starter', 'month', STRIPE_URL);
  await expect(page).toHaveURL(new RegExp(`^${DOUBLE_URL}/checkout/cs_`));
  await page.getByLabel('Card number').fill('4242424242424242');
  await page.getByRole('button', { name: 'Pay' }).click();
  await expect(page.getByTestId('checkout-plan')).toHaveText('Starter, trialing', { timeout: 20_000 });

  // The trial ends on Stripe's clock: Starter is active and paid.
  const auth = { Authorization: 'Bearer sk_test_e2e' };
  const customers = await (await request.get(`${DOUBLE_URL}/v1/customers?email=${encodeURIComponent(email)}`, { headers: auth })).json();
  const subscriptions = await (await request.get(`${DOUBLE_URL}/v1/subscriptions?customer=${customers.data[0].id}`, { headers: auth })).json();
  expect((await request.post(`${DOUBLE_URL}/_double/subscriptions/${subscriptions.data[0].id}/advance`)).status()).toBe(200);
  await expect(async () => {
    await page.goto(`${STRIPE_URL}/billing`);
    await expect(page.getByTestId('billing-plan')).toHaveText('Starter, active', { timeout: 1_000 });
  }).toPass({ timeout: 20_000 });

  // Upgrade: the preview shows Stripe's proration lines and what is charged now.
  await page.goto(`${STRIPE_URL}/pricing`);
  await hydrated(page);
  await page.getByRole('link', { name: 'Switch to Pro' }).click();
  await expect(page.getByTestId('change-to')).toHaveText('Pro, billed every month');
  await expect(page.getByText('Charged now to your card')).toBeVisible();
  const proration = (await page.getByTestId('proration').innerText()).trim();
  expect(proration).toMatch(/^\+\$(29|30)\.\d\d$/);
  await expect(page.getByTestId('proration-lines').locator('tr')).toHaveCount(2);
  await expect(page.getByTestId('proration-lines')).toContainText('Unused time');
  await hydrated(page);
  await page.getByRole('button', { name: 'Confirm change' }).click();
  await expect(page).toHaveURL(`${STRIPE_URL}/dashboard`);

  // The new plan at once, and the proration invoice for exactly the previewed amount.
  await page.goto(`${STRIPE_URL}/billing`);
  await expect(page.getByTestId('billing-plan')).toHaveText('Pro, active');
  await expect(async () => {
    await page.goto(`${STRIPE_URL}/billing`);
    await expect(page.locator('tr[data-status="paid"]').getByTestId('invoice-total').filter({ hasText: proration.slice(1) })).toHaveCount(1, { timeout: 1_000 });
  }).toPass({ timeout: 20_000 });

  // Downgrade at the period end: nothing charged now, Pro until then; then undone.
  await page.goto(`${STRIPE_URL}/billing/change?plan=starter&interval=month`);
  await page.getByTestId('other-timing').click();
  await expect(page).toHaveURL(/timing=period_end/);
  await expect(page.getByTestId('proration')).toHaveCount(0);
  await hydrated(page);
  await page.getByRole('button', { name: 'Schedule change' }).click();
  await expect(page).toHaveURL(`${STRIPE_URL}/billing`);
  await expect(page.getByTestId('billing-plan')).toHaveText('Pro, active');
  await expect(page.getByTestId('scheduled-notice')).toContainText('Changes to Starter, billed every month on');
  await hydrated(page);
  await page.getByRole('button', { name: 'Keep my current plan' }).click();
  await expect(page.getByTestId('scheduled-notice')).toHaveCount(0);

  // Cancel at the period end after a confirmation, then reactivate.
  await page.getByRole('link', { name: 'Cancel subscription' }).click();
  await expect(page.getByTestId('cancel-summary')).toContainText('Pro ends on');
  await hydrated(page);
  await page.getByRole('button', { name: 'Cancel at period end' }).click();
  await expect(page).toHaveURL(`${STRIPE_URL}/billing`);
  await expect(page.getByTestId('ends-notice')).toContainText('Your subscription ends on');
  await hydrated(page);
  await page.getByRole('button', { name: 'Reactivate subscription' }).click();
  await expect(page.getByTestId('ends-notice')).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'Cancel subscription' })).toBeVisible();
});
