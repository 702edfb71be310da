import { test, expect } from '@playwright/test';
import { hydrated } from './helpers';

test('the estimator prices every plan for the usage typed and marks the cheapest that serves it', async ({ page }) => {
  await page.goto('/pricing');
  await hydrated(page);
  await page.getByLabel('Queries (query)').fill('2000');
  await page.getByLabel('Documents (document)').fill('50');
  await page.getByRole('button', { name: 'Estimate' }).click();
  await expect(page).toHaveURL(/usage\.queries=2000/);

  // One seat: Team ($39 a seat) is cheaper than Pro ($49); Free and Starter cannot
  // serve it (their hard limits).
  const row = (plan: string) => page.locator(`[data-estimate-plan="${plan}"]`);
  await expect(row('team')).toHaveAttribute('data-cheapest', 'true');
  await expect(row('team').getByTestId('estimate-total')).toHaveText('$39.00');
  await expect(row('team')).toContainText('Cheapest for this usage');
  await expect(row('pro').getByTestId('estimate-total')).toHaveText('$49.00');
  await expect(row('free')).toContainText('Not enough Queries');
  await expect(row('starter')).toContainText('Not enough Documents');
  await expect(page.locator('[data-cheapest]')).toHaveCount(1);
  await expect(page.getByLabel('Queries (query)')).toHaveValue('2000');

  // Three seats: Team is $117, Pro stays $49.
  await page.getByLabel('Seats').fill('3');
  await page.getByRole('button', { name: 'Estimate' }).click();
  await expect(row('pro')).toHaveAttribute('data-cheapest', 'true');
  await expect(row('team').getByTestId('estimate-total')).toHaveText('$117.00');

  // On an annual bill the allowances stay monthly: 50 documents still need Pro or Team.
  await page.goto('/pricing?interval=year&seats=2&usage.documents=50');
  await expect(row('pro')).toHaveAttribute('data-cheapest', 'true');
  await expect(row('pro').getByTestId('estimate-total')).toHaveText('$490.00');
  await expect(row('team').getByTestId('estimate-total')).toHaveText('$780.00');

  // Not a number: said plainly, nothing priced.
  await page.goto('/pricing');
  await hydrated(page);
  await page.getByLabel('Queries (query)').fill('lots');
  await page.getByRole('button', { name: 'Estimate' }).click();
  await expect(page.getByText('Queries: enter a number from 0 to 1,000,000,000,000.')).toBeVisible();
  await expect(page.locator('[data-estimate-plan]')).toHaveCount(0);
  await page.getByLabel('Queries (query)').fill('10');
  await page.getByLabel('Seats').fill('0');
  await page.getByRole('button', { name: 'Estimate' }).click();
  await expect(page.getByText('Seats: enter a whole number from 1 to 100,000.')).toBeVisible();
});
