/**
 * The circuit breaker across processes: each "process" is its own ioredis connection and its own
 * CircuitBreaker, sharing one Redis. Sleeps are only lower bounds (waiting out an open time);
 * no assertion depends on how fast anything ran.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { CircuitBreaker, type BreakerCheck, type CircuitBreakerOptions } from '../../src/flow/circuit-breaker.js';
import { countingScripts, sleep, twoProcessRedis } from './two-processes.js';

const { both, connections, prefix } = twoProcessRedis();

/** One breaker per connection, as two worker processes would have; no cache unless asked. */
function twoProcesses(options: CircuitBreakerOptions = {}): [CircuitBreaker, CircuitBreaker] {
  const withDefaults = { windowMs: 60_000, minCalls: 20, failureRatio: 0.5, cacheMs: 0, ...options };
  return both((redis, keyPrefix) => new CircuitBreaker(redis, keyPrefix, withDefaults));
}

/** Records results alternately from the two processes, all at once. */
async function recordAll(breakers: [CircuitBreaker, CircuitBreaker], account: string, results: boolean[]): Promise<void> {
  await Promise.all(results.map((ok, i) => breakers[i % 2]!.record(account, ok)));
}

const failures = (n: number) => Array.from({ length: n }, () => false);
const successes = (n: number) => Array.from({ length: n }, () => true);

it('stays closed below minCalls however many fail, and opens at minCalls', async () => {
  const account = randomUUID();
  const breakers = twoProcesses({ openMs: 60_000 });
  await recordAll(breakers, account, failures(19));
  expect(await breakers[0].check(account)).toEqual({ state: 'closed' });
  expect(await breakers[1].state(account)).toEqual({ state: 'closed', failures: 19, calls: 19 });

  await breakers[1].record(account, false);
  const check = await breakers[0].check(account);
  expect(check.state).toBe('open');
  expect((check as { retryInMs: number }).retryInMs).toBeGreaterThan(0);
  expect((check as { retryInMs: number }).retryInMs).toBeLessThanOrEqual(60_000);
  const state = await breakers[1].state(account);
  expect(state).toMatchObject({ state: 'open', failures: 0, calls: 0 });
  expect(state.retryAt! - state.openedAt!).toBe(60_000);
});

it('opens only when the failure ratio is above failureRatio', async () => {
  const account = randomUUID();
  const breakers = twoProcesses();
  await recordAll(breakers, account, [...failures(10), ...successes(10)]);
  expect(await breakers[0].state(account)).toEqual({ state: 'closed', failures: 10, calls: 20 }); // 0.5 is not above 0.5
  await breakers[0].record(account, false);
  expect((await breakers[1].check(account)).state).toBe('open'); // 11 / 21
});

it('forgets results older than the window', async () => {
  const account = randomUUID();
  const breakers = twoProcesses({ windowMs: 200 });
  await recordAll(breakers, account, failures(15));
  await sleep(250);
  await recordAll(breakers, account, failures(10));
  expect(await breakers[0].check(account)).toEqual({ state: 'closed' });
  const state = await breakers[1].state(account);
  expect(state.calls).toBeLessThanOrEqual(10);
  expect(state.failures).toBe(state.calls);
});

it('results of calls still in flight while open change nothing', async () => {
  const account = randomUUID();
  const breakers = twoProcesses({ openMs: 60_000 });
  await recordAll(breakers, account, failures(20));
  const opened = await breakers[0].state(account);
  await recordAll(breakers, account, [...failures(5), ...successes(5)]);
  expect(await breakers[1].state(account)).toEqual(opened);
});

it('lets exactly one of many concurrent callers on two connections probe', async () => {
  const account = randomUUID();
  const breakers = twoProcesses({ openMs: 50, probeWaitMs: 500 });
  await recordAll(breakers, account, failures(20));
  await sleep(70);
  expect((await breakers[0].state(account)).state).toBe('half_open');

  const checks: BreakerCheck[] = await Promise.all(Array.from({ length: 40 }, (_, i) => breakers[i % 2]!.check(account)));
  expect(checks.filter((c) => c.state === 'half_open_probe')).toHaveLength(1);
  const others = checks.filter((c) => c.state !== 'half_open_probe');
  expect(others).toHaveLength(39);
  for (const other of others) {
    expect(other.state).toBe('open');
    expect((other as { retryInMs: number }).retryInMs).toBeGreaterThan(0);
    expect((other as { retryInMs: number }).retryInMs).toBeLessThanOrEqual(500);
  }
});

