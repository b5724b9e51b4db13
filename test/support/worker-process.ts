/** Starts workers/send-worker.ts as a real child process against a test's database and queues. */
import { fork, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import type { TestContext } from './test-context.js';

const ROOT = resolve(import.meta.dirname, '../..');

export type WorkerProcess = { child: ChildProcess; kill(signal?: NodeJS.Signals): Promise<number | null> };

export async function startWorkerProcess(ctx: TestContext, env: Record<string, string> = {}): Promise<WorkerProcess> {
  const child = fork(resolve(ROOT, 'workers/send-worker.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: {
      ...process.env,
      DATABASE_URL: ctx.databaseUrl,
      QUEUE_PREFIX: ctx.queuePrefix,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolvePromise, reject) => {
    child.once('message', () => resolvePromise());
    child.once('exit', (code) => reject(new Error(`worker exited with ${code} before it was ready`)));
  });
  return {
    child,
    kill(signal: NodeJS.Signals = 'SIGTERM') {
      return new Promise((r) => {
        if (child.exitCode !== null || child.signalCode !== null) return r(child.exitCode);
        child.once('exit', (code) => r(code));
        child.kill(signal);
      });
    },
  };
}
