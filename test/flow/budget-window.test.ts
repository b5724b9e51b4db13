/**
 * The launch planner's messaging-limit rule (src/flow/budget-window.ts) against the engine's own
 * reservation script (DailyBudget.reserve, real Redis): the same sequence of reservations gives
 * the same grants, refusals and next free time.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reserveInWindow, type BudgetWindow } from '../../src/flow/budget-window.js';
import { DailyBudget } from '../../src/flow/daily-budget.js';
import { createTestContext, type TestContext } from '../support/test-context.js';

let ctx: TestContext;
let redis: Redis;

beforeAll(async () => {
  ctx = await createTestContext();
  redis = new Redis(ctx.config.redisUrl);
});

afterAll(async () => {
  redis.disconnect();
  await ctx.close();
});

const phones = (count: number, from = 0): string[] => Array.from({ length: count }, (_, i) => `+5691${String(from + i).padStart(7, '0')}`);

describe('budget window model', () => {
  it('grants, refuses and frees exactly as the Redis script does', async () => {
    const budget = new DailyBudget(redis, ctx.queuePrefix);
    const accountId = randomUUID();
    const model: BudgetWindow = new Map();
    const limit = 5;
    const batches = [phones(3), [...phones(2, 1), ...phones(4, 10)], phones(3, 20), [...phones(1, 0), ...phones(1, 30)]];
    for (const batch of batches) {
      const real = await budget.reserve(accountId, batch, limit);
      // The model at the time the script used: the newest score it wrote (or now, for a refusal-only batch).
      const entries = await budget.entries(accountId);
      const now = Math.max(...entries.map((e) => e.at.getTime()));
      const modelled = reserveInWindow(model, batch, limit, now, 86_400_000);
      expect({ granted: modelled.granted, added: modelled.added, refused: modelled.refused }).toEqual({ granted: real.granted, added: real.added, refused: real.refused });
      if (real.nextFreeAt) expect(Math.abs((modelled.nextFreeAt?.getTime() ?? 0) - real.nextFreeAt.getTime())).toBeLessThan(2_000);
      else expect(modelled.nextFreeAt).toBeNull();
    }
    expect((await budget.entries(accountId)).map((e) => e.phone).sort()).toEqual([...model.keys()].sort());
  });

  it('slots free as the oldest phones leave the window', () => {
    const model: BudgetWindow = new Map([['+56911', 1_000], ['+56912', 2_000]]);
    expect(reserveInWindow(model, ['+56913'], 2, 5_000, 10_000)).toEqual({ granted: [], added: [], refused: ['+56913'], nextFreeAt: new Date(11_000) });
    expect(reserveInWindow(model, ['+56913'], 2, 11_000, 10_000)).toEqual({ granted: ['+56913'], added: ['+56913'], refused: [], nextFreeAt: null });
  });
});
