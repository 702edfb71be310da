import { createServer, type Server } from 'node:http';
import { test, expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { createKey, createPlatformKey, sendQueries, signUp, uniqueEmail } from './helpers';

// The customer's product: pages on another origin than Tollgate's. The e2e
// servers allow http://localhost:3199 to frame widgets (scripts/test.sh,
// TOLLGATE_EMBED_ORIGINS); http://localhost:3198 is not allowed.
const PRODUCT = 'http://localhost:3199';
const STRANGER = 'http://localhost:3198';
const TOLLGATE = process.env.E2E_BASE_URL ?? 'http://127.0.0.1:3100';

let pageHtml = '';
const servers: Server[] = [];

test.beforeAll(async () => {
  for (const port of [3199, 3198]) {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(pageHtml);
    });
    await new Promise<void>((done) => server.listen(port, '127.0.0.1', done));
    servers.push(server);
  }
});

test.afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((done) => s.close(done))));
});

test('the usage meter and the pricing table, framed by the product on another origin, move live', async ({ page, request }) => {
  await signUp(page, uniqueEmail('embed'), 'starter');
  const key = await createKey(page);
  const account = await (await request.get('/api/v1/usage', { headers: { Authorization: `Bearer ${key}` } })).json();
  const platform = createPlatformKey();

  // What the product's backend does: a token for this account and origin.
  const res = await request.post('/api/v1/embed_tokens', {
    headers: { Authorization: `Bearer ${platform}` },
    data: { account: account.account, widgets: ['usage', 'pricing'], origin: PRODUCT },
  });
  expect(res.status(), await res.text()).toBe(200);
  const { token } = await res.json();
  pageHtml = `<!doctype html><html lang="en"><head><title>Acme</title></head><body><main><h1>Acme dashboard</h1>
    <script src="${TOLLGATE}/embed.js" data-widget="usage" data-token="${token}"></script>
    <script src="${TOLLGATE}/embed.js" data-widget="pricing" data-token="${token}"></script></main></body></html>`;

  const product = await page.context().browser()!.newContext();
  const host = await product.newPage();
  await host.goto(`${PRODUCT}/`);
  const usage = host.frameLocator('iframe[data-tollgate-widget="usage"]');
  const queries = usage.locator('section[data-meter="queries"]');
  await expect(queries.locator('[data-part="used"]')).toHaveText(/^0 of [\d,]+ queries$/);
  await expect(queries.getByRole('progressbar')).toHaveAttribute('aria-valuenow', '0');
  // Usage sent to the other server process arrives without a reload.
  await sendQueries(request, key, 7);
  await expect(queries.locator('[data-part="used"]')).toHaveText(/^7 of [\d,]+ queries$/, { timeout: 10_000 });
  // The frame grew to its content.
  const height = await host.locator('iframe[data-tollgate-widget="usage"]').evaluate((f) => (f as HTMLIFrameElement).getBoundingClientRect().height);
  expect(height).toBeGreaterThan(160);

  const pricing = host.frameLocator('iframe[data-tollgate-widget="pricing"]');
  await expect(pricing.locator('article[data-plan="starter"]')).toHaveAttribute('data-current', 'true');
  await expect(pricing.getByRole('link', { name: 'Choose Pro' })).toHaveAttribute('target', '_blank');

  const axe = await new AxeBuilder({ page: host }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const serious = axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help}`);
  expect(serious).toEqual([]);
  await host.screenshot({ path: test.info().outputPath('embedded.png'), fullPage: true });

  // Another site framing the same widget gets nothing: frame-ancestors names the product only.
  const stranger = await product.newPage();
  const refused: string[] = [];
  stranger.on('console', (m) => refused.push(m.text()));
  await stranger.goto(`${STRANGER}/`);
  await stranger.waitForLoadState('load');
  await expect
    .poll(() => refused.some((t) => t.includes('frame-ancestors')) || stranger.frames().some((f) => f.url().startsWith('chrome-error://')))
    .toBe(true);
  await expect(stranger.frameLocator('iframe[data-tollgate-widget="usage"]').locator('section[data-meter="queries"]')).toHaveCount(0);
  await product.close();
});
