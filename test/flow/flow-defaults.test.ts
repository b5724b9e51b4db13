/**
 * The numbers the README's flow-control bullets promise ("How it works"), as the engine builds
 * its flow classes, with their default options:
 * - a rate-limited answer halves the account's rate, at most once a second, and the rate climbs
 *   back by 5% of the configured rate per second (AdaptiveRate);
 * - the circuit breaker opens on more than half of at least 20 calls in a 10 s window, stays
 *   open 5 s at first, doubling after each failed probe up to 5 min (CircuitBreaker);
 * - a limited account is probed after 1 min, then 2, 4 ... up to 1 h (stopAccount);
 * - the error budget judges the last ~200 results (ErrorBudget);
 * - an account created through the API without `pairGapSeconds` gets 6, a campaign without
 *   `errorBudget` gets 0.5.
 * Times are Redis's or Postgres's own: the test moves a stored timestamp into the past instead
 * of waiting, and every time bound is measured around the call, so no assertion depends on how
 * fast anything ran.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PROBING, startDueProbes, stopAccount } from '../../src/accounts/account-actions.js';
import { AdaptiveRate } from '../../src/flow/adaptive-rate.js';
import { CircuitBreaker } from '../../src/flow/circuit-breaker.js';
import { ErrorBudget } from '../../src/flow/error-budget.js';
import { redisKeys } from '../../src/redis-keys.js';
import { expectStatus, SANDBOX_TOKEN, type PublicAccount } from '../api/api-harness.js';
import { engineForFile } from '../support/engine-harness.js';

const engine = engineForFile({ api: true });
const prefix = () => engine.ctx.queuePrefix;

/** Redis's clock, in ms, as the flow scripts read it (TIME). */
async function redisNow(): Promise<number> {
  const [seconds, micros] = await engine.redis.time();
  return Number(seconds) * 1000 + Number(micros) / 1000;
}

async function createAccountWithoutFlowFields(name: string): Promise<PublicAccount & { pairGapSeconds: number }> {
  const response = await engine.api.post('/v1/accounts', { provider: 'sandbox', name, config: { baseUrl: 'http://127.0.0.1:9' }, credentials: { token: SANDBOX_TOKEN } });
  return expectStatus<PublicAccount & { pairGapSeconds: number }>(response, 201);
}

describe('adaptive rate (README: halves, at most once a second, climbs back by 5% per second)', () => {
  const key = (account: string) => redisKeys.adaptiveRate(prefix(), account);
  /** The stored share, as if the last decrease had happened at `at` (Redis ms). */
  const storeShare = (account: string, fraction: number, at: number) =>
    engine.redis.hset(key(account), { fraction: fraction.toFixed(6), at: at.toFixed(3) });

  it('a rate-limited answer halves the rate', async () => {
    const rate = new AdaptiveRate(engine.redis, prefix());
    expect(await rate.onRateLimited(randomUUID(), 80)).toBe(40);
  });

  it('climbs back by 5% of the configured rate per second since the last decrease, up to the configured rate', async () => {
    const account = randomUUID();
    const before = await redisNow();
    await storeShare(account, 0.2, before - 10_000);
    const rate = await new AdaptiveRate(engine.redis, prefix()).rateFor(account, 100);
    const spentMs = (await redisNow()) - before;
    // 20% plus 5% for each of at least 10 s (and at most 10 s + the time the calls took).
    expect(rate).toBeGreaterThanOrEqual(70 - 1e-4);
    expect(rate).toBeLessThanOrEqual(70 + (5 * spentMs) / 1000 + 1e-4);

    const recovered = randomUUID();
    await storeShare(recovered, 0.2, (await redisNow()) - 16_000);
    expect(await new AdaptiveRate(engine.redis, prefix()).rateFor(recovered, 100)).toBe(100);
  });

  it('ignores a decrease less than 1 s after the last one, and counts one 1 s after', async () => {
    const rate = new AdaptiveRate(engine.redis, prefix());
    /**
     * Decreases with the last decrease stored `agoMs` before Redis's now; returns whether it was
     * held (the stored time unchanged) and how long after the last decrease the script ran, read
     * back from its answer: a held decrease answers the recovered share (0.5 + 5%/s x elapsed),
     * an applied one stores its own time.
     */
    async function decreaseAfter(agoMs: number): Promise<{ held: boolean; elapsedMs: number; share: number }> {
      const account = randomUUID();
      const at = Number(((await redisNow()) - agoMs).toFixed(3));
      await storeShare(account, 0.5, at);
      const share = await rate.onRateLimited(account, 1); // a configured rate of 1: the answer is the share
      const storedAt = Number(await engine.redis.hget(key(account), 'at'));
      const held = storedAt === at;
      return { held, elapsedMs: held ? ((share - 0.5) / 0.05) * 1000 : storedAt - at, share };
    }

    // 1 s or more after: always counts, halving the share it had recovered to.
    const late = await decreaseAfter(1_001);
    expect(late.held).toBe(false);
    expect(late.elapsedMs).toBeGreaterThanOrEqual(1_000);
    expect(late.share).toBeCloseTo((0.5 + (0.05 * late.elapsedMs) / 1000) / 2, 5);

    // 0.9 s after: held exactly when the script ran within 1 s of the last decrease (it does
    // unless the machine stalled ~100 ms between the two calls; then it must count).
    const early = await decreaseAfter(900);
    expect(early.elapsedMs).toBeGreaterThanOrEqual(900 - 0.05);
    // (The share is kept to 6 decimals: the elapsed time read back from it is within 0.02 ms.)
    if (early.held) expect(early.elapsedMs).toBeLessThan(1_000 + 0.05);
    else expect(early.elapsedMs).toBeGreaterThanOrEqual(1_000 - 0.001);
  });
});

