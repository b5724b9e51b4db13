/**
 * The console's views of a sender pool and of an account's quality, in real headless Chromium:
 * a pool campaign's page lists each account with its provider, state and share of the recipients
 * handed out, the shares adding up to the whole list; the accounts page shows what the provider
 * last said of an account's quality (rating, tier) and "not reported" where it said nothing.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/fixtures.js';
import { HAVE_CHROMIUM, launchChromium, SKIP_REASON } from './browser.js';
import { createSandboxSender, startConsoleWorld, type ConsoleWorld } from './console-world.js';

const RECIPIENTS = 40;

if (!HAVE_CHROMIUM) console.warn(SKIP_REASON);

describe.skipIf(!HAVE_CHROMIUM)('pools and quality in the console', () => {
  let w: ConsoleWorld;
  let browser: Browser;
  let campaignId = '';

  beforeAll(async () => {
    w = await startConsoleWorld();
    const one = await createSandboxSender(w.tenantA.api, w.sandbox.url, 20, 'Sandbox Uno');
    const two = await createSandboxSender(w.tenantA.api, w.sandbox.url, 20, 'Sandbox Dos');
    const pool = await w.tenantA.api.post('/v1/pools', { name: 'Cobranza', members: [{ accountId: one.accountId }, { accountId: two.accountId }] });
    expect(pool.statusCode, pool.body).toBe(201);
    const poolId = pool.json<{ pool: { id: string } }>().pool.id;
    const recipients = Array.from({ length: RECIPIENTS }, (_, i) => ({ phone: `+5698${String(i).padStart(7, '0')}`, variables: [`Ana ${i}`, `$ ${i}`] }));
    const created = await w.tenantA.api.post('/v1/campaigns', { name: 'Cobranza diciembre', poolId, templateId: one.templateId, defaultCountry: 'CL', start: true, recipients });
    expect(created.statusCode, created.body).toBe(201);
    campaignId = created.json<{ campaign: { id: string } }>().campaign.id;
    // What an account-level webhook of the provider leaves on the account (the quality guard).
    await w.ctx.db.pool.query(`UPDATE provider_accounts SET quality_rating = 'YELLOW', messaging_tier = 'TIER_10K', quality_updated_at = now() WHERE id = $1`, [two.accountId]);
    await waitFor('the pool campaign to finish', async () => {
      const detail = (await w.tenantA.api.get(`/v1/campaigns/${campaignId}`)).json<{ progress: { done: number } }>();
      return detail.progress.done === RECIPIENTS;
    }, 60_000);
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await w?.close();
  });

  async function signIn(page: Page): Promise<void> {
    await page.goto(`${w.baseUrl}/console/campaigns`);
    await page.waitForURL(/\/console\/sign-in/);
    await page.getByLabel('API key').fill(w.tenantA.apiKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/console\/campaigns$/);
  }

  it("a pool campaign's page lists its accounts, each with its provider, state and share, the shares making the whole list", async () => {
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await signIn(page);
    await page.goto(`${w.baseUrl}/console/campaigns/${campaignId}`);
    const pool = page.getByRole('region', { name: 'Sender pool' });
    await pool.waitFor();
    expect(await pool.getByRole('columnheader').allInnerTexts()).toEqual(['Account', 'Provider', 'State', 'Share']);
    const rows = pool.getByRole('row').filter({ has: page.getByRole('cell') });
    await waitFor('both accounts listed', async () => (await rows.count()) === 2);
    const cells = await Promise.all([0, 1].map(async (i) => rows.nth(i).getByRole('cell').allInnerTexts()));
    expect(cells.map((c) => c[0]).sort()).toEqual(['Sandbox Dos', 'Sandbox Uno']);
    for (const [, provider, state, share] of cells) {
      expect(provider).toBe('sandbox');
      expect(state).toBe('active');
      expect(share).toMatch(/^\d+(\.\d+)?% · \d+$/);
    }
    const assigned = cells.map((c) => Number(/· (\d+)$/.exec(c[3] ?? '')?.[1]));
    expect(assigned.reduce((a, b) => a + b, 0)).toBe(RECIPIENTS);
    await context.close();
  }, 60_000);

  it("the accounts page shows what the provider last said of each account's quality", async () => {
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await signIn(page);
    await page.getByRole('link', { name: 'Accounts' }).click();
    const reported = page.getByRole('region', { name: /Sandbox Dos/ });
    await reported.getByText('YELLOW, tier TIER_10K', { exact: true }).waitFor();
    const silent = page.getByRole('region', { name: /Sandbox Uno/ });
    await silent.getByText('not reported', { exact: true }).waitFor();
    await context.close();
  }, 60_000);
});
