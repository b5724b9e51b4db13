/**
 * The error budget across processes: each "process" is its own ioredis connection and its own
 * ErrorBudget, sharing one Redis. The window counts results, not time, so nothing here waits.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { ErrorBudget, type ErrorBudgetOptions } from '../../src/flow/error-budget.js';
import { twoProcessRedis } from './two-processes.js';

const { both } = twoProcessRedis();

function twoProcesses(options: ErrorBudgetOptions = {}): [ErrorBudget, ErrorBudget] {
  return both((redis, keyPrefix) => new ErrorBudget(redis, keyPrefix, options));
}

it('counts every result exactly until the window is full', async () => {
  const campaign = randomUUID();
  const [a, b] = twoProcesses();
  expect(await a.record(campaign, { ok: 30, failed: 10 })).toEqual({ ratio: 0.25, sample: 40 });
  expect(await b.exceeded(campaign, 0.2)).toEqual({ exceeded: false, ratio: 0.25, sample: 40 }); // 40 < minSample 50
});

it('loses no result when two processes record batches at once', async () => {
  const campaign = randomUUID();
  const [a, b] = twoProcesses({ windowSize: 1000 });
  await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).record(campaign, i % 4 < 2 ? { ok: 2, failed: 1 } : { ok: 0, failed: 1 })));
  // 50 batches of (2 ok, 1 failed) and 50 of (1 failed): 100 ok, 100 failed.
  expect(await a.exceeded(campaign, 0.9)).toEqual({ exceeded: false, ratio: 0.5, sample: 200 });
});

it('slides: old failures leave the window as new results come', async () => {
  const campaign = randomUUID();
  const [a, b] = twoProcesses({ windowSize: 100, minSample: 10 }); // 10 buckets of 10
  for (let sent = 0; sent < 100; sent += 7) await a.record(campaign, { ok: 0, failed: Math.min(7, 100 - sent) });
  const allFailed = await b.exceeded(campaign, 0.5);
  expect(allFailed).toMatchObject({ exceeded: true, ratio: 1 });
  expect(allFailed.sample).toBeGreaterThanOrEqual(90);
  expect(allFailed.sample).toBeLessThanOrEqual(100);

  const ratios: number[] = [];
  for (let sent = 0; sent < 100; sent += 7) ratios.push((await b.record(campaign, { ok: Math.min(7, 100 - sent), failed: 0 })).ratio);
  expect([...ratios].sort((x, y) => y - x)).toEqual(ratios); // only ever falls
  const recovered = await a.exceeded(campaign, 0.5);
  expect(recovered).toMatchObject({ exceeded: false, ratio: 0 });
  expect(recovered.sample).toBeGreaterThanOrEqual(90);
  expect(recovered.sample).toBeLessThanOrEqual(100);
});

it('a batch larger than the window keeps its proportion and fills the window once', async () => {
  const campaign = randomUUID();
  const [a] = twoProcesses({ windowSize: 200 });
  const { ratio, sample } = await a.record(campaign, { ok: 3000, failed: 1000 });
  expect(ratio).toBeCloseTo(0.25, 1);
  expect(sample).toBeGreaterThanOrEqual(180);
  expect(sample).toBeLessThanOrEqual(200);
});

it('never exceeds below minSample, however bad the ratio', async () => {
  const campaign = randomUUID();
  const [a, b] = twoProcesses({ minSample: 50 });
  await a.record(campaign, { ok: 0, failed: 49 });
  expect(await b.exceeded(campaign, 0.1)).toEqual({ exceeded: false, ratio: 1, sample: 49 });
  await b.record(campaign, { ok: 0, failed: 1 });
  expect(await a.exceeded(campaign, 0.1)).toEqual({ exceeded: true, ratio: 1, sample: 50 });
});

it('exceeds only above the threshold', async () => {
  const campaign = randomUUID();
  const [a] = twoProcesses();
  await a.record(campaign, { ok: 30, failed: 30 });
  expect((await a.exceeded(campaign, 0.5)).exceeded).toBe(false);
  expect((await a.exceeded(campaign, 0.49)).exceeded).toBe(true);
});

it('reset forgets the campaign’s results for every process', async () => {
  const campaign = randomUUID();
  const [a, b] = twoProcesses({ minSample: 1 });
  await a.record(campaign, { ok: 0, failed: 80 });
  expect((await b.exceeded(campaign, 0.5)).exceeded).toBe(true);
  await b.reset(campaign);
  expect(await a.exceeded(campaign, 0.5)).toEqual({ exceeded: false, ratio: 0, sample: 0 });
  expect(await a.record(campaign, { ok: 1, failed: 0 })).toEqual({ ratio: 0, sample: 1 });
});
