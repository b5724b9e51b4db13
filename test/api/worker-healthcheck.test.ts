/**
 * The worker's container healthcheck (docker-compose.yml): a real worker process touches its
 * heartbeat file while Postgres and Redis answer, scripts/worker-healthcheck.mjs says healthy
 * while the file is fresh, and unhealthy once the worker is gone.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/test-context.js';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.js';

let ctx: TestContext;
let dir: string;
let worker: WorkerProcess | undefined;
beforeAll(async () => {
  ctx = await createTestContext();
  dir = mkdtempSync(join(tmpdir(), 'wce-heartbeat-'));
});
afterAll(async () => {
  await worker?.kill();
  await ctx.close();
  rmSync(dir, { recursive: true, force: true });
});

async function waitFor(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('worker healthcheck', () => {
  it('healthy while the worker runs, unhealthy after it stops; the check names why', async () => {
    const env = { WORKER_HEARTBEAT_FILE: join(dir, 'heartbeat'), WORKER_HEARTBEAT_MS: '200' };
    const check = () =>
      spawnSync(process.execPath, [resolve(import.meta.dirname, '../../scripts/worker-healthcheck.mjs')], { env: { ...process.env, ...env }, encoding: 'utf8' });
    expect(check().status).toBe(1);
    worker = await startWorkerProcess(ctx, env);
    await waitFor(() => existsSync(env.WORKER_HEARTBEAT_FILE));
    expect(check().status).toBe(0);
    await worker.kill();
    await waitFor(() => check().status === 1);
    expect(check().stderr).toMatch(/^unhealthy: last heartbeat \d+ s ago/);
  });
});
