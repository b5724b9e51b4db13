/**
 * Shared by the flow-control end-to-end files (test/sending/flow-*.test.ts): one engine (worker
 * host) per file over its own database and queue prefix, and readers for the rows they assert on.
 */
import type { Config } from '../../src/config.js';
import { waitFor } from '../support/fixtures.js';
import { FAST_ENGINE_CONFIG, startEngine, type Engine } from '../support/engine-harness.js';
import type { TestContext } from '../support/test-context.js';

/** The engine harness with send workers and the sandbox provider. */
export type FlowEngine = Engine<{ sendWorkers: true; sandbox: true }>;

/** Fast feeding and retries, so a test waits on states rather than on production intervals. */
export function startFlowEngine(overrides: Partial<Config> = {}): Promise<FlowEngine> {
  return startEngine({ config: { ...FAST_ENGINE_CONFIG, ...overrides }, sendWorkers: true, sandbox: true });
}

export type CampaignRow = { status: string; status_code: string | null; status_reason: string | null };

export async function campaignRow(ctx: TestContext, campaignId: string): Promise<CampaignRow> {
  const { rows } = await ctx.db.pool.query<CampaignRow>(`SELECT status::text, status_code, status_reason FROM campaigns WHERE id = $1`, [campaignId]);
  const row = rows[0];
  if (!row) throw new Error(`no campaign ${campaignId}`);
  return row;
}

export async function waitForCampaign(ctx: TestContext, campaignId: string, status: string, timeoutMs = 60_000): Promise<CampaignRow> {
  return waitFor(`campaign ${status}`, async () => {
    const row = await campaignRow(ctx, campaignId);
    return row.status === status ? row : null;
  }, timeoutMs);
}

export type AccountRow = { status: string; status_code: string | null; next_probe_at: Date | null; probe_failures: number };

export async function accountRow(ctx: TestContext, accountId: string): Promise<AccountRow> {
  const { rows } = await ctx.db.pool.query<AccountRow>(
    `SELECT status::text, status_code, next_probe_at, probe_failures FROM provider_accounts WHERE id = $1`,
    [accountId],
  );
  const row = rows[0];
  if (!row) throw new Error(`no account ${accountId}`);
  return row;
}

/** Inserts pending recipients with exactly these phones. */
export async function insertPhones(ctx: TestContext, campaignId: string, phones: readonly string[]): Promise<void> {
  await ctx.db.pool.query(
    `INSERT INTO recipients (tenant_id, campaign_id, phone, raw_phone, line, variables)
     SELECT $1, $2, p, p, n + 1, jsonb_build_array('Ana')
       FROM unnest($3::text[]) WITH ORDINALITY AS t(p, n)`,
    [ctx.tenantId, campaignId, phones],
  );
}

/** Waits until nothing of the campaign is queued or being sent (what was under way has landed). */
export async function waitForSettled(ctx: TestContext, campaignId: string, timeoutMs = 60_000): Promise<void> {
  await waitFor('sends under way to land', async () => {
    const { rows } = await ctx.db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM recipients WHERE campaign_id = $1 AND status IN ('queued', 'sending')`,
      [campaignId],
    );
    return rows[0]?.n === 0;
  }, timeoutMs);
}

/** Per test: several waits of up to a minute each, so a stuck wait reports itself before vitest's own timeout. */
export const TEST_TIMEOUT_MS = 240_000;

export const settle = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Minutes after local midnight in `timeZone` at `at`. */
export function localMinutes(at: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', hour: 'numeric', minute: 'numeric' }).formatToParts(at);
  const field = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return field('hour') * 60 + field('minute');
}
