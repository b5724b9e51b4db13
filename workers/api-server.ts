/**
 * The API process. Stateless: run as many as needed behind a load balancer.
 * SIGTERM / SIGINT stop it gracefully (in-flight requests finish).
 */
import { buildApp } from '../src/api/app.js';
import { loadConfig } from '../src/config.js';
import { createDatabase } from '../src/db/database.js';
import { createLogger } from '../src/logger.js';
import { useSecuritySettings } from '../src/security/security-settings.js';
import { checkRedisMode, redisConnection } from '../src/redis-client.js';

const config = loadConfig();
const logger = createLogger(config.logLevel, { role: 'api' });
useSecuritySettings(config, logger);
const db = createDatabase(config.databaseUrl, { max: 20 });
const redis = redisConnection(config);
redis.on('error', (error) => logger.warn({ err: error.message }, 'redis connection error'));
await checkRedisMode(redis);
const app = await buildApp({ config, db, redis, logger });

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping');
  await app.close();
  redis.disconnect();
  await db.close();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));

await app.listen({ host: config.host, port: config.port });
const address = app.server.address();
process.send?.({ type: 'listening', port: typeof address === 'object' && address ? address.port : config.port });
