/**
 * The circuit breaker end to end: while the provider is down, the engine stops calling it (one
 * probe at a time) instead of burning every recipient's attempts, and when it is back the
 * campaign finishes with every recipient sent once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { applyCampaignAction } from '../../src/campaigns/campaign-actions.js';
import { CircuitBreaker } from '../../src/flow/circuit-breaker.js';
import { createSandboxCampaign, insertRecipients, statusCounts, waitFor } from '../support/fixtures.js';
import { startFlowEngine, TEST_TIMEOUT_MS, waitForCampaign, type FlowEngine } from './flow-support.js';

const RECIPIENTS = 300;
const MAX_ATTEMPTS = 5;

let engine: FlowEngine;

beforeAll(async () => {
  // Retries 50-200 ms apart: without the breaker, five attempts are gone in about a second.
  engine = await startFlowEngine({ breakerMinCalls: 10, breakerOpenMs: 300 });
});

afterAll(async () => {
  await engine.close();
});

it('stops calling a provider that is down, spends no attempts while open, and finishes once it is back', async () => {
  const { ctx, sandbox } = engine;
  sandbox.reset();
  sandbox.settings.failureRate = 1;
  const { campaignId, accountId } = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, maxAttempts: MAX_ATTEMPTS, errorBudget: null, name: 'outage' });
  const phones = await insertRecipients(ctx, campaignId, RECIPIENTS);
  const breaker = new CircuitBreaker(engine.redis, ctx.config.queuePrefix);
  await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'start');

  await waitFor('the breaker to open', async () => (await breaker.state(accountId)).state === 'open');
  // The outage lasts on: until two probes have failed (the open time doubled twice, 300 -> 1200 ms),
  // long enough for every retry (50-200 ms apart) to come due many times over.
  await waitFor('two failed probes', async () => {
    const open = await breaker.state(accountId);
    return open.state !== 'closed' && (open.retryAt ?? 0) - (open.openedAt ?? 0) >= 1_200;
  });
  const duringOutage = sandbox.stats();
  const countsDuringOutage = await statusCounts(ctx, campaignId);
  const stateDuringOutage = await breaker.state(accountId);

  sandbox.settings.failureRate = 0;
  await waitForCampaign(ctx, campaignId, 'completed');

  // Open, or half open while the one probe is out: never closed while every call fails.
  expect(['open', 'half_open']).toContain(stateDuringOutage.state);
  // Without the breaker the provider would have seen up to RECIPIENTS x MAX_ATTEMPTS calls; with it,
  // only the sends already under way when it opened, and the probes.
  expect(duringOutage.received).toBeLessThan(RECIPIENTS);
  expect(duringOutage.accepted).toBe(0);
  // Nobody ran out of attempts while the provider was down.
  expect(countsDuringOutage.failed ?? 0).toBe(0);

  expect(await statusCounts(ctx, campaignId)).toEqual({ sent: RECIPIENTS });
  const stats = sandbox.stats();
  expect(Object.keys(stats.perPhone).sort()).toEqual([...phones].sort());
  expect(Math.max(...Object.values(stats.perPhone))).toBe(1);
  const { rows } = await ctx.db.pool.query<{ m: number }>(`SELECT max(attempts)::int AS m FROM recipients WHERE campaign_id = $1`, [campaignId]);
  expect(rows[0]?.m).toBeLessThan(MAX_ATTEMPTS);
  expect((await breaker.state(accountId)).state).toBe('closed');
}, TEST_TIMEOUT_MS);
