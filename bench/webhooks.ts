/**
 * npm run bench:webhooks — how many signed Meta status callbacks the receiver takes per second,
 * durably, and how fast the processor applies the stored backlog.
 *
 * The real API (workers/api-server.ts: buildApp, 127.0.0.1, a random port) runs in its own
 * process on its own database; autocannon drives POST /webhooks/<account>/<secret> from this
 * process over loopback. Every request is a Meta status body (the documented shape) for a
 * different recipient's wamid, with a unique `biz_opaque_callback_data`, signed with the
 * account's app secret. Per connection count, in the same run and under the same load:
 * - baseline "no DB": a bare Fastify route that answers 200 and writes nothing;
 * - baseline "1 INSERT": a bare Fastify route that INSERTs each body on its own (no batching)
 *   into a table shaped like webhook_events (same indexes and foreign key);
 * - the receiver: account lookup, HMAC check, parse, micro-batched INSERT, then 200.
 * Then durability: every request answered 2xx must be a webhook_events row (checked by its
 * marker); rows beyond the 2xx count are requests still in flight when autocannon stopped.
 * Finally one processor (as in one worker process) drains the stored backlog, timed.
 *
 * Target (the issue): >= 2,000 events/s with p99 < 100 ms, every acknowledged event durable.
 *
 * Env: BENCH_WEBHOOKS_SECONDS (20) per run, BENCH_WEBHOOKS_CONNECTIONS ("10,50"),
 * BENCH_WEBHOOKS_DRAIN_SECONDS (90) longest drain.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import { resolve } from 'node:path';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import pg from 'pg';
import { createTenant } from '../src/tenants/api-keys.js';
import { createDatabase } from '../src/db/database.js';
import { connectionFields } from '../src/db/schema-engine.js';
import { createLogger } from '../src/logger.js';
import { SendQueues } from '../src/queue/queues.js';
import { redisConnection } from '../src/redis-client.js';
import { WebhookProcessor, type ProcessReport } from '../src/webhooks/webhook-processor.js';
import { BENCH_DATABASE_URL, freshBenchDatabase, rate, table } from './support.js';

const SECONDS = Number(process.env.BENCH_WEBHOOKS_SECONDS ?? 20);
const CONNECTIONS = (process.env.BENCH_WEBHOOKS_CONNECTIONS ?? '10,50').split(',').map(Number);
const DRAIN_SECONDS = Number(process.env.BENCH_WEBHOOKS_DRAIN_SECONDS ?? 90);
/** Recipients sent a wamid before the load starts; request n reports on recipient n mod RECIPIENTS. */
const RECIPIENTS = 100_000;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const ROOT = resolve(import.meta.dirname, '..');
const APP_SECRET = 'bench-app-secret';
/** Its own database, so it can run beside the other benches. */
const DATABASE_URL = (() => {
  const url = new URL(BENCH_DATABASE_URL);
  url.pathname = `${url.pathname}_webhooks`;
  return url.toString();
})();

// --- The bench --------------------------------------------------------------------------------

type Server = { child: ChildProcess; port: number };
type Run = { label: string; connections: number; result: autocannon.Result; from: number; to: number; acknowledged: number[] };

function startChild(file: string, args: string[], env: Record<string, string>): Promise<Server> {
  return new Promise((resolveStart, reject) => {
    const child = fork(file, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (message: { port?: number }) => resolveStart({ child, port: message.port ?? 0 }));
    child.once('exit', (code) => reject(new Error(`${file} ${args.join(' ')} exited ${code}`)));
  });
}

function stopChild(server: Server): Promise<void> {
  return new Promise((resolveStop) => {
    server.child.removeAllListeners('exit');
    server.child.once('exit', () => resolveStop());
    server.child.kill('SIGTERM');
  });
}

/** The documented status envelope for recipient `n mod RECIPIENTS`, marked with the request's own number. */
function statusBody(n: number, at: number): string {
  const index = n % RECIPIENTS;
  const status = ['delivered', 'read', 'sent'][Math.floor(n / RECIPIENTS) % 3] ?? 'delivered';
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: [
          {
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550783881', phone_number_id: '106540352242922' },
              statuses: [
                {
                  id: `wamid.bench.${index}`,
                  status,
                  timestamp: String(at),
                  recipient_id: `52155${String(10_000_000 + index)}`,
                  biz_opaque_callback_data: `bench-${n}`,
                  pricing: { billable: true, pricing_model: 'PMP', category: 'marketing', type: 'regular' },
                },
              ],
            },
            field: 'messages',
          },
        ],
      },
    ],
  });
}

let sequence = 0;

