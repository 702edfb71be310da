import { test, expect } from '@playwright/test';
import { createKey, hydrated, sendQueries, signUp, uniqueEmail } from './helpers';

test('an API key from the UI reports usage and the meter, banner and upgrade prompt follow live', async ({ page, request }) => {
  await signUp(page, uniqueEmail('live'), 'starter');
  const key = await createKey(page);

  await page.goto('/dashboard');
  await hydrated(page);
  await expect(page.getByTestId('live-status')).toHaveAttribute('data-live', 'true');
  // Any reload would lose this marker.
  await page.evaluate(() => ((window as any).__not_reloaded = true));
  const queries = page.locator('[data-meter="queries"]');

  // Events go to the second server process; the dashboard is on the first.
  await sendQueries(request, key, 1);
  await expect(queries).toHaveAttribute('data-usage', '1', { timeout: 2_000 });

  await sendQueries(request, key, 449);
  await expect(queries).toHaveAttribute('data-usage', '450', { timeout: 2_000 });
  await expect(queries).toHaveAttribute('data-state', 'warning');
  await expect(page.getByTestId('usage-banner')).toContainText('Queries (90 %)');
  await expect(page.getByTestId('upgrade-prompt')).toHaveCount(0);

  await sendQueries(request, key, 50);
  await expect(queries).toHaveAttribute('data-usage', '500', { timeout: 2_000 });
  await expect(queries).toHaveAttribute('data-state', 'limit_reached');
  await expect(page.getByTestId('upgrade-prompt')).toContainText('You have reached your Queries limit');
  await expect(page.getByTestId('upgrade-prompt').getByRole('link')).toContainText('Upgrade to Pro');
  await expect(page.getByTestId('usage-banner')).toHaveCount(0);

  // Each threshold notified once, newest first.
  const titles = page.getByTestId('notifications').locator('li p:first-child');
  await expect(titles).toHaveText([
    'Queries: 100 % of your limit',
    'Queries: 90 % used',
    'Queries: 75 % used',
    'Queries: 50 % used',
  ]);
  expect(await page.evaluate(() => (window as any).__not_reloaded)).toBe(true);

  // The key list shows when the key was last used.
  await page.goto('/settings/api-keys');
  await expect(page.locator('tr[data-key="e2e backend"]').getByTestId('last-used')).not.toHaveText('Never');
});
