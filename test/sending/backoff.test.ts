/**
 * Retry delays (README: "retry later (exponential backoff with full jitter, spends an attempt)",
 * RETRY_BASE_DELAY_MS 2000 and RETRY_MAX_DELAY_MS 300000). Backoff.delayMs draws each delay
 * uniformly up to a ceiling of base x 2^(attempt-1), capped: the ceiling doubles with every
 * attempt and never passes the cap, and a delay is never shorter than a quarter of the first
 * delay (src/sending/backoff.ts: a retry at once would meet the same fault). Over many draws the
 * delays spread over the whole range, so recipients failing together do not retry together.
 * The random source is injected where an exact value is asserted; the spread is checked on
 * Math.random with bounds no fair draw misses.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { Backoff } from '../../src/sending/backoff.js';

/** The largest value Math.random can return: a draw at the very top of the range. */
const TOP = () => 1 - 2 ** -53;
const BOTTOM = () => 0;

/** The ceiling the README's "exponential" means: base doubling per attempt from the first, capped. */
const ceilingOf = (attempt: number, base: number, cap: number) => Math.min(cap, base * 2 ** Math.max(0, attempt - 1));
/** The shortest delay: a quarter of the first delay (or of the ceiling, if the cap is below it). */
const floorOf = (attempt: number, base: number, cap: number) => Math.min(base, ceilingOf(attempt, base, cap)) / 4;

const attempts = fc.integer({ min: 1, max: 60 });
const bases = fc.integer({ min: 1, max: 1_000_000 });
const caps = fc.integer({ min: 1, max: 100_000_000 });
const draws = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

describe('Backoff.delayMs', () => {
  it('lies within the full-jitter range of its attempt, and never past the cap', () => {
    fc.assert(
      fc.property(attempts, bases, caps, draws, (attempt, base, cap, r) => {
        const delay = Backoff.delayMs(attempt, base, cap, () => r);
        expect(delay).toBeGreaterThanOrEqual(floorOf(attempt, base, cap));
        expect(delay).toBeLessThanOrEqual(ceilingOf(attempt, base, cap));
        expect(delay).toBeLessThanOrEqual(cap);
        expect(delay).toBeGreaterThan(0);
      }),
      { numRuns: 2_000 },
    );
  });

  it('is the draw times the ceiling (full jitter: uniform over the range), above the floor', () => {
    fc.assert(
      fc.property(attempts, bases, caps, draws, (attempt, base, cap, r) => {
        const ceiling = ceilingOf(attempt, base, cap);
        const delay = Backoff.delayMs(attempt, base, cap, () => r);
        if (r * ceiling >= floorOf(attempt, base, cap) + 0.5) expect(Math.abs(delay - r * ceiling)).toBeLessThanOrEqual(0.5);
        else expect(delay).toBeLessThan(floorOf(attempt, base, cap) + 1);
      }),
      { numRuns: 2_000 },
    );
  });

  it('reaches the top and the bottom of its range', () => {
    fc.assert(
      fc.property(attempts, bases, caps, (attempt, base, cap) => {
        expect(Backoff.delayMs(attempt, base, cap, TOP)).toBe(ceilingOf(attempt, base, cap));
        expect(Backoff.delayMs(attempt, base, cap, BOTTOM)).toBe(floorOf(attempt, base, cap));
      }),
    );
  });

  it('doubles its upper bound with every attempt until the cap, then stays at the cap', () => {
    fc.assert(
      fc.property(bases, caps, (base, cap) => {
        expect(Backoff.delayMs(1, base, cap, TOP)).toBe(Math.min(base, cap));
        for (let attempt = 1; attempt < 40; attempt++) {
          const top = Backoff.delayMs(attempt, base, cap, TOP);
          expect(Backoff.delayMs(attempt + 1, base, cap, TOP)).toBe(Math.min(cap, 2 * top));
        }
        expect(Backoff.delayMs(1_000, base, cap, TOP)).toBe(cap);
      }),
    );
  });

  it('with the README defaults (2000 ms doubling, capped at 300000 ms)', () => {
    const config = loadConfig({});
    expect([config.retryBaseDelayMs, config.retryMaxDelayMs]).toEqual([2_000, 300_000]);
    const tops = Array.from({ length: 11 }, (_, i) => Backoff.delayMs(i + 1, config.retryBaseDelayMs, config.retryMaxDelayMs, TOP));
    expect(tops).toEqual([2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000, 300_000]);
    const bottoms = Array.from({ length: 11 }, (_, i) => Backoff.delayMs(i + 1, config.retryBaseDelayMs, config.retryMaxDelayMs, BOTTOM));
    expect(new Set(bottoms)).toEqual(new Set([500]));
  });

  it('spreads its draws over the whole range (jitter, not a constant)', () => {
    const ceiling = 16_000; // attempt 4 at the defaults
    const delays = Array.from({ length: 20_000 }, () => Backoff.delayMs(4, 2_000, 300_000));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(500);
    expect(Math.max(...delays)).toBeLessThanOrEqual(ceiling);
    // Uniform draws: each of these misses by dozens of standard deviations only if the delays are not spread.
    expect(new Set(delays).size).toBeGreaterThan(5_000);
    expect(delays.filter((d) => d < ceiling / 10).length).toBeGreaterThan(1_000);
    expect(delays.filter((d) => d > (ceiling * 9) / 10).length).toBeGreaterThan(1_000);
    const mean = delays.reduce((sum, d) => sum + d, 0) / delays.length;
    expect(mean).toBeGreaterThan(ceiling * 0.45);
    expect(mean).toBeLessThan(ceiling * 0.55);
  });
});
