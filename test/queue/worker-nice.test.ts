/**
 * WORKER_NICE lowers a send worker process's CPU priority, so on a machine it shares with the API
 * the API answers first; out of range, the worker refuses to start rather than guess.
 */
import { getPriority } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { contextForFile } from '../support/test-context.js';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.js';

const ctx = contextForFile();
const started: WorkerProcess[] = [];

afterAll(async () => {
  await Promise.all(started.map((w) => w.kill()));
});

describe('WORKER_NICE', () => {
  it('runs the worker process at that nice value, and at the default without it', async () => {
    const niced = await startWorkerProcess(ctx, { WORKER_NICE: '7' });
    started.push(niced);
    const plain = await startWorkerProcess(ctx);
    started.push(plain);
    expect(getPriority(niced.child.pid)).toBe(7);
    expect(getPriority(plain.child.pid)).toBe(getPriority());
  }, 60_000);

  it('accepts 0 to 19 and refuses anything else with the setting named', () => {
    expect(loadConfig({ WORKER_NICE: '19' }).workerNice).toBe(19);
    expect(loadConfig({}).workerNice).toBe(0);
    for (const bad of ['20', '-1', 'low', '2.5']) expect(() => loadConfig({ WORKER_NICE: bad })).toThrow(/WORKER_NICE/);
  });
});
