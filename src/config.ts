/**
 * The only place that reads process.env. Every setting is validated once, frozen, and has its
 * default here with the reason for it.
 */
import { z } from 'zod';

const int = (fallback: number) => z.coerce.number().int().nonnegative().default(fallback);

const schema = z.object({
  /** Postgres, the source of truth. Default: the local server with the usual trust auth. */
  DATABASE_URL: z.string().url().default('postgresql://postgres@127.0.0.1:5432/campaigns'),
  /** Redis, for work in flight only. */
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  /** Prefix of every BullMQ key, so several engines (or test runs) can share one Redis. */
  QUEUE_PREFIX: z.string().min(1).default('wce'),
  /** API listen address. Loopback by default: exposing it is a deliberate act (docker sets 0.0.0.0). */
  HOST: z.string().default('127.0.0.1'),
  PORT: int(3000),
  /** The API's public base URL (https://engine.example.com), used to print full webhook URLs. Unset: paths only. */
  PUBLIC_URL: z.string().url().optional(),
  /** How often each worker process looks for stored webhook events to process (ms). */
  WEBHOOK_POLL_MS: int(200),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Concurrent sends per account queue per worker process; covers rate x provider latency. */
  WORKER_CONCURRENCY: int(50),
  /** Provider HTTP timeout in ms. A timeout after the request went out is ambiguous, not a failure. */
  SEND_TIMEOUT_MS: int(15_000),
  /**
   * How long a recipient may stay `sending` before the sweeper calls it `unknown` (ms).
   * Must exceed SEND_TIMEOUT_MS plus a status write, or a slow send would be misjudged.
   */
  SENDING_LEASE_MS: int(120_000),
  /** Seconds of sending kept in Redis per account (rate x window, at least 100 jobs). Small keeps pause and fair share quick. */
  QUEUE_WINDOW_SECONDS: int(5),
  /** How often the feeder tops up account queues from Postgres (ms). */
  FEEDER_INTERVAL_MS: int(250),
  /** How often the sweeper looks for lost work: stale `sending`, `queued` with no job (ms). */
  SWEEPER_INTERVAL_MS: int(5_000),
  /** BullMQ job lock (ms). A killed worker's job is picked up again after about this long. */
  JOB_LOCK_MS: int(30_000),
  /** First retry delay (ms); doubles each attempt, with full jitter. */
  RETRY_BASE_DELAY_MS: int(2_000),
  /** Cap on one retry delay (ms). */
  RETRY_MAX_DELAY_MS: int(300_000),
  /**
   * Jitter (ms) tolerated between a send leaving and the provider counting it: the account's rate
   * holds in every one-second window the provider sees while the jitter stays under this. The
   * average reached is rate x 1000 / (1000 + this): 97.6% at 25.
   */
  RATE_JITTER_MS: int(25),
  /** Circuit breaker per account: provider failures (5xx, timeouts, network) in a 10 s window before it can open... */
  BREAKER_MIN_CALLS: int(20),
  /** ...and how long it first stays open (ms), doubling after each failed probe up to 5 minutes. */
  BREAKER_OPEN_MS: int(5_000),
  /** Largest upload accepted, in bytes. 1M rows of a typical CSV is about 60 MB. */
  UPLOAD_MAX_BYTES: int(256 * 1024 * 1024),
  /** Recipients per COPY batch on ingest. */
  INGEST_BATCH_ROWS: int(5_000),
  /** Largest JSON body of POST /v1/campaigns (inline recipients), bytes. About 40k recipients; larger lists stream through the upload. */
  CAMPAIGN_JSON_MAX_BYTES: int(4 * 1_048_576),
  /** The whole request (headers and body) must arrive within this (ms); sized for a full upload on a slow link. */
  REQUEST_TIMEOUT_MS: int(300_000),
  /** Request headers must arrive within this (ms): a client that trickles them is cut off early. */
  HEADERS_TIMEOUT_MS: int(20_000),
  /** Requests per API key per window (any window of API_RATE_WINDOW_SECONDS holds at most this many), counted in Redis. 0 turns it off. */
  API_RATE_LIMIT: int(3_000),
  API_RATE_WINDOW_SECONDS: int(60),
  /** How long an API key lookup (found or not) is cached in Redis, seconds. Revocation overwrites it at once. */
  API_KEY_CACHE_SECONDS: int(60),
  /** Operator token for GET /metrics (Bearer). Unset: /metrics is off. Tenant keys never work there. */
  METRICS_TOKEN: z.union([z.literal(''), z.string().min(16)]).optional(),
  /** A worker touches this file while Postgres and Redis answer it (for a container healthcheck). Unset: no file. */
  WORKER_HEARTBEAT_FILE: z.string().optional(),
  /** How often the worker checks Postgres and Redis and touches its heartbeat file (ms). */
  WORKER_HEARTBEAT_MS: int(10_000),
});

