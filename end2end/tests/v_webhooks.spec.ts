import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { test, expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { createKey, hydrated, sendQueries, signUp, uniqueEmail } from './helpers';

// The customer's receiver. The e2e servers may deliver to 127.0.0.1
// (TOLLGATE_WEBHOOK_ALLOW_PRIVATE_TARGETS=true in scripts/test.sh).
const PORT = 3197;
type Received = { headers: IncomingHttpHeaders; body: string };
const received: Received[] = [];
let server: Server;

test.beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(204);
      res.end();
    });
  });
  await new Promise<void>((done) => server.listen(PORT, '127.0.0.1', done));
});

test.afterAll(async () => {
  await new Promise((done) => server.close(done));
});

/** Standard Webhooks' scheme: HMAC-SHA256 of "id.timestamp.body" with the secret's bytes. */
function signedBy(secret: string, r: Received): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const mac = createHmac('sha256', key)
    .update(`${r.headers['webhook-id']}.${r.headers['webhook-timestamp']}.${r.body}`)
    .digest('base64');
  return String(r.headers['webhook-signature']).split(' ').includes(`v1,${mac}`);
}

test('an owner adds an endpoint, sees the delivery of a usage threshold and replays it', async ({ page, request }) => {
  await signUp(page, uniqueEmail('webhooks'), 'starter');
  const key = await createKey(page);

  await page.goto('/settings/webhooks');
  await hydrated(page);
  await expect(page.getByTestId('no-endpoints')).toBeVisible();
  const url = `http://127.0.0.1:${PORT}/tollgate`;
  await page.getByLabel('URL').fill(url);
  await page.getByLabel('Description (optional)').fill('Usage alerts');
  await page.getByRole('checkbox', { name: 'usage.threshold_reached' }).check();
  await page.getByRole('button', { name: 'Add endpoint' }).click();
  const secretBox = page.getByTestId('webhook-secret');
  await expect(secretBox).toHaveValue(/^whsec_[A-Za-z0-9+/]{32}$/);
  const secret = await secretBox.inputValue();
  const row = page.locator(`tr[data-endpoint="${url}"]`);
  await expect(row).toContainText('usage.threshold_reached');
  await expect(row.getByTestId('endpoint-state')).toHaveText('Enabled');

  // 260 of Starter's 500 queries: the 50 % threshold (on the other server process).
  await sendQueries(request, key, 260);
  await expect.poll(() => received.length, { timeout: 15_000 }).toBe(1);
  const first = received[0];
  const body = JSON.parse(first.body);
  expect(body.type).toBe('usage.threshold_reached');
  expect(body.data.object).toMatchObject({ meter: 'queries', percent: '50', limit: '500' });
  expect(signedBy(secret, first)).toBe(true);

  // The delivery log.
  await row.getByRole('link', { name: 'Deliveries' }).click();
  await expect(page).toHaveURL(/\/settings\/webhooks\?endpoint=/);
  const delivery = page.locator('tr[data-event-type="usage.threshold_reached"]');
  await expect(delivery).toHaveCount(1);
  await expect(delivery).toHaveAttribute('data-status', 'succeeded');
  await expect(delivery).toContainText('204');

  // Its detail: the request as sent and the answer of each attempt.
  await delivery.getByRole('link', { name: 'usage.threshold_reached' }).click();
  const detail = page.getByTestId('delivery-detail');
  await expect(detail.locator('pre')).toHaveText(first.body);
  await expect(detail.locator('tbody tr')).toHaveCount(1);
  await expect(detail.locator('tbody tr')).toContainText('204');

  const axe = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  expect(axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id)).toEqual([]);

  // Replay: the same event again, with the same webhook-id.
  await hydrated(page);
  await delivery.getByRole('button', { name: /^Replay/ }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Replay queued' })).toBeVisible();
  await expect.poll(() => received.length, { timeout: 15_000 }).toBe(2);
  expect(received[1].headers['webhook-id']).toBe(first.headers['webhook-id']);
  expect(signedBy(secret, received[1])).toBe(true);
  await expect(async () => {
    await page.reload();
    await expect(page.locator('tr[data-event-type="usage.threshold_reached"][data-status="succeeded"]')).toHaveCount(2);
  }).toPass({ timeout: 10_000 });
  await expect(page.getByText('(replay)')).toBeVisible();

  // Disabling asks nothing; deleting asks first.
  await page.goto('/settings/webhooks');
  await row.getByRole('button', { name: 'Disable' }).click();
  await expect(row.getByTestId('endpoint-state')).toHaveText('Disabled');
  await row.getByRole('link', { name: 'Delete…' }).click();
  await expect(page.getByTestId('confirm-delete')).toContainText(`Delete ${url}`);
  await page.getByTestId('confirm-delete').getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByTestId('no-endpoints')).toBeVisible();
});
