/**
 * The README's configuration table is a promise: with an empty environment, loadConfig gives
 * every setting the default the table states, and the table states the default the code has.
 * Each row of the table below names a variable, how to read it from the loaded config and the
 * default asserted; the README's own table is parsed and must state that same default for every
 * variable, so the README and src/config.ts cannot drift apart. The security settings are off
 * and the API listens on loopback unless an operator says otherwise, and the floors the README
 * states hold (QUEUE_WINDOW_MAX_JOBS at least 100, EVENTS_RETRY_HOURS at least 24,
 * CONSOLE_SESSION_TTL_SECONDS at least 60).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';

const ROOT = resolve(import.meta.dirname, '../..');
const readme = readFileSync(resolve(ROOT, 'README.md'), 'utf8');

/** A default as the README writes it: a number, a word, or null for "unset". */
type Default = string | number | boolean | null;
type Row = { variable: string; read: (c: Config) => unknown; expected: Default };

const row = (variable: string, read: (c: Config) => unknown, expected: Default): Row => ({ variable, read, expected });

/** Every variable of the README's configuration table, and the default loadConfig({}) must give it. */
const DEFAULTS: readonly Row[] = [
  row('DATABASE_URL', (c) => c.databaseUrl, 'postgresql://postgres@127.0.0.1:5432/campaigns'),
  row('REDIS_URL', (c) => c.redisUrl, 'redis://127.0.0.1:6379'),
  row('REDIS_CLUSTER_NODES', (c) => c.redisCluster, null),
  row('QUEUE_PREFIX', (c) => c.queuePrefix, 'wce'),
  row('HOST', (c) => c.host, '127.0.0.1'),
  row('PORT', (c) => c.port, 3000),
  row('LOG_LEVEL', (c) => c.logLevel, 'info'),
  row('WORKER_CONCURRENCY', (c) => c.workerConcurrency, 1000),
  row('WORKER_NICE', (c) => c.workerNice, 0),
  row('SEND_TIMEOUT_MS', (c) => c.sendTimeoutMs, 15000),
  row('SENDING_LEASE_MS', (c) => c.sendingLeaseMs, 120000),
  row('QUEUE_WINDOW_SECONDS', (c) => c.queueWindowSeconds, 5),
  row('QUEUE_WINDOW_MAX_JOBS', (c) => c.queueWindowMaxJobs, 20000),
  row('FEEDER_INTERVAL_MS', (c) => c.feederIntervalMs, 250),
  row('SWEEPER_INTERVAL_MS', (c) => c.sweeperIntervalMs, 5000),
  row('JOB_LOCK_MS', (c) => c.jobLockMs, 30000),
  row('RETRY_BASE_DELAY_MS', (c) => c.retryBaseDelayMs, 2000),
  row('RETRY_MAX_DELAY_MS', (c) => c.retryMaxDelayMs, 300000),
  row('UPLOAD_MAX_BYTES', (c) => c.uploadMaxBytes, 268435456),
  row('INGEST_BATCH_ROWS', (c) => c.ingestBatchRows, 5000),
  row('PUBLIC_URL', (c) => c.publicUrl, null),
  row('WEBHOOK_POLL_MS', (c) => c.webhookPollMs, 200),
  row('RATE_JITTER_MS', (c) => c.rateJitterMs, 25),
  row('RATE_DEPARTURE_LOG', (c) => c.rateDepartureLog, false),
  row('BREAKER_MIN_CALLS', (c) => c.breakerMinCalls, 20),
  row('BREAKER_OPEN_MS', (c) => c.breakerOpenMs, 5000),
  row('WEBHOOK_BODY_LIMIT_BYTES', (c) => c.webhookBodyLimitBytes, 262144),
  row('WEBHOOK_RATE_LIMIT', (c) => c.webhookRateLimit, 300000),
  row('WEBHOOK_RATE_WINDOW_SECONDS', (c) => c.webhookRateWindowSeconds, 60),
  row('WEBHOOK_REPLAY_WINDOW_SECONDS', (c) => c.webhookReplayWindowSeconds, 3600),
  row('NODE_ENV', (c) => c.nodeEnv, 'development'),
  // Unset: no key configured (outside production the development key is used, src/security).
  row('CREDENTIALS_KEYS', (c) => (c.credentialKeys.size === 0 ? null : [...c.credentialKeys.keys()]), null),
  row('CREDENTIALS_KEY_ID', (c) => c.credentialKeyId, null),
  row('PROVIDER_ALLOW_PRIVATE_HOSTS', (c) => c.providerAllowPrivateHosts, false),
  row('SANDBOX_PROVIDER_ENABLED', (c) => c.sandboxProviderEnabled, false),
  row('API_RATE_LIMIT', (c) => c.apiRateLimit, 3000),
  row('API_RATE_WINDOW_SECONDS', (c) => c.apiRateWindowSeconds, 60),
  row('API_KEY_CACHE_SECONDS', (c) => c.apiKeyCacheSeconds, 60),
  row('CAMPAIGN_JSON_MAX_BYTES', (c) => c.campaignJsonMaxBytes, 4194304),
  row('REQUEST_TIMEOUT_MS', (c) => c.requestTimeoutMs, 300000),
  row('HEADERS_TIMEOUT_MS', (c) => c.headersTimeoutMs, 20000),
  row('METRICS_TOKEN', (c) => c.metricsToken, null),
  row('METRICS_CACHE_MS', (c) => c.metricsCacheMs, 5000),
  row('WORKER_HEARTBEAT_FILE', (c) => c.workerHeartbeatFile, null),
  row('WORKER_HEARTBEAT_MS', (c) => c.workerHeartbeatMs, 10000),
  row('CONSOLE_SESSION_TTL_SECONDS', (c) => c.consoleSessionTtlSeconds, 28800),
  row('CONSOLE_LIVE_INTERVAL_MS', (c) => c.consoleLiveIntervalMs, 1000),
  row('BULL_BOARD_ACTIONS', (c) => c.bullBoardActions, false),
  row('EVENTS_POLL_MS', (c) => c.eventsPollMs, 500),
  row('EVENTS_RETRY_BASE_MS', (c) => c.eventsRetryBaseMs, 10000),
  row('EVENTS_RETRY_MAX_MS', (c) => c.eventsRetryMaxMs, 3600000),
  row('EVENTS_RETRY_HOURS', (c) => c.eventsRetryHours, 72),
  row('EVENTS_TIMEOUT_MS', (c) => c.eventsTimeoutMs, 10000),
  row('EVENTS_RETENTION_DAYS', (c) => c.eventsRetentionDays, 30),
  row('EVENTS_ALLOW_PRIVATE_URLS', (c) => c.eventsAllowPrivateUrls, false),
];

