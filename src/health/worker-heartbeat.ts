/**
 * A worker's liveness, for a container healthcheck: every `everyMs` the worker asks Postgres and
 * Redis for an answer and, when both answer, touches a file. scripts/worker-healthcheck.mjs then
 * says healthy while the file is fresher than three beats. A worker whose event loop is stuck,
 * or that cannot reach its stores, stops touching it.
 */
import { open, utimes } from 'node:fs/promises';

export type HeartbeatChecks = { postgres: () => Promise<unknown>; redis: () => Promise<unknown> };

export class WorkerHeartbeat {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly file: string,
    private readonly everyMs: number,
    private readonly checks: HeartbeatChecks,
    private readonly onProblem: (error: unknown) => void = () => undefined,
  ) {}

  start(): void {
    const beat = async () => {
      try {
        await Promise.all([this.checks.postgres(), this.checks.redis()]);
        await touch(this.file);
      } catch (error) {
        this.onProblem(error);
      }
      if (this.timer) this.timer = setTimeout(() => void beat(), this.everyMs).unref();
    };
    this.timer = setTimeout(() => void beat(), 0).unref();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

async function touch(file: string): Promise<void> {
  const now = new Date();
  await (await open(file, 'a')).close();
  await utimes(file, now, now);
}