/** One autocannon run; with `track`, the request numbers answered 2xx. */
async function load(label: string, port: number, path: string, connections: number, seconds: number, track: boolean): Promise<Run> {
  const from = sequence;
  const acknowledged: number[] = [];
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        path,
        setupRequest: (request, context) => {
          const n = sequence++;
          (context as { n?: number }).n = n;
          const body = statusBody(n, Math.floor(Date.now() / 1000));
          const signature = `sha256=${createHmac('sha256', APP_SECRET).update(body).digest('hex')}`;
          return { ...request, body, headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature } };
        },
        onResponse: (status, _body, context) => {
          const n = (context as { n?: number }).n;
          if (track && status >= 200 && status < 300 && n !== undefined) acknowledged.push(n);
        },
      },
    ],
  });
  return { label, connections, result, from, to: sequence, acknowledged };
}

async function main(): Promise<void> {
  // The machine may be shared: its load is printed beside the figures.
  const loadBefore = loadavg()[0] ?? 0;
  await freshBenchDatabase(DATABASE_URL);
  const db = createDatabase(DATABASE_URL, { max: 4 });
  // The baseline writes the same rows to a table shaped like webhook_events (same indexes,
  // defaults and foreign key), so the difference is the receiver's work, not the table's.
  await db.pool.query('CREATE TABLE bench_baseline_events (LIKE webhook_events INCLUDING ALL)');
  await db.pool.query('ALTER TABLE bench_baseline_events ADD FOREIGN KEY (account_id) REFERENCES provider_accounts (id)');
  const { tenantId, apiKey } = await createTenant(db, 'bench');
  const prefix = `bench-webhooks-${randomUUID().slice(0, 8)}`;

  const api = await startChild(resolve(ROOT, 'workers/api-server.ts'), [], {
    DATABASE_URL,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'warn',
  });
  const created = await fetch(`http://127.0.0.1:${api.port}/v1/accounts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ provider: 'meta', name: 'bench', config: { phoneNumberId: '106540352242922' }, credentials: { accessToken: 'bench-token', appSecret: APP_SECRET } }),
  });
  if (created.status !== 201) throw new Error(`creating the account failed: ${created.status} ${await created.text()}`);
  const account = (await created.json()) as { id: string; webhook: { url: string } };
  const path = new URL(account.webhook.url, 'http://engine.invalid').pathname;

  // Recipients already sent, each with its wamid, so the drain applies statuses rather than waiting.
  const template = await db.prisma.template.create({ data: { tenantId, accountId: account.id, name: 'bench', body: 'Hola {{1}}', paramCount: 1 } });
  const campaign = await db.prisma.campaign.create({ data: { tenantId, accountId: account.id, templateId: template.id, name: 'bench', status: 'running' } });
  await db.pool.query(
    `INSERT INTO recipients (tenant_id, campaign_id, phone, raw_phone, line, variables, status, attempts, provider_message_id, sent_at)
     SELECT $1, $2, '+5255' || (10000000 + g)::text, '55' || (10000000 + g)::text, g + 1, '["Ana"]'::jsonb, 'sent', 1, 'wamid.bench.' || g, now()
       FROM generate_series(0, $3 - 1) g`,
    [tenantId, campaign.id, RECIPIENTS],
  );

  const noop = await startChild(import.meta.filename, ['baseline', 'noop'], {});
  const insert = await startChild(import.meta.filename, ['baseline', 'insert'], { BENCH_TENANT_ID: tenantId, BENCH_ACCOUNT_ID: account.id });

  // Warm-up (JIT, connection pools), not counted.
  for (const port of [noop.port, insert.port, api.port]) await load('warm-up', port, path, 10, 2, false);
  const warmedUpTo = sequence;

  const runs: Run[] = [];
  for (const connections of CONNECTIONS) {
    runs.push(await load('baseline: bare route, no DB write', noop.port, path, connections, SECONDS, false));
    runs.push(await load('baseline: bare route, 1 INSERT per request', insert.port, path, connections, SECONDS, false));
    runs.push(await load('receiver (signature, parse, batched INSERT)', api.port, path, connections, SECONDS, true));
  }
  // Requests cut off when a run stopped may still be finishing on the server.
  await new Promise((r) => setTimeout(r, 1_000));
  await stopChild(noop);
  await stopChild(insert);
  await stopChild(api);

  // Durability: every request answered 2xx is a stored row.
  const stored = await db.pool.query<{ n: string }>(
    `SELECT substring(body FROM '"biz_opaque_callback_data":"bench-([0-9]+)"') AS n FROM webhook_events WHERE account_id = $1`,
    [account.id],
  );
  const storedMarks = new Set(stored.rows.map((r) => Number(r.n)));

  const eventsPerSecond = (run: Run) => Math.round(run.result['2xx'] / run.result.duration);
  console.log(`\nbench:webhooks — signed Meta status callbacks over loopback, ${SECONDS} s per run, autocannon in the bench process, servers in their own`);
  console.log(`${availableParallelism()} cores; 1-min load average ${loadBefore.toFixed(1)} before the runs, ${(loadavg()[0] ?? 0).toFixed(1)} after\n`);
  const rows: (string | number)[][] = [['connections', 'server', '2xx/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors', 'vs no-DB', 'vs 1 INSERT']];
  const durability: (string | number)[][] = [['connections', '2xx', 'rows stored', 'acknowledged but not stored', 'stored, cut off before the answer']];
  for (const connections of CONNECTIONS) {
    const [bare, single, receiver] = runs.filter((r) => r.connections === connections);
    if (!bare || !single || !receiver) continue;
    for (const run of [bare, single, receiver]) {
      rows.push([
        connections,
        run.label,
        eventsPerSecond(run),
        run.result.latency.p50,
        run.result.latency.p99,
        run.result.non2xx,
        run.result.errors,
        `${(eventsPerSecond(run) / eventsPerSecond(bare)).toFixed(2)}x`,
        `${(eventsPerSecond(run) / eventsPerSecond(single)).toFixed(2)}x`,
      ]);
    }
    let inRange = 0;
    for (let n = receiver.from; n < receiver.to; n++) if (storedMarks.has(n)) inRange++;
    const lost = receiver.acknowledged.filter((n) => !storedMarks.has(n)).length;
    durability.push([connections, receiver.result['2xx'], inRange, lost, inRange - (receiver.acknowledged.length - lost)]);
  }
  console.log(table(rows));
  console.log('\ndurability (receiver runs): every 2xx must be a webhook_events row');
  console.log(table(durability));
  const warmupRows = [...storedMarks].filter((n) => n < warmedUpTo).length;
  console.log(`(plus ${warmupRows} rows from the warm-up)`);

  // The processor, as one worker process runs it, over the whole stored backlog.
  const { rows: backlogRows } = await db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM webhook_events WHERE status = 'pending'`);
  const backlog = Number(backlogRows[0]?.n ?? 0);
  const redis = redisConnection(REDIS_URL);
  const drainDb = createDatabase(DATABASE_URL, { max: 10 });
  const processor = new WebhookProcessor({ db: drainDb, queues: new SendQueues(redis, prefix), logger: createLogger('warn') }, { pollMs: 200 });
  const total: ProcessReport = { processed: 0, waiting: 0, ignored: 0, failed: 0 };
  const started = Date.now();
  for (;;) {
    const report = await processor.processOnce();
    for (const key of Object.keys(total) as (keyof ProcessReport)[]) total[key] += report[key];
    if (report.processed + report.waiting + report.ignored + report.failed === 0 || Date.now() - started > DRAIN_SECONDS * 1000) break;
  }
  const drainMs = Date.now() - started;
  const handled = total.processed + total.waiting + total.ignored + total.failed;
  const { rows: states } = await db.pool.query<{ status: string; n: string }>(`SELECT status::text, count(*) AS n FROM recipients WHERE campaign_id = $1 GROUP BY 1 ORDER BY 1`, [campaign.id]);
  console.log(`\nprocessor drain (1 processor, batches of 100): backlog ${backlog} requests`);
  console.log(
    table([
      ['handled', 'time', 'requests/s', 'processed', 'waiting', 'ignored', 'failed', 'left pending'],
      [handled, `${(drainMs / 1000).toFixed(1)} s`, rate(handled, drainMs), total.processed, total.waiting, total.ignored, total.failed, backlog - handled],
    ]),
  );
  console.log(`recipients after the drain: ${states.map((s) => `${s.status} ${s.n}`).join(', ')}`);
  console.log('\ntarget: receiver >= 2,000 events/s with p99 < 100 ms, every acknowledged event stored');

  await drainDb.close();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  await db.close();
  const fields = connectionFields(DATABASE_URL);
  const admin = new pg.Client({ ...fields, database: 'postgres' });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(String(fields.database))} WITH (FORCE)`);
  await admin.end();
  process.exit(0);
}

// --- Child process: a baseline server ---------------------------------------------------------

/** A bare Fastify server on the same database, for comparison. */
async function baselineServer(): Promise<void> {
  const mode = process.argv[3] === 'insert' ? 'insert' : 'noop';
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 20 });
  const app = Fastify({ bodyLimit: 4 * 1_048_576 });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  app.post('/webhooks/:accountId/:secret', async (request, reply) => {
    if (mode === 'insert') {
      const body = Buffer.isBuffer(request.body) ? request.body.toString('utf8') : '';
      await pool.query(`INSERT INTO bench_baseline_events (tenant_id, account_id, provider, content_type, body) VALUES ($1, $2, 'meta', $3, $4)`, [
        process.env.BENCH_TENANT_ID,
        process.env.BENCH_ACCOUNT_ID,
        request.headers['content-type'] ?? null,
        body,
      ]);
    }
    return reply.status(200).send({ received: true });
  });
  process.on('SIGTERM', () => void app.close().then(() => pool.end()).then(() => process.exit(0)));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  process.send?.({ type: 'listening', port: typeof address === 'object' && address ? address.port : 0 });
}

// The same file is the bench (no argument) and its baseline servers (forked with `baseline <mode>`).
if (process.argv[2] === 'baseline') await baselineServer();
else await main();