/** How the README writes a default: `value`, or the word unset. */
const readmeSpelling = (value: Default): string => (value === null ? 'unset' : String(value));

/**
 * The README's "### Configuration" table, as variable -> the default it states. A row may name
 * several variables (`A`, `B`) with their defaults in the same order (`1`, `2`).
 */
function readmeDefaults(): Map<string, string> {
  const section = readme.split(/^### Configuration$/m)[1]?.split(/^#{1,3} /m)[0];
  if (!section) throw new Error('README.md has no "### Configuration" section');
  const table = new Map<string, string>();
  for (const line of section.split('\n')) {
    const cells = line.match(/^\|(.*)\|$/)?.[1]?.split('|').map((cell) => cell.trim());
    if (!cells || cells.length < 3 || cells[0] === 'variable' || /^-+$/.test(cells[0] ?? '')) continue;
    const names = [...cells[0]!.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]!);
    const defaults = cells[1]!.split(',').map((d) => d.trim().replace(/^`(.*)`$/, '$1'));
    // One default for several variables (`A`, `B` | unset) is each one's default.
    if (names.length === 0 || (defaults.length !== 1 && names.length !== defaults.length)) throw new Error(`README configuration row not understood: ${line}`);
    names.forEach((name, i) => table.set(name, defaults.length === 1 ? defaults[0]! : defaults[i]!));
  }
  return table;
}

