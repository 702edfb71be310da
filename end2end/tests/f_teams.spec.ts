import { test, expect, type Browser } from '@playwright/test';
import { createKey, hydrated, PASSWORD, SECOND_URL, signUp, uniqueEmail } from './helpers';
import { waitForMail } from './mail';

/** A second, separate browser session (another person's tab). */
async function otherPerson(browser: Browser, baseURL: string | undefined) {
  const context = await browser.newContext({ baseURL });
  return { context, page: await context.newPage() };
}

test('a team admin invites a member, who joins and sees team usage, then changes the role and removes them', async ({ page, browser, request, baseURL }) => {
  test.setTimeout(120_000);
  const ownerEmail = uniqueEmail('owner');
  const memberEmail = uniqueEmail('member');
  const slug = `team-${Date.now().toString(36)}`;

  // The owner signs up and creates an organization.
  await signUp(page, ownerEmail);
  await page.goto('/orgs/new');
  await hydrated(page);
  await page.getByLabel('Name').fill('E2E Team');
  await page.getByLabel('Address').fill(slug);
  await page.getByLabel('Billing e-mail').fill(ownerEmail);
  await page.getByRole('button', { name: 'Create organization' }).click();
  await expect(page).toHaveURL(new RegExp(`/orgs/${slug}/billing$`));
  await expect(page.getByTestId('acting-for')).toContainText('you are owner');
  await expect(page.getByTestId('account-switcher').locator('option[selected]')).toContainText('E2E Team');

  // A team plan, priced per seat: one seat for the owner, then one more.
  await page.locator('li[data-plan="team"][data-interval="month"]').getByRole('button', { name: 'Choose' }).click();
  await expect(page.getByTestId('org-plan')).toContainText('Team, trialing');
  await expect(page.getByTestId('seats-line')).toContainText('1 of 1 seats used');
  await page.getByLabel('Seats bought').fill('2');
  await page.getByRole('button', { name: 'Update seats' }).click();
  await expect(page.getByTestId('seats-line')).toContainText('1 of 2 seats used');

  // Invite the member.
  await page.goto(`/orgs/${slug}/members`);
  await hydrated(page);
  await page.getByLabel('E-mail').fill(memberEmail);
  await page.getByLabel('Role', { exact: true }).selectOption('member');
  await page.getByRole('button', { name: 'Send invitation' }).click();
  await expect(page.locator(`tr[data-invitation="${memberEmail}"]`)).toBeVisible();
  await expect(page.getByTestId('seats-line')).toContainText('2 of 2 seats used');

  // The owner's session acts for the organization: a key for it reports usage by member.
  const key = await createKey(page, 'team backend');

  // The member opens the link from the e-mail, signs up there and joins.
  const mail = await waitForMail(memberEmail, /invited you to join E2E Team/);
  expect(mail.link).toMatch(/\/invite\/[A-Za-z0-9]{43}$/);
  const member = await otherPerson(browser, baseURL);
  await member.page.goto(new URL(mail.link!).pathname);
  await hydrated(member.page);
  await expect(member.page.getByTestId('invitation')).toContainText(memberEmail);
  await member.page.getByLabel('Name').fill('Mia Member');
  await member.page.getByLabel('Password').fill(PASSWORD);
  await member.page.getByRole('button', { name: 'Create account and join' }).click();
  await expect(member.page).toHaveURL(new RegExp(`/orgs/${slug}/usage$`));
  await expect(member.page.getByTestId('acting-for')).toContainText('you are member');

  // Usage sent for the member shows live on the meters and in the member's row.
  await hydrated(member.page);
  await expect(member.page.getByTestId('live-status')).toHaveAttribute('data-live', 'true');
  const res = await request.post(`${SECOND_URL}/api/v1/events`, {
    headers: { Authorization: `Bearer ${key}` },
    data: { events: [1, 2, 3].map((i) => ({ meter: 'queries', quantity: 1, user: memberEmail, idempotency_key: `team-${slug}-${i}` })) },
  });
  expect(res.status(), await res.text()).toBe(202);
  await expect(member.page.locator('[data-meter="queries"]').first()).toHaveAttribute('data-usage', '3', { timeout: 2_000 });
  await member.page.reload();
  await expect(member.page.locator(`tr[data-member="${memberEmail}"] td[data-meter="queries"]`)).toHaveText('3');

  // The owner makes the member a viewer.
  await page.goto(`/orgs/${slug}/members`);
  await hydrated(page);
  const row = page.locator(`tr[data-member="${memberEmail}"]`);
  await row.getByTestId('role-select').selectOption('viewer');
  await row.getByRole('button', { name: 'Change role' }).click();
  await expect(page.locator(`tr[data-member="${memberEmail}"]`)).toHaveAttribute('data-role', 'viewer');
  await member.page.goto(`/orgs/${slug}/members`);
  await expect(member.page.getByTestId('acting-for')).toContainText('you are viewer');
  await expect(member.page.getByRole('button', { name: 'Send invitation' })).toHaveCount(0);

  // The owner removes the member; the member's open tab loses access on its next action.
  await page.locator(`tr[data-member="${memberEmail}"]`).getByRole('link', { name: 'Remove…' }).click();
  await page.locator(`tr[data-member="${memberEmail}"]`).getByRole('button', { name: 'Remove' }).click();
  await expect(page.locator(`tr[data-member="${memberEmail}"]`)).toHaveCount(0);

  await hydrated(member.page);
  await member.page.getByRole('navigation', { name: 'Organization' }).getByRole('link', { name: 'Usage' }).click();
  // Refused either way: by the stale session ("no longer a member…") or, once the
  // session has fallen back, by the organization itself ("not a member").
  await expect(member.page.getByRole('alert').filter({ hasText: /no longer a member|not a member/ })).toBeVisible();
  await expect(member.page.getByTestId('meters')).toHaveCount(0);
  await expect(member.page.getByTestId('account-switcher')).not.toContainText('E2E Team');
  await member.context.close();
});
