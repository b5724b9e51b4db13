/**
 * A fixed number of real send-worker processes. `killRandom` SIGKILLs one and starts its
 * replacement; a worker that exits when nobody killed it is recorded as a crash (an engine bug:
 * a worker must ride out a Postgres or Redis restart).
 */
import type { TestContext } from '../support/test-context.js';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.js';

export type WorkerCrash = { pid: number | undefined; reason: string };

export class WorkerFleet {
  private readonly live: WorkerProcess[] = [];
  private readonly killedByUs = new WeakSet<WorkerProcess>();
  private readonly starting = new Set<Promise<void>>();
  readonly crashes: WorkerCrash[] = [];
  kills = 0;

  constructor(
    private readonly ctx: TestContext,
    private readonly env: Record<string, string>,
  ) {}

  get size(): number {
    return this.live.length;
  }

  async start(count: number): Promise<void> {
    await Promise.all(Array.from({ length: count }, () => this.startOne()));
  }

  /** SIGKILLs a random ready worker and waits for it to be gone; its replacement starts in the background. */
  async killRandom(): Promise<void> {
    const victim = this.live[Math.floor(Math.random() * this.live.length)];
    if (!victim) return;
    this.killedByUs.add(victim);
    this.forget(victim);
    this.kills += 1;
    await victim.kill('SIGKILL');
    this.startInBackground();
  }

  /** Stops every worker (SIGTERM, graceful, by default), once those starting are up. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await Promise.allSettled([...this.starting]);
    const all = this.live.splice(0);
    for (const w of all) this.killedByUs.add(w);
    await Promise.all(all.map((w) => w.kill(signal)));
  }

  private async startOne(): Promise<void> {
    // A replacement may come up while Postgres or Redis is away; it must wait them out.
    for (let attempt = 1; ; attempt += 1) {
      try {
        const worker = await startWorkerProcess(this.ctx, this.env);
        this.live.push(worker);
        worker.child.once('exit', (code, signal) => {
          if (this.killedByUs.has(worker)) return;
          this.forget(worker);
          this.crashes.push({ pid: worker.child.pid, reason: `exited with ${signal ?? code}` });
          // Keep the fleet at strength so the run can finish and report every crash.
          this.startInBackground();
        });
        return;
      } catch (error) {
        this.crashes.push({ pid: undefined, reason: `failed to start: ${error instanceof Error ? error.message : String(error)}` });
        if (attempt >= 5) throw error;
      }
    }
  }

  private startInBackground(): void {
    // A start that keeps failing is already in `crashes`, which the test asserts empty.
    const start = this.startOne()
      .catch(() => undefined)
      .finally(() => this.starting.delete(start));
    this.starting.add(start);
  }

  private forget(worker: WorkerProcess): void {
    const i = this.live.indexOf(worker);
    if (i >= 0) this.live.splice(i, 1);
  }
}
