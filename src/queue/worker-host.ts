/**
 * Everything a worker process runs:
 * - one BullMQ Worker per provider account queue (the account's rate is kept per send by
 *   AccountRateLimiter, across every process);
 * - the feeder, the sweeper and the fold of the recipients' counts, which run in exactly one
 *   process at a time (leader lease).
 *
 * stop() is graceful: no new jobs are taken, jobs under way finish and their results are
 * written, then connections close.
 */
import { Worker, type Job } from 'bullmq';
import type { Config } from '../config.js';
import type { Db } from '../db/database.js';
import type { Logger } from '../logger.js';
import { foldCounts } from '../recipients/status-counts.js';
import { closeHttpAgent } from '../providers/http.js';
import { memberTemplates } from '../pools/pool-templates.js';
import { Backoff } from '../sending/backoff.js';
import type { SendPipeline } from '../sending/send-pipeline.js';
import { enactDecision } from './enact-decision.js';
import { buildSendPipeline } from './send-wiring.js';
import { Feeder } from './feeder.js';
import { InFlightSizer, type InFlightSize } from './in-flight.js';
import { LeaderLock } from './leader-lock.js';
import { redisConnection, type RedisClient } from '../redis-client.js';
import { redisKeys } from '../redis-keys.js';
import { SendQueues, sendQueueName, type SendJobData } from './queues.js';
import { Sweeper } from './sweeper.js';

/** How often to look for accounts that need a queue worker (ms); a started campaign waits at most this long. */
const ACCOUNT_REFRESH_MS = 500;
/** How often the leader folds the recipients' count deltas into their totals (ms) (src/recipients/status-counts.ts). */
const COUNTS_FOLD_MS = 1_000;

export class WorkerHost {
  private readonly redis: RedisClient;
  private readonly queues: SendQueues;
  private readonly pipeline: SendPipeline;
  private readonly feeder: Feeder;
  private readonly sweeper: Sweeper;
  private readonly leader: LeaderLock;
  private readonly workers = new Map<string, Worker<SendJobData>>();
  private readonly inFlight: InFlightSizer;
  private readonly rates = new Map<string, number>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly tasksUnderWay = new Set<Promise<void>>();
  private stopping = false;
  private lastSweep = 0;
  private lastFold = 0;

  constructor(
    private readonly config: Config,
    private readonly db: Db,
    private readonly logger: Logger,
  ) {
    // Commands issued in one tick leave in one write: a send makes several small Redis calls (rate
    // slot, departure gate, wire stamp), and at a thousand sends a second a write() each was a
    // large share of the worker's CPU.
    this.redis = redisConnection(config, { enableAutoPipelining: true });
    this.redis.on('error', (error) => logger.warn({ err: error.message }, 'redis connection error'));
    this.queues = new SendQueues(this.redis, config.queuePrefix);
    this.pipeline = buildSendPipeline({ config, db, redis: this.redis, queues: this.queues, logger });
    this.feeder = new Feeder(db.pool, this.queues, { windowSeconds: config.queueWindowSeconds, maxJobs: config.queueWindowMaxJobs }, logger);
    this.sweeper = new Sweeper(db.pool, this.redis, this.queues, { sendingLeaseMs: config.sendingLeaseMs }, logger);
    this.inFlight = new InFlightSizer(config.workerConcurrency);
    this.leader = new LeaderLock(this.redis, redisKeys.leader(config.queuePrefix), Math.max(5_000, config.feederIntervalMs * 8));
  }

