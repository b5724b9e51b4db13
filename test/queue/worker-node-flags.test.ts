/**
 * Every way a send worker is started runs it with SEND_WORKER_NODE_FLAGS: `npm run worker`, the
 * compose file's worker service, the demo and the benchmarks (which measure what production runs).
 * And the flags take effect: the young generation grows past V8's default.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect, it } from 'vitest';
import { SEND_WORKER_NODE_FLAGS } from '../../src/queue/worker-node-flags.js';

const ROOT = resolve(import.meta.dirname, '../..');
const read = (path: string) => readFileSync(resolve(ROOT, path), 'utf8');

it('npm run worker and the compose worker service pass the flags to node', () => {
  const script = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.worker ?? '';
  const compose = read('docker-compose.yml').split('\n').find((line) => line.includes('workers/send-worker.ts')) ?? '';
  for (const flag of SEND_WORKER_NODE_FLAGS) {
    expect(script.split(' ')).toContain(flag);
    expect(compose).toContain(`"${flag}"`);
  }
});

it('the demo and the benchmarks start the worker with the flags', () => {
  for (const file of ['src/cli/demo.ts', 'bench/support.ts']) {
    expect(read(file)).toMatch(/script === 'workers\/send-worker\.ts' \? SEND_WORKER_NODE_FLAGS/);
  }
});

it('the flags let the young generation grow past its default under a stream of short-lived objects', () => {
  const churn = `const v8 = require('v8'); let keep = []; let most = 0;
    for (let i = 0; i < 3e6; i++) {
      keep.push({ i, s: 'x' + i });
      if (keep.length > 200000) keep = [];
      if (i % 100000 === 0) most = Math.max(most, v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size);
    }
    console.log(most);`;
  const youngGeneration = (flags: readonly string[]) => Number(execFileSync(process.execPath, [...flags, '-e', churn]).toString());
  expect(youngGeneration(SEND_WORKER_NODE_FLAGS)).toBeGreaterThan(youngGeneration([]));
}, 60_000);
