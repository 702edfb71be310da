import { execFileSync } from 'node:child_process';
import { expect, type APIRequestContext, type Page } from '@playwright/test';
import { waitForMail } from './mail';

export const SECOND_URL = process.env.E2E_SECOND_URL ?? 'http://127.0.0.1:3101';
export const PASSWORD = 'correct horse battery';

/** A fresh e-mail address for one test. */
export function uniqueEmail(tag: string): string {
  return `${tag}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@e2e.test`;
}

/**
 * Waits until the page is hydrated (the WASM bundle has run). The public pages
 * load no bundle (`<html data-hydrates="false">`, app/src/hydration.rs): they are
 * ready as soon as they are loaded.
 */
export async function hydrated(page: Page): Promise<void> {
  await page.waitForFunction(
    () => document.documentElement.dataset.hydrates === 'false' || (window as any).__tollgate_hydrated === true,
  );
}

/**
 * Signs up through the form, with `plan` pre-selected (or none), then opens the
 * link e-mailed to the address in the page, as the new user would: it confirms
 * the address and logs in, landing on the pricing page. With a plan, that plan is
 * marked there and chosen (the page ends on the dashboard).
 */
export async function signUp(page: Page, email: string, plan?: string, interval = 'month'): Promise<void> {
  await signUpAndConfirm(page, email, plan, interval);
  await expect(page).toHaveURL(plan ? /\/dashboard$/ : /\/pricing\?welcome=1$/);
}

/**
 * [signUp] on the server at `base` ('' for the default one), stopping once the
 * plan was chosen (a card-paid plan then goes on to Checkout).
 */
export async function signUpAndConfirm(page: Page, email: string, plan?: string, interval = 'month', base = ''): Promise<void> {
  await page.goto(`${base}${plan ? `/signup?plan=${plan}&interval=${interval}` : '/signup'}`);
  await hydrated(page);
  await page.getByLabel('Name').fill('E2E Tester');
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL(/\/signup\?sent=1$/);
  await expect(page.getByTestId('sign-up-sent')).toContainText('We sent a link');
  await openConfirmation(page, email);
  await expect(page).toHaveURL(plan ? new RegExp(`/pricing\\?welcome=1&interval=${interval}&chosen=${plan}$`) : /\/pricing\?welcome=1$/);
  await expect(page.getByRole('status').filter({ hasText: 'Your e-mail address is confirmed' })).toBeVisible();
  if (plan) {
    const card = page.locator(`[data-plan="${plan}"]`);
    await expect(card).toHaveAttribute('data-chosen', 'true');
    await hydrated(page);
    await card.getByRole('button', { name: /^Choose / }).click();
  }
}

/**
 * Opens, in the page, the e-mail verification link sent to `email` (the latest),
 * as a mail client would: it confirms the address and logs its user in.
 */
export async function openConfirmation(page: Page, email: string): Promise<void> {
  const mail = await waitForMail(email, /Confirm your e-mail address/);
  expect(mail.link).toContain('/verify-email?token=');
  await page.goto(mail.link!);
}

/** Creates an API key on the settings page and returns its secret. */
export async function createKey(page: Page, name = 'e2e backend'): Promise<string> {
  await page.goto('/settings/api-keys');
  await hydrated(page);
  await page.getByLabel('Name').fill(name);
  await page.getByRole('button', { name: 'Create key' }).click();
  const secret = page.getByTestId('new-key-secret');
  await expect(secret).toHaveValue(/^tg_sk_[A-Za-z0-9]{32}$/);
  await expect(page.locator(`tr[data-key="${name}"]`)).toBeVisible();
  return secret.inputValue();
}

let batch = 0;

/** Sends `count` queries through /api/v1/events on `baseURL`. */
export async function sendQueries(request: APIRequestContext, key: string, count: number, baseURL = SECOND_URL): Promise<void> {
  batch += 1;
  const events = Array.from({ length: count }, (_, i) => ({
    meter: 'queries',
    quantity: 1,
    idempotency_key: `e2e-${Date.now()}-${batch}-${i}`,
  }));
  const res = await request.post(`${baseURL}/api/v1/events`, {
    headers: { Authorization: `Bearer ${key}` },
    data: { events },
  });
  expect(res.status(), await res.text()).toBe(202);
  expect(await res.json()).toEqual({ accepted: count, duplicates: 0 });
}

/** POST /api/v1/check. */
export async function check(request: APIRequestContext, key: string, body: object) {
  const res = await request.post(`${SECOND_URL}/api/v1/check`, {
    headers: { Authorization: `Bearer ${key}` },
    data: body,
  });
  return { status: res.status(), body: await res.json() };
}

/** Creates a super admin with the operator CLI on the e2e database. */
export function createSuperAdmin(email: string): void {
  const bin = process.env.E2E_TOLLGATE_BIN;
  const db = process.env.E2E_DATABASE_URL;
  if (!bin || !db) throw new Error('E2E_TOLLGATE_BIN and E2E_DATABASE_URL must be set (see scripts/test.sh)');
  execFileSync(bin, ['users', 'create', '--email', email, '--name', 'Sam Super', '--password', PASSWORD, '--super-admin'], {
    env: { ...process.env, DATABASE_URL: db, RUST_LOG: 'warn' },
    stdio: 'pipe',
  });
}

/** Logs in through the form and waits for the redirect to `next`. */
export async function logIn(page: Page, email: string, next: string): Promise<void> {
  await page.goto(`/login?next=${encodeURIComponent(next)}`);
  await hydrated(page);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL(new RegExp(`${next}$`));
}

/** From the admin's user search, opens the admin page of the user `email` and waits for hydration. */
export async function openAdminUser(page: Page, email: string): Promise<void> {
  await page.getByLabel('E-mail or name').fill(email);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.locator(`tr[data-email="${email}"]`).getByRole('link').first().click();
  await expect(page).toHaveURL(/\/admin\/users\/[0-9a-f-]{36}$/);
  await hydrated(page);
}

/** Creates a platform key with the operator CLI on the e2e database; returns its secret. */
export function createPlatformKey(name = 'e2e platform'): string {
  const bin = process.env.E2E_TOLLGATE_BIN;
  const db = process.env.E2E_DATABASE_URL;
  if (!bin || !db) throw new Error('E2E_TOLLGATE_BIN and E2E_DATABASE_URL must be set (see scripts/test.sh)');
  return execFileSync(bin, ['keys', 'create', '--platform', '--name', name], {
    env: { ...process.env, DATABASE_URL: db, RUST_LOG: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
    .toString()
    .trim();
}