describe('configuration defaults (README "Configuration")', () => {
  const config = loadConfig({});

  it('loads from an empty environment: no setting is required outside production', () => {
    expect(() => loadConfig({})).not.toThrow();
  });

  it.each(DEFAULTS.map((r) => [r.variable, r] as const))('%s has its documented default', (_variable, r) => {
    expect(r.read(config)).toEqual(r.expected);
  });

  it('the README table states, for every variable, the default asserted here', () => {
    const documented = readmeDefaults();
    expect(documented.size).toBeGreaterThan(40);
    // Every README row is covered here, and nothing here is missing from the README.
    expect([...documented.keys()].sort()).toEqual(DEFAULTS.map((r) => r.variable).sort());
    const stated = Object.fromEntries(DEFAULTS.map((r) => [r.variable, documented.get(r.variable)]));
    const asserted = Object.fromEntries(DEFAULTS.map((r) => [r.variable, readmeSpelling(r.expected)]));
    expect(stated).toEqual(asserted);
  });

  it('is closed by default: no private provider hosts, no sandbox, no private event URLs, loopback only', () => {
    expect(config.providerAllowPrivateHosts).toBe(false);
    expect(config.sandboxProviderEnabled).toBe(false);
    expect(config.eventsAllowPrivateUrls).toBe(false);
    expect(config.host).toBe('127.0.0.1');
    expect(config.bullBoardActions).toBe(false);
    expect(config.metricsToken).toBeNull();
  });
});

describe('the bounds the README states', () => {
  it('QUEUE_WINDOW_MAX_JOBS is at least 100', () => {
    for (const low of ['0', '1', '99']) expect(loadConfig({ QUEUE_WINDOW_MAX_JOBS: low }).queueWindowMaxJobs).toBe(100);
    expect(loadConfig({ QUEUE_WINDOW_MAX_JOBS: '100' }).queueWindowMaxJobs).toBe(100);
    expect(loadConfig({ QUEUE_WINDOW_MAX_JOBS: '101' }).queueWindowMaxJobs).toBe(101);
  });

  it('EVENTS_RETRY_HOURS is at least 24 h', () => {
    for (const low of ['0', '1', '23']) expect(loadConfig({ EVENTS_RETRY_HOURS: low }).eventsRetryHours).toBe(24);
    expect(loadConfig({ EVENTS_RETRY_HOURS: '25' }).eventsRetryHours).toBe(25);
  });

  it('CONSOLE_SESSION_TTL_SECONDS is at least 60 s', () => {
    for (const low of ['1', '59']) expect(loadConfig({ CONSOLE_SESSION_TTL_SECONDS: low }).consoleSessionTtlSeconds).toBe(60);
    expect(loadConfig({ CONSOLE_SESSION_TTL_SECONDS: '61' }).consoleSessionTtlSeconds).toBe(61);
  });

  it('WORKER_NICE is 0-19', () => {
    expect(loadConfig({ WORKER_NICE: '19' }).workerNice).toBe(19);
    expect(() => loadConfig({ WORKER_NICE: '20' })).toThrow(/WORKER_NICE/);
  });

  it('WEBHOOK_RATE_LIMIT and API_RATE_LIMIT keep 0, which turns them off', () => {
    const off = loadConfig({ WEBHOOK_RATE_LIMIT: '0', API_RATE_LIMIT: '0' });
    expect(off.webhookRateLimit).toBe(0);
    expect(off.apiRateLimit).toBe(0);
  });

  it('the security switches turn on only when asked', () => {
    const on = loadConfig({ PROVIDER_ALLOW_PRIVATE_HOSTS: 'true', SANDBOX_PROVIDER_ENABLED: '1', EVENTS_ALLOW_PRIVATE_URLS: 'true' });
    expect([on.providerAllowPrivateHosts, on.sandboxProviderEnabled, on.eventsAllowPrivateUrls]).toEqual([true, true, true]);
  });
});
