/**
 * The only place that reads process.env. Every setting is validated once, frozen, and has its
 * default here with the reason for it.
 *
 * Over 300 lines on purpose: every setting, its default and its reason in one place is the point.
 */
import { z } from 'zod';

const int = (fallback: number) => z.coerce.number().int().nonnegative().default(fallback);
/** "true"/"1" or "false"/"0"; anything else is a configuration error, not a silent false. */
const flag = z.enum(['true', 'false', '1', '0']).default('false').transform((v) => v === 'true' || v === '1');

const schema = z.object({
  /** Postgres, the source of truth. Default: the local server with the usual trust auth. */
  DATABASE_URL: z.string().url().default('postgresql://postgres@127.0.0.1:5432/campaigns'),
  /** Redis, for work in flight only. */
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  /**
   * Redis Cluster: its seed nodes, comma-separated `host:port` (or `redis://[user:password@]host:port`,
   * `rediss://` for TLS; the first entry's credentials and TLS apply to every node). Set: the engine
   * talks to the cluster and REDIS_URL is not used. Unset: one Redis at REDIS_URL.
   */
  REDIS_CLUSTER_NODES: z.string().optional(),
  /**
   * Prefix of every Redis key, so several engines (or test runs) can share one Redis. No braces:
   * the engine places its own hash tags (src/redis-keys.ts), and a tag in the prefix would put
   * every key of a cluster in one slot.
   */
  QUEUE_PREFIX: z
    .string()
    .min(1)
    .regex(/^[^{}]+$/, 'QUEUE_PREFIX_INVALID: the prefix may not contain "{" or "}"; the engine adds its own Redis Cluster hash tags per account and campaign')
    .default('wce'),
  /** API listen address. Loopback by default: exposing it is a deliberate act (docker sets 0.0.0.0). */
  HOST: z.string().default('127.0.0.1'),
  PORT: int(3000),
  /** The API's public base URL (https://engine.example.com), used to print full webhook URLs. Unset: paths only. */
  PUBLIC_URL: z.string().url().optional(),
  /** How often each worker process looks for stored webhook events to process (ms). */
  WEBHOOK_POLL_MS: int(200),
  /** Largest webhook body, in bytes. 256 KB: Meta's batches are a few KB, and a small limit keeps unauthenticated bodies cheap. */
  WEBHOOK_BODY_LIMIT_BYTES: int(256 * 1024),
  /**
   * Oldest request a provider that stamps its requests (Optiwe's envelope) may send, in seconds;
   * older is a replay. An hour: Optiwe documents no retry schedule, and a late retry must still pass.
   */
  WEBHOOK_REPLAY_WINDOW_SECONDS: int(3_600),
  /**
   * Requests one webhook URL may make per WEBHOOK_RATE_WINDOW_SECONDS, counted in Redis across API
   * processes (429 past it; providers retry). Default 300,000 a minute: 5,000/s, above what one
   * 1,000 msg/s number's statuses need, so only a flood is refused. 0 turns it off.
   */
  WEBHOOK_RATE_LIMIT: int(300_000),
  WEBHOOK_RATE_WINDOW_SECONDS: int(60),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * Ceiling on sends in flight per account per worker process. The engine sizes each account's
   * in-flight sends itself (rate x recent p95 latency x 1.5, src/queue/in-flight.ts); this only
   * bounds memory: 1,000 covers 1,000 msg/s at up to about 650 ms per send.
   */
  WORKER_CONCURRENCY: int(1_000),
  /**
   * CPU priority of send worker processes, as a nice value from 0 (the default: as everything else)
   * to 19 (yields the most). On a machine the API shares with workers, a worker that saturates the
   * CPU makes every API answer wait for a core; a positive value lets the API, Postgres and Redis
   * go first, and the worker takes what they leave. Only ever lowers the priority, so it needs no
   * privilege. It orders processes that share a CPU scheduler group: between containers (each its
   * own cgroup) the runtime's CPU weights decide instead (`cpu_shares` in compose).
   */
  WORKER_NICE: z.coerce.number().int().min(0).max(19).default(0),
  /** Provider HTTP timeout in ms. A timeout after the request went out is ambiguous, not a failure. */
  SEND_TIMEOUT_MS: int(15_000),
  /**
   * How long a recipient may stay `sending` before the sweeper calls it `unknown` (ms).
   * Must exceed SEND_TIMEOUT_MS plus a status write, or a slow send would be misjudged.
   */
  SENDING_LEASE_MS: int(120_000),
  /** Seconds of sending kept in Redis per account (rate x window, at least 100 jobs). Small keeps pause and fair share quick. */
  QUEUE_WINDOW_SECONDS: int(5),
  /**
   * The window's absolute cap, jobs per account, whatever its rate: an account whose rate is set
   * high to mean "unlimited" would otherwise move most of a big campaign into Redis (a job costs
   * about 800 bytes there; 449,000 of them took 355 MB and slowed sending fivefold). 20,000 jobs is
   * about 16 MB, and 5 s at 4,000/s.
   */
  QUEUE_WINDOW_MAX_JOBS: int(20_000),
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
  /** Log each departure as its request is written, on Redis's clock, so tests and bench:rate can check the bound. Off: it costs Redis memory. */
  RATE_DEPARTURE_LOG: z.enum(['true', 'false']).default('false'),
  /** Circuit breaker per account: provider failures (5xx, timeouts, network) in a 10 s window before it can open... */
  BREAKER_MIN_CALLS: int(20),
  /** ...and how long it first stays open (ms), doubling after each failed probe up to 5 minutes. */
  BREAKER_OPEN_MS: int(5_000),
  /** Largest upload accepted, in bytes. 1M rows of a typical CSV is about 60 MB. */
  UPLOAD_MAX_BYTES: int(256 * 1024 * 1024),
  /** Recipients per COPY batch on ingest. */
  INGEST_BATCH_ROWS: int(5_000),
  /** How long a console sign-in lasts (seconds): a working day, so a shared screen does not stay signed in for ever. */
  CONSOLE_SESSION_TTL_SECONDS: int(8 * 3600),
  /** How often the console's live view recomputes a watched campaign, once for all its viewers (ms). */
  CONSOLE_LIVE_INTERVAL_MS: int(1_000),
  /** Bull Board lets a signed-in user retry, clean or pause jobs only when this is true: read-only by default, as it bypasses the engine's own actions. */
  BULL_BOARD_ACTIONS: z.enum(['true', 'false']).default('false'),
  /** `production` makes a missing CREDENTIALS_KEYS fatal; anything else falls back to a logged development key. */
  NODE_ENV: z.string().default('development'),
  /**
   * Keys that encrypt provider credentials at rest: `id:base64,...`, each 32 bytes (AES-256-GCM).
   * Every listed key can decrypt, so a rotation can run while the engine sends. Unset: the
   * development key outside production, a refusal to start in production.
   */
  CREDENTIALS_KEYS: z.string().optional(),
  /** The key id new and rotated credentials are encrypted with. Default: the only key, when one is listed. */
  CREDENTIALS_KEY_ID: z.string().optional(),
  /** Lets provider URLs reach loopback/private addresses over http or https: on-premise providers, tests, the demo. */
  PROVIDER_ALLOW_PRIVATE_HOSTS: flag,
  /** The local sandbox provider (no real messages): off unless an operator turns it on (demo, tests). */
  SANDBOX_PROVIDER_ENABLED: flag,
  /** How often each worker process looks for outbound events due for delivery (ms). */
  EVENTS_POLL_MS: int(500),
  /** First retry delay of an outbound event delivery (ms); doubles each attempt, with jitter. */
  EVENTS_RETRY_BASE_MS: int(10_000),
  /** Cap on one outbound event retry delay (ms): an endpoint that is back is found within this. */
  EVENTS_RETRY_MAX_MS: int(3_600_000),
  /** Hours an undelivered event is retried before it is given up on (at least 24: a receiver down for a day loses nothing). */
  EVENTS_RETRY_HOURS: int(72),
  /** Timeout of one delivery to a tenant's endpoint (ms). */
  EVENTS_TIMEOUT_MS: int(10_000),
  /** Days a delivered (or given-up) outbound event stays readable in the delivery log before it is deleted. */
  EVENTS_RETENTION_DAYS: int(30),
  /** Allow event endpoints on plain http and private or loopback hosts. Off: a tenant cannot make the engine call into its network. */
  EVENTS_ALLOW_PRIVATE_URLS: z.enum(['true', 'false', '1', '0']).default('false'),
  /** How long /metrics reuses its database and Redis readings (ms): scrapes from several Prometheus servers cost one read. */
  METRICS_CACHE_MS: int(5_000),
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
  /** Redis Cluster seed nodes and their shared credentials; null for one Redis at redisUrl. */
  redisCluster: RedisClusterTarget | null;
  queuePrefix: string;
  host: string;
  port: number;
  publicUrl: string | null;
  webhookPollMs: number;
  webhookBodyLimitBytes: number;
  webhookReplayWindowSeconds: number;
  webhookRateLimit: number;
  webhookRateWindowSeconds: number;
  logLevel: z.infer<typeof schema>['LOG_LEVEL'];
  workerConcurrency: number;
  workerNice: number;
  sendTimeoutMs: number;
  sendingLeaseMs: number;
  queueWindowSeconds: number;
  queueWindowMaxJobs: number;
  feederIntervalMs: number;
  sweeperIntervalMs: number;
  jobLockMs: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  uploadMaxBytes: number;
  breakerMinCalls: number;
  rateJitterMs: number;
  rateDepartureLog: boolean;
  breakerOpenMs: number;
  ingestBatchRows: number;
  consoleSessionTtlSeconds: number;
  consoleLiveIntervalMs: number;
  bullBoardActions: boolean;
  nodeEnv: string;
  /** Credential encryption keys by id (32 bytes each); empty outside production means the development key. */
  credentialKeys: ReadonlyMap<string, Buffer>;
  /** The id of the key that encrypts; null with no keys configured. */
  credentialKeyId: string | null;
  providerAllowPrivateHosts: boolean;
  sandboxProviderEnabled: boolean;
  eventsPollMs: number;
  eventsRetryBaseMs: number;
  eventsRetryMaxMs: number;
  eventsRetryHours: number;
  eventsTimeoutMs: number;
  eventsAllowPrivateUrls: boolean;
  eventsRetentionDays: number;
  metricsCacheMs: number;
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

export type RedisClusterTarget = Readonly<{ nodes: readonly { host: string; port: number }[]; username?: string; password?: string; tls: boolean }>;

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
  const keys = parseCredentialKeys(e.CREDENTIALS_KEYS, e.CREDENTIALS_KEY_ID, e.NODE_ENV);
  return Object.freeze({
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    redisCluster: parseClusterNodes(e.REDIS_CLUSTER_NODES),
    queuePrefix: e.QUEUE_PREFIX,
    host: e.HOST,
    port: e.PORT,
    publicUrl: e.PUBLIC_URL?.replace(/\/+$/, '') ?? null,
    webhookPollMs: Math.max(10, e.WEBHOOK_POLL_MS),
    webhookBodyLimitBytes: Math.max(1_024, e.WEBHOOK_BODY_LIMIT_BYTES),
    webhookReplayWindowSeconds: Math.max(60, e.WEBHOOK_REPLAY_WINDOW_SECONDS),
    webhookRateLimit: e.WEBHOOK_RATE_LIMIT,
    webhookRateWindowSeconds: Math.max(1, e.WEBHOOK_RATE_WINDOW_SECONDS),
    logLevel: e.LOG_LEVEL,
    workerConcurrency: Math.max(1, e.WORKER_CONCURRENCY),
    workerNice: e.WORKER_NICE,
    sendTimeoutMs: e.SEND_TIMEOUT_MS,
    sendingLeaseMs: e.SENDING_LEASE_MS,
    queueWindowSeconds: Math.max(1, e.QUEUE_WINDOW_SECONDS),
    queueWindowMaxJobs: Math.max(100, e.QUEUE_WINDOW_MAX_JOBS),
    feederIntervalMs: Math.max(10, e.FEEDER_INTERVAL_MS),
    sweeperIntervalMs: Math.max(100, e.SWEEPER_INTERVAL_MS),
    jobLockMs: Math.max(1_000, e.JOB_LOCK_MS),
    retryBaseDelayMs: e.RETRY_BASE_DELAY_MS,
    retryMaxDelayMs: e.RETRY_MAX_DELAY_MS,
    uploadMaxBytes: e.UPLOAD_MAX_BYTES,
    breakerMinCalls: Math.max(1, e.BREAKER_MIN_CALLS),
    rateJitterMs: Math.min(500, e.RATE_JITTER_MS),
    rateDepartureLog: e.RATE_DEPARTURE_LOG === 'true',
    breakerOpenMs: Math.max(100, e.BREAKER_OPEN_MS),
    ingestBatchRows: Math.max(100, e.INGEST_BATCH_ROWS),
    consoleSessionTtlSeconds: Math.max(60, e.CONSOLE_SESSION_TTL_SECONDS),
    consoleLiveIntervalMs: Math.max(100, e.CONSOLE_LIVE_INTERVAL_MS),
    bullBoardActions: e.BULL_BOARD_ACTIONS === 'true',
    nodeEnv: e.NODE_ENV,
    credentialKeys: keys.keys,
    credentialKeyId: keys.activeId,
    providerAllowPrivateHosts: e.PROVIDER_ALLOW_PRIVATE_HOSTS,
    sandboxProviderEnabled: e.SANDBOX_PROVIDER_ENABLED,
    eventsPollMs: Math.max(10, e.EVENTS_POLL_MS),
    eventsRetryBaseMs: Math.max(10, e.EVENTS_RETRY_BASE_MS),
    eventsRetryMaxMs: Math.max(10, e.EVENTS_RETRY_MAX_MS),
    eventsRetryHours: Math.max(24, e.EVENTS_RETRY_HOURS),
    eventsTimeoutMs: Math.max(100, e.EVENTS_TIMEOUT_MS),
    eventsAllowPrivateUrls: e.EVENTS_ALLOW_PRIVATE_URLS === 'true' || e.EVENTS_ALLOW_PRIVATE_URLS === '1',
    eventsRetentionDays: Math.max(1, e.EVENTS_RETENTION_DAYS),
    metricsCacheMs: e.METRICS_CACHE_MS,
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

/** REDIS_CLUSTER_NODES: `host:port` or redis(s):// URLs, comma-separated; empty or unset is no cluster. */
export function parseClusterNodes(list: string | undefined): RedisClusterTarget | null {
  const entries = (list ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (entries.length === 0) return null;
  const urls = entries.map((entry) => {
    let url: URL;
    try {
      url = new URL(/^rediss?:\/\//.test(entry) ? entry : `redis://${entry}`);
    } catch {
      url = new URL('redis://invalid');
    }
    const port = Number(url.port || 6379);
    if (url.hostname === 'invalid' || !url.hostname || !Number.isInteger(port) || port <= 0 || port > 65535) {
      throw new ConfigError(`invalid environment: REDIS_CLUSTER_NODES: "${entry}" is not host:port or a redis:// URL`);
    }
    return { url, host: url.hostname.replace(/^\[|\]$/g, ''), port };
  });
  const first = urls[0]!.url;
  return {
    nodes: urls.map(({ host, port }) => ({ host, port })),
    ...(first.username ? { username: decodeURIComponent(first.username) } : {}),
    ...(first.password ? { password: decodeURIComponent(first.password) } : {}),
    tls: first.protocol === 'rediss:',
  };
}

/** CREDENTIALS_KEYS (`id:base64,...`) checked: 32-byte keys, unique ids, an active id that exists. */
function parseCredentialKeys(list: string | undefined, activeId: string | undefined, nodeEnv: string): { keys: ReadonlyMap<string, Buffer>; activeId: string | null } {
  const keys = new Map<string, Buffer>();
  for (const entry of (list ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const colon = entry.indexOf(':');
    const id = colon > 0 ? entry.slice(0, colon) : '';
    const key = Buffer.from(entry.slice(colon + 1), 'base64');
    if (!/^[A-Za-z0-9_.-]{1,32}$/.test(id)) throw new ConfigError('invalid environment: CREDENTIALS_KEYS: each entry is id:base64key, the id made of letters, digits, "_", "." or "-"');
    if (key.length !== 32) throw new ConfigError(`invalid environment: CREDENTIALS_KEYS: key "${id}" must be 32 bytes (base64 of 32 random bytes: openssl rand -base64 32)`);
    if (keys.has(id)) throw new ConfigError(`invalid environment: CREDENTIALS_KEYS: key id "${id}" is listed twice`);
    keys.set(id, key);
  }
  if (keys.size === 0) {
    if (nodeEnv === 'production') throw new ConfigError('invalid environment: CREDENTIALS_KEYS is required when NODE_ENV=production (provider credentials are encrypted at rest with it)');
    if (activeId?.trim()) throw new ConfigError('invalid environment: CREDENTIALS_KEY_ID is set but CREDENTIALS_KEYS is empty');
    return { keys, activeId: null };
  }
  // An empty CREDENTIALS_KEY_ID (compose's `${VAR:-}`) means unset.
  const active = activeId?.trim() || (keys.size === 1 ? [...keys.keys()][0] : undefined);
  if (!active || !keys.has(active)) throw new ConfigError('invalid environment: CREDENTIALS_KEY_ID must name one of the ids in CREDENTIALS_KEYS (required when more than one key is listed)');
  return { keys, activeId: active };
}

const cliSchema = z.object({
  /** The API the `wce` CLI talks to, e.g. https://engine.example.com. */
  WCE_URL: z.string().url().optional(),
  /** The tenant API key the `wce` CLI sends. */
  WCE_API_KEY: z.string().min(1).optional(),
  /** Where the CLI's config file lives by default: $XDG_CONFIG_HOME/wce/config.json, else ~/.config/wce/config.json. */
  XDG_CONFIG_HOME: z.string().min(1).optional(),
  HOME: z.string().min(1).optional(),
});

export type CliEnv = Readonly<{ url: string | null; apiKey: string | null; defaultConfigPath: string | null }>;

/** The `wce` CLI's own settings from the environment (src/cli/wce); the engine's are loadConfig's. */
export function loadCliEnv(env: NodeJS.ProcessEnv = process.env): CliEnv {
  const parsed = cliSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(`invalid environment: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const e = parsed.data;
  const base = e.XDG_CONFIG_HOME ?? (e.HOME ? `${e.HOME}/.config` : null);
  return Object.freeze({ url: e.WCE_URL ?? null, apiKey: e.WCE_API_KEY ?? null, defaultConfigPath: base ? `${base}/wce/config.json` : null });
}
