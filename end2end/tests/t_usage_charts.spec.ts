import { readFileSync } from 'node:fs';
import { test, expect } from '@playwright/test';
import { createKey, hydrated, signUp, uniqueEmail } from './helpers';

test('the dashboard charts usage over time before and after hydration, and a tab switches the meter', async ({ page, request, browser }) => {
  await signUp(page, uniqueEmail('charts'), 'starter');
  const key = await createKey(page);
  // Today's usage, and some from three days ago: before this new subscription's
  // first period, so it shows in the previous period's bar.
  const threeDaysAgo = new Date(Date.now() - 3 * 86_400_000).toISOString();
  const events = [
    ...Array.from({ length: 30 }, (_, i) => ({ meter: 'queries', quantity: 1, idempotency_key: `today-${i}`, properties: { model: 'claude' } })),
    ...Array.from({ length: 12 }, (_, i) => ({ meter: 'queries', quantity: 1, idempotency_key: `before-${i}`, timestamp: threeDaysAgo })),
  ];
  const res = await request.post('/api/v1/events', { headers: { Authorization: `Bearer ${key}` }, data: { events } });
  expect(res.status(), await res.text()).toBe(202);

  // Without JavaScript, the charts are in the page as served.
  const noJs = await browser.newContext({ javaScriptEnabled: false, storageState: await page.context().storageState() });
  const plain = await noJs.newPage();
  await plain.goto('/dashboard');
  const section = plain.getByTestId('usage-charts');
  await expect(section).toHaveAttribute('data-chart-meter', 'queries');
  const period = plain.getByTestId('chart-usage-period');
  await expect(period.locator('svg')).toBeVisible();
  await expect(period.locator('[role="img"]')).toHaveAttribute('aria-label', /30 of 500 queries used by .*; the period ends/);
  await expect(plain.getByTestId('chart-usage-periods').getByTestId('chart-summary')).toContainText('this period so far: 30 queries');
  // The numbers behind them, in tables.
  await plain.getByText('Show the numbers').click();
  await expect(plain.getByTestId('usage-periods').locator('tr').last()).toContainText('30 queries');
  await expect(plain.getByTestId('usage-periods').locator('tbody tr').nth(4)).toContainText('12 queries');
  await section.screenshot({ path: test.info().outputPath('usage-charts.png') });

  // What is owed so far, and the usage as a file, from /billing without JavaScript.
  await plain.goto('/billing');
  // The plan for the part of the period after the trial, priced as the invoice run will.
  await expect(plain.getByTestId('owed-accrued')).toContainText('Starter, monthly');
  await expect(plain.getByTestId('owed-projected').getByTestId('amount-due')).toHaveText(/^\$\d+\.\d{2}$/);
  const download = plain.waitForEvent('download');
  await plain.getByTestId('usage-export').getByRole('button', { name: 'Download CSV' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^usage-events-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv$/);
  const csv = readFileSync(await file.path(), 'utf8').trim().split('\n');
  expect(csv[0]).toBe('id,meter,occurred_at,received_at,quantity,user_id,idempotency_key,properties');
  expect(csv.length).toBe(1 + 42);
  await noJs.close();

  // Hydrated, a tab changes the meter without reloading the page.
  await page.goto('/dashboard');
  await hydrated(page);
  await page.evaluate(() => ((window as any).__not_reloaded = true));
  await page.getByRole('navigation', { name: 'Meter' }).getByRole('link', { name: 'Tokens' }).click();
  await expect(page).toHaveURL(/\/dashboard\?meter=tokens$/);
  await expect(page.getByTestId('usage-charts')).toHaveAttribute('data-chart-meter', 'tokens');
  await expect(page.getByRole('link', { name: 'Tokens' })).toHaveAttribute('aria-current', 'page');
  await expect(page.getByTestId('chart-usage-period').getByTestId('chart-summary')).toContainText(/0 (of .* )?tokens? used by/);
  expect(await page.evaluate(() => (window as any).__not_reloaded)).toBe(true);
});
