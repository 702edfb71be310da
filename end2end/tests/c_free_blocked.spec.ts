import { test, expect } from '@playwright/test';
import { check, createKey, hydrated, sendQueries, signUp, uniqueEmail } from './helpers';

test("a free account's check is blocked past 110 %", async ({ page, request }) => {
  await signUp(page, uniqueEmail('free'), 'free');
  await expect(page.getByTestId('plan-card')).toHaveAttribute('data-status', 'active');
  const key = await createKey(page);

  await sendQueries(request, key, 50);
  let r = await check(request, key, { feature: 'queries' });
  expect(r.status).toBe(200);
  expect(r.body).toMatchObject({ allowed: true, state: 'limit_reached', usage: '50', limit: '50', blocks_at: '55', enforcement: 'hard' });

  await sendQueries(request, key, 4);
  r = await check(request, key, { feature: 'queries', consume: true, idempotency_key: 'q-55' });
  expect(r.body).toMatchObject({ allowed: true, usage: '54' }); // the 55th query

  r = await check(request, key, { feature: 'queries' });
  expect(r.body).toMatchObject({ allowed: false, state: 'blocked', usage: '55' }); // the 56th
  r = await check(request, key, { feature: 'queries', consume: true, idempotency_key: 'q-56' });
  expect(r.status).toBe(429);
  expect(r.body.error.code).toBe('plan_limit_exceeded');
  expect(r.body.error.details).toMatchObject({ allowed: false, state: 'blocked' });

  await page.goto('/dashboard');
  await hydrated(page);
  await expect(page.locator('[data-meter="queries"]')).toHaveAttribute('data-state', 'blocked');
  await expect(page.getByTestId('upgrade-prompt')).toContainText('Queries blocked');
  await expect(page.getByTestId('upgrade-prompt').getByRole('link')).toContainText('Upgrade to Starter');
});
