// Container healthcheck of a send worker (docker-compose.yml): healthy while the worker's
// heartbeat file (WORKER_HEARTBEAT_FILE) is fresher than three beats (WORKER_HEARTBEAT_MS,
// default 10 s). Plain Node, no dependencies, so it starts fast every time it runs.
import { statSync } from 'node:fs';

const file = process.env.WORKER_HEARTBEAT_FILE;
const everyMs = Number(process.env.WORKER_HEARTBEAT_MS || 10_000);
try {
  if (!file) throw new Error('WORKER_HEARTBEAT_FILE is not set');
  const age = Date.now() - statSync(file).mtimeMs;
  if (age > 3 * everyMs) throw new Error(`last heartbeat ${Math.round(age / 1000)} s ago`);
  process.exit(0);
} catch (error) {
  process.stderr.write(`unhealthy: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
