import { test, expect, type Page } from '@playwright/test';
import { hydrated, signUpAndConfirm, uniqueEmail } from './helpers';

// Issue 12: "the browser bundle ≤ 350 KB gzipped for the public pages". The public
// pages (app/src/hydration.rs) load no script file: a visitor downloads no WASM and
// no JavaScript there. Measured here in the browser, by what it fetched.
const PUBLIC_PAGES = ['/', '/pricing', '/pricing?interval=year', '/signup', '/login', '/forgot-password', '/reset-password'];

/** Script and WASM files fetched while `path` loads, with the bytes sent (compressed). */
async function codeFetched(page: Page, path: string): Promise<{ url: string; bytes: number }[]> {
  const seen: import('@playwright/test').Request[] = [];
  const onFinished = (req: import('@playwright/test').Request) => {
    const url = req.url();
    if (req.resourceType() === 'script' || url.endsWith('.wasm') || (url.includes('/pkg/') && !url.endsWith('.css'))) {
      seen.push(req);
    }
  };
  page.on('requestfinished', onFinished);
  await page.goto(path);
  await page.waitForLoadState('networkidle');
  page.off('requestfinished', onFinished);
  return Promise.all(seen.map(async (req) => ({ url: req.url(), bytes: (await req.sizes()).responseBodySize })));
}

test('the public pages download no script or WASM; a signed-in page loads the app', async ({ page }) => {
  for (const path of PUBLIC_PAGES) {
    const code = await codeFetched(page, path);
    expect(code, path).toEqual([]);
    await expect(page.locator('html')).toHaveAttribute('data-hydrates', 'false');
    await expect(page.locator('script[src], link[rel="modulepreload"]')).toHaveCount(0);
    // Leptos still writes its two empty bookkeeping lines inline; no data rides along.
    for (const inline of await page.locator('script').allTextContents()) {
      expect(inline, path).not.toContain('__RESOLVED_RESOURCES[');
    }
    console.log(`${path}: no script file, no WASM`);
  }

  await signUpAndConfirm(page, uniqueEmail('static'), 'free');
  const code = await codeFetched(page, '/dashboard');
  await hydrated(page);
  const wasm = code.filter((r) => r.url.endsWith('.wasm'));
  expect(wasm).toHaveLength(1);
  expect(wasm[0].bytes).toBeGreaterThan(0);
  console.log(`/dashboard (signed in): ${code.length} files, WASM ${wasm[0].bytes} bytes as sent`);

  // A public page reached from the app by a link stays in the app (no reload).
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Pricing' }).click();
  await expect(page).toHaveURL(/\/pricing$/);
  expect(await page.evaluate(() => (window as any).__tollgate_hydrated)).toBe(true);
});
