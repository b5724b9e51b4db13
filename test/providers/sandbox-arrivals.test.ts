/**
 * The sandbox counts an accepted send in the second it arrived (as a provider's edge limiter
 * counts), not the second its simulated latency ends; the answered second is kept beside it.
 * Checked against the sandbox's own arrival times, so the verdict holds however loaded the
 * machine is.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSandboxServer, type SandboxServer } from '../../src/providers/sandbox/sandbox-server.js';

const LATENCY_MS = 700;
let sandbox: SandboxServer;

beforeAll(async () => {
  sandbox = await startSandboxServer({ latencyMs: LATENCY_MS });
});
afterAll(async () => sandbox?.close());

it('counts accepted sends by arrival second, and by answered second apart', async () => {
  const phones = Array.from({ length: 6 }, (_, i) => `+5691234567${i}`);
  const sentAt: number[] = [];
  await Promise.all(
    phones.map(async (to, i) => {
      await new Promise((r) => setTimeout(r, i * 150));
      sentAt.push(Date.now());
      const response = await fetch(`${sandbox.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sandbox-token' },
        body: JSON.stringify({ to, template: 't', language: 'es', parameters: ['Ana'] }),
      });
      expect(response.status).toBe(200);
    }),
  );
  const stats = sandbox.stats();
  const bySecond = (times: number[]) => times.reduce<Record<string, number>>((acc, t) => ({ ...acc, [String(Math.floor(t / 1000))]: (acc[String(Math.floor(t / 1000))] ?? 0) + 1 }), {});
  const arrivals = phones.map((p) => stats.arrivalsPerPhone[p]?.[0] ?? 0);
  expect(stats.perSecond).toEqual(bySecond(arrivals));
  expect(stats.maxPerSecond).toBe(Math.max(...Object.values(bySecond(arrivals))));
  expect(Object.values(stats.perSecondAnswered).reduce((a, b) => a + b, 0)).toBe(phones.length);
  // Each answer leaves at least the latency after its arrival, so the answered seconds trail.
  const lastArrival = Math.max(...Object.keys(stats.perSecond).map(Number));
  const lastAnswer = Math.max(...Object.keys(stats.perSecondAnswered).map(Number));
  expect(lastAnswer).toBeGreaterThanOrEqual(Math.floor((Math.max(...arrivals) + LATENCY_MS) / 1000));
  expect(lastAnswer).toBeGreaterThanOrEqual(lastArrival);
  // Arrivals are stamped before the latency: never later than the client's send plus the latency.
  expect(Math.min(...arrivals)).toBeGreaterThanOrEqual(Math.min(...sentAt));
});