export type Config = Readonly<{
  databaseUrl: string;
  redisUrl: string;
  queuePrefix: string;
  host: string;
  port: number;
  publicUrl: string | null;
  webhookPollMs: number;
  logLevel: z.infer<typeof schema>['LOG_LEVEL'];
  workerConcurrency: number;
  sendTimeoutMs: number;
  sendingLeaseMs: number;
  queueWindowSeconds: number;
  feederIntervalMs: number;
  sweeperIntervalMs: number;
  jobLockMs: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  uploadMaxBytes: number;
  breakerMinCalls: number;
  rateJitterMs: number;
  breakerOpenMs: number;
  ingestBatchRows: number;
  campaignJsonMaxBytes: number;
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  apiRateLimit: number;
  apiRateWindowSeconds: number;
  apiKeyCacheSeconds: number;
  metricsToken: string | null;
  workerHeartbeatFile: string | null;
  workerHeartbeatMs: number;
}>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates the environment. Overrides are for tests and embedded use. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid environment: ${problems}`);
  }
  const e = parsed.data;
  return Object.freeze({
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    queuePrefix: e.QUEUE_PREFIX,
    host: e.HOST,
    port: e.PORT,
    publicUrl: e.PUBLIC_URL?.replace(/\/+$/, '') ?? null,
    webhookPollMs: Math.max(10, e.WEBHOOK_POLL_MS),
    logLevel: e.LOG_LEVEL,
    workerConcurrency: Math.max(1, e.WORKER_CONCURRENCY),
    sendTimeoutMs: e.SEND_TIMEOUT_MS,
    sendingLeaseMs: e.SENDING_LEASE_MS,
    queueWindowSeconds: Math.max(1, e.QUEUE_WINDOW_SECONDS),
    feederIntervalMs: Math.max(10, e.FEEDER_INTERVAL_MS),
    sweeperIntervalMs: Math.max(100, e.SWEEPER_INTERVAL_MS),
    jobLockMs: Math.max(1_000, e.JOB_LOCK_MS),
    retryBaseDelayMs: e.RETRY_BASE_DELAY_MS,
    retryMaxDelayMs: e.RETRY_MAX_DELAY_MS,
    uploadMaxBytes: e.UPLOAD_MAX_BYTES,
    breakerMinCalls: Math.max(1, e.BREAKER_MIN_CALLS),
    rateJitterMs: Math.min(500, e.RATE_JITTER_MS),
    breakerOpenMs: Math.max(100, e.BREAKER_OPEN_MS),
    ingestBatchRows: Math.max(100, e.INGEST_BATCH_ROWS),
    campaignJsonMaxBytes: Math.max(1_024, e.CAMPAIGN_JSON_MAX_BYTES),
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    headersTimeoutMs: Math.max(1_000, e.HEADERS_TIMEOUT_MS),
    apiRateLimit: e.API_RATE_LIMIT,
    apiRateWindowSeconds: Math.max(1, e.API_RATE_WINDOW_SECONDS),
    apiKeyCacheSeconds: Math.max(1, e.API_KEY_CACHE_SECONDS),
    metricsToken: e.METRICS_TOKEN || null,
    workerHeartbeatFile: e.WORKER_HEARTBEAT_FILE || null,
    workerHeartbeatMs: Math.max(100, e.WORKER_HEARTBEAT_MS),
    ...overrides,
  });
}