  async start(): Promise<void> {
    await this.warmUp();
    // A worker started while Postgres is away (a restart, a failover) waits for it on the timer
    // below rather than exiting.
    await this.refreshAccounts().catch((error: unknown) =>
      this.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'cannot list accounts yet; will retry'),
    );
    this.every(ACCOUNT_REFRESH_MS, () => this.refreshAccounts());
    this.every(this.config.feederIntervalMs, () => this.leaderTick());
    this.logger.info({ maxInFlightPerAccount: this.config.workerConcurrency }, 'worker host started');
  }

  /**
   * Prisma's first query sets up its query compiler, which blocks the event loop for hundreds of
   * milliseconds (seconds on a busy machine). Done inside the first jobs, it starves their lock
   * renewals: their locks lapse, the jobs come back while their recipients are `sending`, and
   * sends that were fine end `unknown`. So run the hot path's query shape once before taking jobs.
   */
  private async warmUp(): Promise<void> {
    const none = '00000000-0000-0000-0000-000000000000';
    await this.db.prisma.campaign.findUnique({ where: { id: none }, include: { template: true, account: true } }).catch(() => undefined);
    // A pool campaign's other accounts: their member row and mapped template (src/sending/campaign-context.ts).
    await this.db.prisma.senderPoolMember.findUnique({ where: { poolId_accountId: { poolId: none, accountId: none } }, include: { account: true } }).catch(() => undefined);
    await memberTemplates((sql, params) => this.db.prisma.$queryRawUnsafe(sql, ...params), none, none).catch(() => undefined);
    await this.db.prisma.template.findUnique({ where: { id: none } }).catch(() => undefined);
  }

  private every(ms: number, task: () => Promise<void>): void {
    let running = false;
    const timer = setInterval(() => {
      if (running || this.stopping) return;
      running = true;
      const run = task()
        .catch((error: unknown) => this.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'background task failed; will retry'))
        .finally(() => {
          running = false;
          this.tasksUnderWay.delete(run);
        });
      this.tasksUnderWay.add(run);
    }, ms);
    this.timers.push(timer);
  }

  private async leaderTick(): Promise<void> {
    if (!(await this.leader.hold())) return;
    if (Date.now() - this.lastSweep >= this.config.sweeperIntervalMs) {
      this.lastSweep = Date.now();
      await this.sweeper.sweepOnce();
    }
    await this.feeder.feedOnce();
    // After the feed, so a fold that fails (and is retried next time) never holds up sending.
    if (Date.now() - this.lastFold >= COUNTS_FOLD_MS) {
      this.lastFold = Date.now();
      await foldCounts(this.db.pool);
    }
  }

  /**
   * Sends in flight in this process for an account (its BullMQ worker's concurrency): its rate x
   * the recent p95 of its sends' busy time x headroom, at most WORKER_CONCURRENCY
   * (./in-flight.ts). Re-sized when the latency has clearly moved (`concurrencyFor`). More would
   * only hold claimed recipients inside the rate limiter: a crash leaves them all `unknown`, and
   * each waits out its slot before it sees a pause or an account stop at the wire gate.
   */
  inFlightFor(accountId: string): InFlightSize & { concurrency: number | null } {
    return { ...this.inFlight.sizeFor(accountId, this.rates.get(accountId) ?? 1), concurrency: this.workers.get(accountId)?.concurrency ?? null };
  }

  /** Runs a worker for each account that has a running or paused campaign. */
  private async refreshAccounts(): Promise<void> {
    const { rows } = await this.db.pool.query<{ id: string; rate_per_second: number }>(
      `SELECT DISTINCT a.id, a.rate_per_second FROM provider_accounts a
         JOIN campaigns c ON c.account_id = a.id AND c.status IN ('running', 'paused')
       UNION
       SELECT DISTINCT a.id, a.rate_per_second FROM provider_accounts a
         JOIN sender_pool_members m ON m.account_id = a.id
         JOIN campaigns c ON c.pool_id = m.pool_id AND c.status IN ('running', 'paused')`,
    );
    const wanted = new Set(rows.map((r) => r.id));
    // The rate may change (PATCH /v1/accounts/:id), and the latency moves: follow both.
    for (const row of rows) this.rates.set(row.id, row.rate_per_second);
    for (const row of rows) this.resize(row.id);
    for (const [accountId, worker] of this.workers) {
      if (!wanted.has(accountId)) {
        this.workers.delete(accountId);
        this.rates.delete(accountId);
        this.inFlight.forget(accountId);
        await worker.close();
      }
    }
    for (const accountId of wanted) {
      if (this.stopping) return;
      if (!this.workers.has(accountId)) this.workers.set(accountId, this.createWorker(accountId, this.inFlight.sizeFor(accountId, this.rates.get(accountId) ?? 1).size));
    }
  }

  /** Follows the account's in-flight size with its worker's concurrency, within the sizer's hysteresis (./in-flight.ts). */
  private resize(accountId: string): void {
    const worker = this.workers.get(accountId);
    if (!worker) return;
    const next = this.inFlight.concurrencyFor(worker.concurrency, this.inFlight.sizeFor(accountId, this.rates.get(accountId) ?? 1).size);
    if (next !== worker.concurrency) worker.concurrency = next;
  }

  private createWorker(accountId: string, concurrency: number): Worker<SendJobData> {
    const worker: Worker<SendJobData> = new Worker<SendJobData>(
      sendQueueName(accountId),
      async (job: Job<SendJobData>, token?: string) => {
        const started = performance.now();
        const timing = { onWire: false, rateWaitMs: 0 };
        const decision = await this.pipeline.handle({ ...job.data, accountId: job.data.accountId ?? accountId }, timing);
        // Only sends that went out say how long a send holds its place; the rate wait is pacing.
        // The first real estimate re-sizes at once: a new account starts at the assumed latency.
        if (timing.onWire && this.inFlight.observe(accountId, performance.now() - started - timing.rateWaitMs)) this.resize(accountId);
        await enactDecision(decision, job, token, (ms) => worker.rateLimit(ms));
      },
      {
        connection: redisConnection(this.config),
        prefix: this.config.queuePrefix,
        concurrency,
        // The account's rate is kept by AccountRateLimiter (exact in every one-second window);
        // BullMQ's fixed-window limiter would allow up to twice the rate across a boundary.
        lockDuration: this.config.jobLockMs,
        stalledInterval: this.config.jobLockMs,
        // A redelivered job finds its recipient `sending` and marks it unknown, so letting the
        // stall check redeliver a few times is safe and keeps jobs from failing on a restart.
        maxStalledCount: 5,
        settings: {
          // Only infrastructure faults (Postgres unreachable) fail a job; provider outcomes never do.
          backoffStrategy: (attemptsMade: number) => Backoff.delayMs(attemptsMade, 1_000, 30_000),
        },
      },
    );
    worker.on('error', (error) => this.logger.warn({ accountId, err: error.message }, 'queue worker error'));
    worker.on('failed', (job, error) =>
      this.logger.warn({ accountId, recipientId: job?.data.recipientId, err: error.message }, 'send job failed on an infrastructure error; it will be retried'),
    );
    this.logger.info({ accountId }, 'serving account queue');
    return worker;
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const timer of this.timers) clearInterval(timer);
    await Promise.allSettled([...this.tasksUnderWay]);
    await Promise.all([...this.workers.values()].map((worker) => worker.close()));
    this.workers.clear();
    await this.pipeline.drain();
    await this.leader.release().catch(() => undefined);
    await this.queues.close();
    this.redis.disconnect();
    await closeHttpAgent();
    this.logger.info('worker host stopped');
  }
}