it('a failed probe reopens for twice as long, up to maxOpenMs', async () => {
  const account = randomUUID();
  // Open times long enough that the 'open' check right after a failed probe cannot miss them on a
  // stalled machine (it must come within the new open time).
  const breakers = twoProcesses({ openMs: 400, maxOpenMs: 1_200 });
  await recordAll(breakers, account, failures(20));
  const openTimes: number[] = [];
  for (let round = 0; round < 4; round++) {
    const state = await breakers[round % 2]!.state(account);
    openTimes.push(state.retryAt! - state.openedAt!);
    await sleep(openTimes.at(-1)! + 20);
    expect(await breakers[round % 2]!.check(account)).toEqual({ state: 'half_open_probe' });
    await breakers[round % 2]!.record(account, false);
    expect((await breakers[(round + 1) % 2]!.check(account)).state).toBe('open');
  }
  expect(openTimes).toEqual([400, 800, 1_200, 1_200]);
});

it('a successful probe closes the breaker and resets the open time', async () => {
  const account = randomUUID();
  const breakers = twoProcesses({ openMs: 50 });
  await recordAll(breakers, account, failures(20));
  await sleep(70);
  expect(await breakers[0].check(account)).toEqual({ state: 'half_open_probe' });
  await breakers[0].record(account, false);
  await sleep(120);
  expect(await breakers[1].check(account)).toEqual({ state: 'half_open_probe' });
  await breakers[1].record(account, true);

  expect(await breakers[0].check(account)).toEqual({ state: 'closed' });
  expect(await breakers[0].state(account)).toEqual({ state: 'closed', failures: 0, calls: 0 });
  await recordAll(breakers, account, failures(20));
  const reopened = await breakers[1].state(account);
  expect(reopened.retryAt! - reopened.openedAt!).toBe(50);
});

it('a probe whose result never comes is handed to another caller after probeTimeoutMs', async () => {
  const account = randomUUID();
  // A probe timeout long enough that the 'open' check right after the probe is handed out cannot
  // miss it on a stalled machine.
  const breakers = twoProcesses({ openMs: 50, probeTimeoutMs: 500 });
  await recordAll(breakers, account, failures(20));
  await sleep(70);
  expect(await breakers[0].check(account)).toEqual({ state: 'half_open_probe' });
  expect((await breakers[1].check(account)).state).toBe('open');
  await sleep(520);
  expect(await breakers[1].check(account)).toEqual({ state: 'half_open_probe' });
});

it('check reuses a closed answer within cacheMs, until its own process sees the breaker open', async () => {
  const account = randomUUID();
  const [cached] = twoProcesses({ cacheMs: 60_000, openMs: 60_000 });
  const [, other] = twoProcesses({ openMs: 60_000 });
  expect(await cached.check(account)).toEqual({ state: 'closed' });
  await recordAll([other, other], account, failures(20));
  expect(await cached.check(account)).toEqual({ state: 'closed' }); // cached
  await cached.record(account, false); // ignored while open, but tells this process it is open
  expect((await cached.check(account)).state).toBe('open');
});

it('callers that find the closed answer stale at once share one read; only one of them probes a half-open breaker', async () => {
  const account = randomUUID();
  const counting = countingScripts(connections[0]);
  const breaker = new CircuitBreaker(counting.redis, prefix, { windowMs: 60_000, minCalls: 20, failureRatio: 0.5, cacheMs: 60_000, openMs: 50, probeWaitMs: 500 });
  const closed = await Promise.all(Array.from({ length: 200 }, () => breaker.check(account)));
  expect(closed.every((c) => c.state === 'closed')).toBe(true);
  expect(counting.scripts()).toBe(1);

  await recordAll([breaker, breaker], account, failures(20));
  await sleep(70);
  const checks = await Promise.all(Array.from({ length: 50 }, () => breaker.check(account)));
  expect(checks.filter((c) => c.state === 'half_open_probe')).toHaveLength(1);
  expect(checks.filter((c) => c.state === 'open')).toHaveLength(49);
});