describe('circuit breaker (README: more than half of at least 20 calls in 10 s; 5 s open, doubling up to 5 min)', () => {
  const breaker = () => new CircuitBreaker(engine.redis, prefix());
  const windowKey = (account: string) => redisKeys.breaker(prefix(), account, 'window');
  const stateKey = (account: string) => redisKeys.breaker(prefix(), account, 'state');
  const recordAll = (b: CircuitBreaker, account: string, results: boolean[]) => Promise.all(results.map((ok) => b.record(account, ok)));
  const many = (n: number, ok: boolean) => Array.from({ length: n }, () => ok);

  it('opens on 20 failures, not 19, and stays open 5 s', async () => {
    const account = randomUUID();
    const b = breaker();
    await recordAll(b, account, many(19, false));
    expect(await b.state(account)).toEqual({ state: 'closed', failures: 19, calls: 19 });
    await b.record(account, false);
    const opened = await b.state(account);
    expect(opened.state).toBe('open');
    expect(opened.retryAt! - opened.openedAt!).toBe(5_000);
  });

  it('opens on more than half failed, not on half', async () => {
    const account = randomUUID();
    const b = breaker();
    await recordAll(b, account, [...many(10, false), ...many(10, true)]);
    expect(await b.state(account)).toEqual({ state: 'closed', failures: 10, calls: 20 });
    await b.record(account, false);
    expect((await b.state(account)).state).toBe('open');
  });

  it('doubles the open time after each failed probe, up to 5 min; a good probe closes it', async () => {
    const account = randomUUID();
    const b = breaker();
    await recordAll(b, account, many(20, false));
    const openTimes: number[] = [];
    for (let probe = 0; probe < 8; probe++) {
      // The open time is over (moved into the past rather than waited out): this caller probes, and fails.
      await engine.redis.hset(stateKey(account), 'retryAt', '0');
      expect(await b.check(account)).toEqual({ state: 'half_open_probe' });
      await b.record(account, false);
      const state = await b.state(account);
      expect(state.state).toBe('open');
      openTimes.push(state.retryAt! - state.openedAt!);
    }
    expect(openTimes).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);

    await engine.redis.hset(stateKey(account), 'retryAt', '0');
    expect(await b.check(account)).toEqual({ state: 'half_open_probe' });
    await b.record(account, true);
    expect(await b.state(account)).toEqual({ state: 'closed', failures: 0, calls: 0 });
  });

  it('counts results in 1 s buckets, ten of them: a 10 s window', async () => {
    const b = breaker();
    // A result lands in the bucket of its Redis second.
    const account = randomUUID();
    const before = await redisNow();
    await b.record(account, true);
    const after = await redisNow();
    const [field, ...others] = await engine.redis.hkeys(windowKey(account));
    expect(others).toEqual([]);
    const bucket = Number(field!.slice(1));
    expect(bucket).toBeGreaterThanOrEqual(Math.floor(before / 1000));
    expect(bucket).toBeLessThanOrEqual(Math.floor(after / 1000));

    // Results of 10 s ago are out of the window, those of 9 s ago in it.
    const aged = randomUUID();
    const second = Math.floor((await redisNow()) / 1000);
    await engine.redis.hset(windowKey(aged), { [`c${second - 10}`]: 100, [`f${second - 10}`]: 100, [`c${second - 9}`]: 7, [`f${second - 9}`]: 7, [`c${second}`]: 1 });
    const state = await b.state(aged);
    const end = Math.floor((await redisNow()) / 1000);
    const expected = { state: 'closed', failures: 7, calls: 8 };
    if (end === second) expect(state).toEqual(expected);
    // Redis's second turned between the two readings: the 9 s old results may have aged out too.
    else expect([expected, { state: 'closed', failures: 0, calls: 1 }]).toContainEqual(state);
  });
});

