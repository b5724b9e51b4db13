/**
 * The account's state in words comes from the flow modules' own state in Redis and the account
 * and campaign rows: each state here is produced by the real flow module (no hand-written keys),
 * then read back by the console's reader.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountStateReader, type AccountRow, type CampaignFacts } from '../../src/console/account-state.js';
import { AdaptiveRate } from '../../src/flow/adaptive-rate.js';
import { CircuitBreaker } from '../../src/flow/circuit-breaker.js';
import { DailyBudget } from '../../src/flow/daily-budget.js';
import { redisConnection } from '../../src/redis-client.js';
import { createSandboxCampaign } from '../support/fixtures.js';
import { createTestContext, type TestContext } from '../support/test-context.js';

let ctx: TestContext;
let redis: Redis;
let reader: AccountStateReader;
beforeAll(async () => {
  ctx = await createTestContext();
  redis = redisConnection(ctx.config.redisUrl);
  reader = new AccountStateReader(ctx.db, redis, ctx.config.queuePrefix);
});
afterAll(async () => {
  redis.disconnect();
  await ctx.close();
});

let n = 0;
function account(extra: Partial<AccountRow> = {}): AccountRow {
  n += 1;
  return { id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, status: 'active', statusCode: null, statusReason: null, nextProbeAt: null, ratePerSecond: 80, messagingLimit: null, ...extra };
}
const running: CampaignFacts = { id: '00000000-0000-4000-8000-999999999999', status: 'running', statusCode: null, statusReason: null, startAt: null, windowStart: null, deferred: 0, inFlight: 10 };

describe('account state', () => {
  it('sending at the configured rate when nothing holds it back', async () => {
    expect(await reader.ofAccount(account())).toEqual({ kind: 'sending', rate: 80, configuredRate: 80 });
  });

  it('slowed after a rate-limited answer', async () => {
    const a = account();
    await new AdaptiveRate(redis, ctx.config.queuePrefix).onRateLimited(a.id, a.ratePerSecond);
    const state = await reader.ofAccount(a);
    expect(state.kind).toBe('slowed');
    expect(state).toMatchObject({ configuredRate: 80 });
    expect((state as { rate: number }).rate).toBeLessThan(80);
  });

  it('circuit open until the breaker retries', async () => {
    const a = account();
    const breaker = new CircuitBreaker(redis, ctx.config.queuePrefix, { minCalls: 2, openMs: 60_000 });
    for (let i = 0; i < 3; i++) await breaker.record(a.id, false);
    const state = await reader.ofAccount(a);
    expect(state.kind).toBe('circuit_open');
    const until = Date.parse((state as { until: string }).until);
    expect(until).toBeGreaterThan(Date.now() + 50_000);
  });

  it('waiting on the messaging limit until a slot frees', async () => {
    const a = account({ messagingLimit: 2 });
    await new DailyBudget(redis, ctx.config.queuePrefix).reserve(a.id, ['+56911111111', '+56922222222'], 2);
    const state = await reader.ofAccount(a);
    expect(state).toMatchObject({ kind: 'messaging_limit', used: 2, limit: 2 });
    expect(Date.parse((state as { until: string }).until)).toBeGreaterThan(Date.now() + 23 * 3600_000);
  });

  it('account stopped by a limit or an error, with its reason', async () => {
    const probe = new Date(Date.now() + 60_000);
    expect(await reader.ofAccount(account({ status: 'limited', statusCode: 'ACCOUNT_TIER_LIMIT', statusReason: 'tier', nextProbeAt: probe })))
      .toEqual({ kind: 'account_limited', code: 'ACCOUNT_TIER_LIMIT', reason: 'tier', until: probe.toISOString() });
    expect(await reader.ofAccount(account({ status: 'paused', statusCode: 'ACCOUNT_AUTH_FAILED', statusReason: 'bad token' })))
      .toEqual({ kind: 'account_paused', code: 'ACCOUNT_AUTH_FAILED', reason: 'bad token' });
  });

  it('a campaign: paused with its reason, scheduled, or idle when not running', async () => {
    const a = account();
    expect(await reader.ofCampaign({ ...running, status: 'paused', statusCode: 'ERROR_BUDGET_EXCEEDED', statusReason: 'too many failures' }, a))
      .toEqual({ kind: 'paused', code: 'ERROR_BUDGET_EXCEEDED', reason: 'too many failures' });
    const startAt = new Date(Date.now() + 3_600_000);
    expect(await reader.ofCampaign({ ...running, startAt }, a)).toEqual({ kind: 'scheduled', until: startAt.toISOString() });
    expect(await reader.ofCampaign({ ...running, status: 'completed' }, a)).toEqual({ kind: 'idle', campaignStatus: 'completed' });
    expect(await reader.ofCampaign(running, a)).toMatchObject({ kind: 'sending' });
  });

  it('quiet hours until the deferred recipients may go', async () => {
    const fixture = await createSandboxCampaign(ctx, { sandboxUrl: 'http://127.0.0.1:9' });
    const opens = new Date(Date.now() + 5 * 3_600_000);
    await ctx.db.pool.query(
      `INSERT INTO recipients (tenant_id, campaign_id, phone, raw_phone, line, variables, status, error_code, not_before)
       VALUES ($1, $2, '+56911112222', '911112222', 2, '["Ana"]', 'deferred', 'QUIET_HOURS', $3)`,
      [ctx.tenantId, fixture.campaignId, opens],
    );
    const state = await reader.ofCampaign({ ...running, id: fixture.campaignId, windowStart: 9 * 60, deferred: 1, inFlight: 0 }, account());
    expect(state).toEqual({ kind: 'quiet_hours', until: opens.toISOString() });
  });
});
