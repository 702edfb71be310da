import { test, expect } from '@playwright/test';
import { PASSWORD, createSuperAdmin, logIn, signUp, uniqueEmail } from './helpers';

// The e2e database is shared by every spec, so the figures are checked for shape
// and direction here; their exact values are asserted in the Rust tests.
test('the business overview: figures, three server-drawn charts with text alternatives, the monthly table and its CSV, with and without JavaScript', async ({ page, browser }) => {
  // A customer starting Pro's trial: trial MRR includes its $49.
  const customer = await browser.newContext();
  const customerPage = await customer.newPage();
  await signUp(customerPage, uniqueEmail('analytics'), 'pro');
  expect((await customerPage.request.get('/admin/analytics.csv')).status()).toBe(403);
  await customer.close();

  const adminEmail = uniqueEmail('analyst');
  createSuperAdmin(adminEmail);
  await logIn(page, adminEmail, '/admin');
  await expect(page.getByRole('heading', { name: 'Business overview' })).toBeVisible();
  await expect(page.getByTestId('analytics-scope')).toContainText('Amounts in USD');
  await expect(page.getByTestId('figure-mrr')).toContainText('$');
  const trial = await page.getByTestId('figure-trial-mrr').locator('dd').first().innerText();
  expect(Number(trial.replace(/[$,]/g, ''))).toBeGreaterThanOrEqual(49);
  await expect(page.getByTestId('by-plan')).toContainText('Pro');

  for (const id of ['mrr', 'movements', 'cash']) {
    const figure = page.getByTestId(`chart-${id}`);
    await expect(figure.locator('svg')).toBeVisible();
    // The picture is one image named by its title and summary (the SVG inside is presentational).
    await expect(figure.getByRole('img', { name: /\(USD\)\. / })).toBeVisible();
    await expect(figure.getByTestId('chart-summary')).not.toBeEmpty();
  }
  await expect(page.getByTestId('analytics-months').locator('tbody tr')).toHaveCount(12);
  await page.getByText('How these figures are defined').click();
  await expect(page.getByTestId('analytics-definitions')).toContainText('Net revenue retention');

  const csv = await page.request.get('/admin/analytics.csv');
  expect(csv.status()).toBe(200);
  expect(csv.headers()['content-type']).toContain('text/csv');
  const lines = (await csv.text()).trim().split('\n');
  expect(lines[0]).toMatch(/^month,month_start,month_end,partial,currency,opening_mrr,/);
  expect(lines).toHaveLength(13);
  expect(lines[12]).toContain(',true,USD,');

  // Before hydration (no JavaScript at all) the charts are already there.
  const noScript = await browser.newContext({ javaScriptEnabled: false });
  const plain = await noScript.newPage();
  await plain.goto('/login?next=/admin');
  await plain.getByLabel('E-mail').fill(adminEmail);
  await plain.getByLabel('Password').fill(PASSWORD);
  await plain.getByRole('button', { name: 'Log in' }).click();
  await expect(plain).toHaveURL(/\/admin$/);
  await expect(plain.getByTestId('chart-movements').locator('svg')).toBeVisible();
  await expect(plain.getByTestId('analytics-months').locator('tbody tr')).toHaveCount(12);
  await noScript.close();
});