describe('probes of a limited account (README: 1 min, doubling to 1 h)', () => {
  it('waits 1 min before the first probe, twice as long after each failed one, at most 1 h', async () => {
    const { ctx, queues } = engine;
    const { id } = await createAccountWithoutFlowFields('probed');
    const tierLimit = { kind: 'account_limited' as const, code: 'ACCOUNT_TIER_LIMIT', message: 'The account reached its messaging tier.' };
    const waits: number[] = [];
    for (let stop = 0; stop < 9; stop++) {
      if (stop > 0) {
        // The probe is due (moved a second into the past rather than waited for; not to now(): the
        // column keeps milliseconds, so now() may round up past the next statement's now()); it
        // starts, and meets the limit again.
        await ctx.db.pool.query(`UPDATE provider_accounts SET next_probe_at = now() - interval '1 second' WHERE id = $1`, [id]);
        expect(await startDueProbes(ctx.db, queues, ctx.logger)).toContain(id);
        const { rows } = await ctx.db.pool.query<{ status: string; status_code: string }>(`SELECT status::text, status_code FROM provider_accounts WHERE id = $1`, [id]);
        expect(rows[0]).toEqual({ status: 'active', status_code: PROBING });
      }
      expect(await stopAccount(ctx.db, queues, id, tierLimit, ctx.logger)).toBe(true);
      const { rows } = await ctx.db.pool.query<{ status: string; wait: string }>(
        `SELECT status::text, extract(epoch FROM next_probe_at - status_at)::text AS wait FROM provider_accounts WHERE id = $1`,
        [id],
      );
      expect(rows[0]?.status).toBe('limited');
      waits.push(Number(rows[0]?.wait));
    }
    expect(waits).toEqual([60, 120, 240, 480, 960, 1_920, 3_600, 3_600, 3_600]);
  });
});

describe('error budget window (README: the last ~200 results)', () => {
  // A ring of ten buckets of 20 (src/flow/error-budget.ts): the last 200 results, less at most one bucket.
  it('judges at most the last 200 results, and after many never fewer than 180', async () => {
    const budget = new ErrorBudget(engine.redis, prefix());
    const burst = await budget.record(randomUUID(), { ok: 0, failed: 1_000 });
    expect(burst.ratio).toBe(1);
    expect(burst.sample).toBeGreaterThanOrEqual(180);
    expect(burst.sample).toBeLessThanOrEqual(200);
    const campaign = randomUUID();
    let reading = { ratio: 0, sample: 0 };
    for (let i = 0; i < 250; i++) reading = await budget.record(campaign, { ok: 1, failed: 0 });
    expect(reading.sample).toBeGreaterThanOrEqual(180);
    expect(reading.sample).toBeLessThanOrEqual(200);
  });
});

describe('API defaults (README: pairGapSeconds default 6, errorBudget default 0.5)', () => {
  it('an account created without pairGapSeconds has 6', async () => {
    const account = await createAccountWithoutFlowFields('no pair gap given');
    expect(account.pairGapSeconds).toBe(6);
    expect(expectStatus<{ pairGapSeconds: number }>(await engine.api.get(`/v1/accounts/${account.id}`), 200).pairGapSeconds).toBe(6);
    expect((await engine.ctx.db.prisma.providerAccount.findUniqueOrThrow({ where: { id: account.id } })).pairGapSeconds).toBe(6);
  });

  it('a campaign created without errorBudget has 0.5', async () => {
    const account = await createAccountWithoutFlowFields('no error budget given');
    const template = expectStatus<{ id: string }>(await engine.api.post('/v1/templates', { accountId: account.id, name: 'saludo', body: 'Hola {{1}}' }), 201);
    const created = expectStatus<{ campaign: { id: string; errorBudget: number | null } }>(
      await engine.api.post('/v1/campaigns', { name: 'default budget', accountId: account.id, templateId: template.id }),
      201,
    );
    expect(created.campaign.errorBudget).toBe(0.5);
    expect(expectStatus<{ errorBudget: number | null }>(await engine.api.get(`/v1/campaigns/${created.campaign.id}`), 200).errorBudget).toBe(0.5);
    expect((await engine.ctx.db.prisma.campaign.findUniqueOrThrow({ where: { id: created.campaign.id } })).errorBudget).toBe(0.5);
  });
});
