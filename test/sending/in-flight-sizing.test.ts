/**
 * Sends in flight per account are sized by the engine, not the user: rate x recent p95 latency x
 * headroom, within a memory-safe ceiling; and the feeder's window has an absolute cap whatever
 * the account's rate. Verdicts rest on what the engine computes (its in-flight size, its
 * BullMQ worker's concurrency, its departure log, the jobs it put in Redis), never on how fast a
 * loaded machine sends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyCampaignAction } from '../../src/campaigns/campaign-actions.js';
import { createLogger } from '../../src/logger.js';
import { mostInAnyWindow, readDepartureLog } from '../../src/queue/departure-log.js';
import { Feeder } from '../../src/queue/feeder.js';
import { IN_FLIGHT_HEADROOM, INITIAL_LATENCY_MS, InFlightSizer, RAISE_MARGIN } from '../../src/queue/in-flight.js';
import { createSandboxCampaign, insertRecipients, waitFor } from '../support/fixtures.js';
import { startEngine, type Engine } from '../support/engine-harness.js';

describe('InFlightSizer', () => {
  it('sizes rate x p95 busy time x headroom, within [2, ceiling]', () => {
    const sizer = new InFlightSizer(1_000);
    // Before any send: the initial assumption.
    expect(sizer.sizeFor('a', 1_000).size).toBe(Math.ceil(1_000 * (INITIAL_LATENCY_MS / 1000) * IN_FLIGHT_HEADROOM));
    // 100 sends at 100..299 ms: the p95 is 288.5 ms (the 95th of 100).
    for (let i = 0; i < 100; i += 1) sizer.observe('a', 100 + i * 2 + 0.5);
    const { size, p95LatencyMs } = sizer.sizeFor('a', 1_000);
    expect(p95LatencyMs).toBeCloseTo(288.5, 5);
    expect(size).toBe(Math.ceil(1_000 * 0.2885 * IN_FLIGHT_HEADROOM));
    // 80/s at the same latency needs far fewer; a slow account is bounded by the ceiling.
    expect(sizer.sizeFor('a', 80).size).toBe(Math.ceil(80 * 0.2885 * IN_FLIGHT_HEADROOM));
    for (let i = 0; i < 600; i += 1) sizer.observe('slow', 5_000);
    expect(sizer.sizeFor('slow', 1_000).size).toBe(1_000);
    // A fast account still keeps two in flight.
    for (let i = 0; i < 100; i += 1) sizer.observe('fast', 1);
    expect(sizer.sizeFor('fast', 1).size).toBe(2);
    // The window is recent: after 512 fast sends the slow past is forgotten.
    for (let i = 0; i < 512; i += 1) sizer.observe('slow', 10);
    expect(sizer.sizeFor('slow', 1_000).size).toBe(15);
  });

  it('says when the first real estimate is there, so the worker re-sizes at once', () => {
    const sizer = new InFlightSizer(1_000);
    const firsts = Array.from({ length: 40 }, () => sizer.observe('a', 200));
    expect(firsts.filter(Boolean)).toHaveLength(1);
    expect(firsts.indexOf(true)).toBe(19);
  });

  it("moves a worker's concurrency only when the size has clearly left it: up at once with room to spare, down below half", () => {
    const sizer = new InFlightSizer(1_000);
    // A raise: to the size and a margin, within the ceiling.
    expect(sizer.concurrencyFor(75, 700)).toBe(Math.ceil(700 * RAISE_MARGIN));
    expect(sizer.concurrencyFor(75, 900)).toBe(1_000);
    // The p95 moving a little either way changes nothing (each raise stalls BullMQ's job starts).
    expect(sizer.concurrencyFor(875, 700)).toBe(875);
    expect(sizer.concurrencyFor(875, 760)).toBe(875);
    expect(sizer.concurrencyFor(875, 440)).toBe(875);
    expect(sizer.concurrencyFor(875, 875)).toBe(875);
    // Far below: lowered, with the margin too.
    expect(sizer.concurrencyFor(875, 400)).toBe(500);
    expect(sizer.concurrencyFor(10, 2)).toBe(3);
  });
});

describe('a 1,000/s account at 100-300 ms per send', () => {
  let engine: Engine<{ sendWorkers: true; sandbox: { latencyMs: [number, number] } }>;
  beforeAll(async () => {
    engine = await startEngine({
      config: { feederIntervalMs: 50, breakerMinCalls: 1_000_000, rateDepartureLog: true },
      sendWorkers: true,
      sandbox: { latencyMs: [100, 300] },
    });
  });
  afterAll(async () => engine?.close());

  it('keeps rate x p95 latency x headroom in flight in one process (not a fixed 50), and never departs above the rate', async () => {
    const { ctx, host, sandbox, redis } = engine;
    const RATE = 1_000;
    const N = 1_500;
    const { accountId, campaignId } = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, ratePerSecond: RATE });
    await insertRecipients(ctx, campaignId, N);
    await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'start');
    // Once enough sends were seen, the size follows their latency, and the account's worker runs at
    // least at it: raised with a margin when the size passes it, lowered only when it falls under
    // half (InFlightSizer.concurrencyFor), since every move of the p95 would otherwise re-size it.
    let seen = host.inFlightFor(accountId);
    await waitFor('in-flight size from observed latency', async () => {
      seen = host.inFlightFor(accountId);
      return seen.samples >= 500 && seen.concurrency !== null && seen.concurrency >= seen.size && seen.concurrency <= 2 * seen.size;
    }, 60_000, 20);
    // Every send takes at least the sandbox's 100 ms, so the p95 is at least that: 150 in flight at the least.
    expect(seen.p95LatencyMs).toBeGreaterThanOrEqual(100);
    expect(seen.size).toBe(Math.min(ctx.config.workerConcurrency, Math.ceil(RATE * (seen.p95LatencyMs / 1000) * IN_FLIGHT_HEADROOM)));
    expect(seen.size).toBeGreaterThanOrEqual(150);
    await waitFor('completion', async () => (await ctx.db.prisma.campaign.findUniqueOrThrow({ where: { id: campaignId } })).status === 'completed', 90_000, 100);
    const departures = await readDepartureLog(redis, ctx.queuePrefix, accountId);
    expect(departures).toHaveLength(N);
    expect(mostInAnyWindow(departures, 1000)).toBeLessThanOrEqual(RATE);
    console.log(`1,000/s at 100-300 ms: in flight ${seen.size} (p95 ${seen.p95LatencyMs.toFixed(0)} ms over ${seen.samples} sends); most departures in any 1000 ms ${mostInAnyWindow(departures, 1000)}`);
  }, 120_000);
});

describe('the queue window', () => {
  let engine: Engine<{ sandbox: true }>;
  beforeAll(async () => {
    engine = await startEngine({ sandbox: true });
  });
  afterAll(async () => engine?.close());

  it('holds at most QUEUE_WINDOW_MAX_JOBS jobs per account, whatever its rate', async () => {
    const { ctx, sandbox, queues } = engine;
    const { accountId, campaignId } = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, ratePerSecond: 50_000 });
    await insertRecipients(ctx, campaignId, 3_000);
    await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'start');
    const feeder = new Feeder(ctx.db.pool, queues, { windowSeconds: 5, maxJobs: 400 }, createLogger('silent'));
    // Without the cap the window would be 250,000 jobs: the whole campaign in one round.
    const first = await feeder.feedOnce();
    expect(first.queued).toBe(400);
    expect(await feeder.feedOnce()).toMatchObject({ queued: 0 });
    const counts = await queues.forAccount(accountId).getJobCounts('wait', 'prioritized', 'active', 'delayed');
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(400);
  });
});
