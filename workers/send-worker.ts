/**
 * A send worker process. Run as many as needed, on as many machines, against one Redis and one
 * Postgres: rate limits, leader duties and the exactly-once claim all hold across processes.
 * SIGTERM / SIGINT stop it gracefully (jobs under way finish and their results are written).
 */
import { setPriority } from 'node:os';
import { loadConfig } from '../src/config.js';
import { createDatabase } from '../src/db/database.js';
import { EventDeliveryLoop } from '../src/events/delivery-loop.js';
import { createLogger } from '../src/logger.js';
import { useSecuritySettings } from '../src/security/security-settings.js';
import { startMetricsFlusher } from '../src/observability/install.js';
import { WorkerHeartbeat } from '../src/health/worker-heartbeat.js';
import { WorkerHost } from '../src/queue/worker-host.js';
import { SendQueues } from '../src/queue/queues.js';
import { checkRedisMode, redisConnection } from '../src/redis-client.js';
import { WebhookProcessor } from '../src/webhooks/webhook-processor.js';

const config = loadConfig();
const logger = createLogger(config.logLevel, { role: 'worker' });
// A lower CPU priority when asked (WORKER_NICE), set before this process starts its own threads
// (they inherit it), so the API and the stores sharing the machine answer first.
if (config.workerNice > 0) {
  try {
    setPriority(config.workerNice);
    logger.info({ nice: config.workerNice }, 'worker CPU priority lowered');
  } catch (error) {
    logger.warn({ err: error instanceof Error ? error.message : String(error), nice: config.workerNice }, 'could not lower the worker CPU priority; running at the default');
  }
}
useSecuritySettings(config, logger);
const db = createDatabase(config.databaseUrl, { max: 10 });
const host = new WorkerHost(config, db, logger);
// Provider webhooks stored by the API are applied here, by every worker process (they share the backlog).
const webhookRedis = redisConnection(config);
webhookRedis.on('error', (error) => logger.warn({ err: error.message }, 'redis connection error (webhooks)'));
await checkRedisMode(webhookRedis);
// Outbound events for tenants' endpoints (the outbox), delivered by every worker process too.
const metrics = startMetricsFlusher(webhookRedis, config.queuePrefix);
const events = new EventDeliveryLoop(db.pool, config, logger.child({ component: 'events' }));
// The container healthcheck's signal (scripts/worker-healthcheck.mjs): a file touched while Postgres and Redis answer.
const heartbeat = config.workerHeartbeatFile
  ? new WorkerHeartbeat(config.workerHeartbeatFile, config.workerHeartbeatMs, { postgres: () => db.pool.query('SELECT 1'), redis: () => webhookRedis.ping() }, (error) =>
      logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'heartbeat skipped: a store did not answer'),
    )
  : null;
const webhooks = new WebhookProcessor({ db, queues: new SendQueues(webhookRedis, config.queuePrefix), logger }, { pollMs: config.webhookPollMs });

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping');
  const force = setTimeout(() => {
    logger.error('graceful stop took too long; exiting');
    process.exit(1);
  }, 30_000);
  force.unref();
  heartbeat?.stop();
  await host.stop();
  await webhooks.stop();
  await events.stop();
  await metrics.stop();
  webhookRedis.disconnect();
  await db.close();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

await host.start();
webhooks.start();
events.start();
heartbeat?.start();
process.send?.({ type: 'ready' });
