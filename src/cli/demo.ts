/**
 * `npm run demo`: a whole campaign end to end against the local Postgres and Redis.
 * Migrates the database, starts the API and a worker as separate processes, starts a sandbox
 * provider, creates a tenant, account and template, uploads demo/recipients.csv (10k rows,
 * some deliberately bad), starts the campaign with a live progress bar, prints the final
 * per-status summary and writes the export. Exits 0 when the campaign completed.
 *
 * In a terminal it then prints the console's URL and the demo tenant's API key to sign in with,
 * and keeps the stack running until Ctrl-C; with no terminal (CI) it exits at once.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createTenant } from '../tenants/api-keys.js';
import { loadConfig } from '../config.js';
import { createDatabase } from '../db/database.js';
import { applyMigrations } from '../db/schema-engine.js';
import { startSandboxServer } from '../providers/sandbox/sandbox-server.js';
import { SEND_WORKER_NODE_FLAGS } from '../queue/worker-node-flags.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SAMPLE = join(ROOT, 'demo/recipients.csv');
const OUTPUT = join(ROOT, 'demo-output');
const RATE = 400;

const config = loadConfig();
const children: ChildProcess[] = [];
/** What the demo's API and worker run with besides the environment: set by main() (sandbox on, local provider, a credentials key). */
const demoEnv: Record<string, string> = {};
const say = (line: string) => process.stdout.write(`${line}\n`);

function start(script: string, env: Record<string, string>): Promise<{ child: ChildProcess; message: { type: string; port?: number } }> {
  return new Promise((resolvePromise, reject) => {
    const child = fork(join(ROOT, script), [], {
      execArgv: [...(script === 'workers/send-worker.ts' ? SEND_WORKER_NODE_FLAGS : []), '--import', 'tsx'],
      env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', ...demoEnv, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
    child.once('message', (message) => resolvePromise({ child, message: message as { type: string; port?: number } }));
    child.once('exit', (code) => reject(new Error(`${script} exited with code ${code} before it was ready`)));
  });
}

async function api<T>(base: string, key: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined && !(body instanceof ReadableStream) ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : body instanceof ReadableStream ? body : JSON.stringify(body),
    ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
  } as RequestInit);
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} -> ${response.status}: ${text}`);
  return (text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as T;
}

type Progress = { counts: Record<string, number>; total: number; done: number; ratePerSecond: number; etaSeconds: number | null };
type CampaignView = { id: string; status: string; statusReason: string | null; progress: Progress };

function bar(p: Progress, width = 30): string {
  const fraction = p.total ? p.done / p.total : 0;
  const filled = Math.round(fraction * width);
  const eta = p.etaSeconds === null ? '--' : `${p.etaSeconds}s`;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%  ${p.done}/${p.total}  ${p.ratePerSecond.toFixed(0)} msg/s  ETA ${eta}`;
}

/**
 * A credentials key for the demo's processes: the operator's CREDENTIALS_KEYS when set, else one
 * generated on the first run and kept in demo-output/ (mode 0600), so accounts of earlier runs
 * stay readable.
 */
async function demoCredentialsKey(): Promise<Record<string, string>> {
  if (config.credentialKeys.size > 0) return {};
  const path = join(OUTPUT, 'credentials-key');
  let key = await readFile(path, 'utf8').then((text) => text.trim()).catch(() => '');
  if (!key) {
    key = randomBytes(32).toString('base64');
    await mkdir(OUTPUT, { recursive: true });
    await writeFile(path, `${key}\n`, { mode: 0o600 });
    say(`Generated a credentials encryption key for the demo (${path})`);
  }
  return { CREDENTIALS_KEYS: `demo:${key}`, CREDENTIALS_KEY_ID: 'demo' };
}

async function main(): Promise<void> {
  // The sandbox provider and a provider on 127.0.0.1 are refused unless the operator allows them: the demo does.
  Object.assign(demoEnv, { SANDBOX_PROVIDER_ENABLED: 'true', PROVIDER_ALLOW_PRIVATE_HOSTS: 'true' }, await demoCredentialsKey());
  say(`Database ${new URL(config.databaseUrl).pathname.slice(1)} on ${new URL(config.databaseUrl).host}, Redis ${config.redisCluster ? `Cluster ${config.redisCluster.nodes.map((n) => `${n.host}:${n.port}`).join(',')}` : new URL(config.redisUrl).host}`);
  const applied = await applyMigrations(config.databaseUrl);
  say(applied.length ? `Migrated: ${applied.join(', ')}` : 'Database schema is up to date');

  const sandbox = await startSandboxServer({ latencyMs: [5, 40], failureRate: 0.02, token: 'demo-sandbox-token' });
  say(`Sandbox provider listening at ${sandbox.url} (5-40 ms latency, 2% transient errors)`);

  const { message } = await start('workers/api-server.ts', { PORT: '0', HOST: '127.0.0.1' });
  const base = `http://127.0.0.1:${message.port}`;
  await start('workers/send-worker.ts', {});
  say(`API at ${base}, one send worker running`);

  const db = createDatabase(config.databaseUrl, { max: 2 });
  const { apiKey } = await createTenant(db, `demo ${new Date().toISOString()}`);
  await db.close();

  const account = await api<{ id: string; webhook: { url: string } }>(base, apiKey, 'POST', '/v1/accounts', {
    provider: 'sandbox', name: 'Sandbox (demo)', config: { baseUrl: sandbox.url }, credentials: { token: 'demo-sandbox-token' }, ratePerSecond: RATE,
  });
  const template = await api<{ id: string; paramCount: number }>(base, apiKey, 'POST', '/v1/templates', {
    accountId: account.id, name: 'recordatorio_pago', language: 'es', category: 'UTILITY', body: 'Hola {{1}}, te recordamos tu saldo pendiente de {{2}}.',
  });
  const { campaign } = await api<{ campaign: { id: string } }>(base, apiKey, 'POST', '/v1/campaigns', {
    name: 'Demo: recordatorio de pago', accountId: account.id, templateId: template.id, defaultCountry: 'CL',
  }, { 'idempotency-key': `demo-${Date.now()}` });
  say(`Created account ${account.id}, template recordatorio_pago (${template.paramCount} placeholders), campaign ${campaign.id}`);
  // The sandbox reports deliveries, reads and replies to the account's webhook, as Meta would.
  sandbox.settings.webhook = {
    url: `${base}${account.webhook.url}`,
    secret: 'demo-sandbox-token',
    deliveredRate: 0.97,
    readRate: 0.6,
    replyRate: 0.05,
    optOutRate: 0.3,
    delayMs: [200, 1500],
  };
  say('Sandbox will report delivered / read / replies to the account webhook (97% delivered, 60% of those read, 5% of reads replied)');

  const file = ReadableStream.from(createReadStream(SAMPLE)) as ReadableStream;
  const { upload } = await api<{ upload: { uploadId: string; totalRows: number; accepted: number; rejected: number; duplicates: number; encoding: string; delimiter: string; rejectedByReason: Record<string, number>; rejectedReportUrl: string } }>(
    base, apiKey, 'POST', `/v1/campaigns/${campaign.id}/recipients?filename=recipients.csv`, file, { 'content-type': 'text/csv' },
  );
  say(`Uploaded demo/recipients.csv (${upload.encoding}, "${upload.delimiter}"-separated): ${upload.totalRows} rows, ${upload.accepted} accepted, ${upload.rejected} rejected, ${upload.duplicates} duplicates`);
  for (const [reason, n] of Object.entries(upload.rejectedByReason)) say(`  rejected ${String(n).padStart(4)}  ${reason}`);
  await mkdir(OUTPUT, { recursive: true });
  const rejectedPath = join(OUTPUT, `rejected-${upload.uploadId}.csv`);
  await writeFile(rejectedPath, await api<string>(base, apiKey, 'GET', upload.rejectedReportUrl));
  say(`Rejected-rows report: ${rejectedPath}`);

  await api(base, apiKey, 'POST', `/v1/campaigns/${campaign.id}/start`);
  say(`Campaign started at ${RATE} msg/s`);
  const tty = process.stdout.isTTY;
  let view: CampaignView;
  let lastPrinted = 0;
  for (;;) {
    view = await api<CampaignView>(base, apiKey, 'GET', `/v1/campaigns/${campaign.id}`);
    if (tty) process.stdout.write(`\r${bar(view.progress)}   `);
    else if (Date.now() - lastPrinted > 2_000) {
      say(bar(view.progress));
      lastPrinted = Date.now();
    }
    if (view.status !== 'running') break;
    await new Promise((r) => setTimeout(r, 300));
  }
  if (tty) process.stdout.write('\n');
  say(bar(view.progress));
  say(`Campaign ${view.status}${view.statusReason ? `: ${view.statusReason}` : ''}`);
  say('Per-status summary:');
  for (const [status, n] of Object.entries(view.progress.counts)) if (n > 0) say(`  ${status.padEnd(10)} ${n}`);
  const exportPath = join(OUTPUT, `campaign-${campaign.id}.csv`);
  await writeFile(exportPath, await api<string>(base, apiKey, 'GET', `/v1/campaigns/${campaign.id}/export.csv`));
  say(`Export of every recipient's result: ${exportPath}`);
  const funnel = await settledFunnel(base, apiKey, campaign.id);
  say(
    `Funnel: accepted ${funnel.accepted}, delivered ${funnel.delivered} (${pct(funnel.rates.delivered)}), read ${funnel.read} (${pct(funnel.rates.read)}), ` +
      `replied ${funnel.replied}, opted out ${funnel.optedOut}; time to deliver p50 ${funnel.timeToDeliver.p50 ?? '-'} s, p99 ${funnel.timeToDeliver.p99 ?? '-'} s`,
  );
  const stats = sandbox.stats();
  const repeats = Object.values(stats.perPhone).filter((n) => n > 1).length;
  say(`Sandbox saw ${stats.accepted} messages to ${Object.keys(stats.perPhone).length} phones; phones sent twice: ${repeats}; peak ${stats.maxPerSecond} msg/s`);

  if (view.status !== 'completed' || repeats > 0) throw new Error('the demo campaign did not complete cleanly');
  if (tty) {
    say('');
    say(`Console: ${base}/console   (open it in a browser)`);
    say(`Sign in with this API key: ${apiKey}`);
    say('The API, the worker and the sandbox keep running; press Ctrl-C to stop.');
    await new Promise<void>((r) => {
      for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => r());
    });
    say('\nStopping.');
  }
  await stopChildren();
  await sandbox.close();
}

type Funnel = {
  accepted: number;
  delivered: number;
  read: number;
  replied: number;
  optedOut: number;
  rates: { delivered: number | null; read: number | null };
  timeToDeliver: { p50: number | null; p99: number | null };
};

/** The funnel once the webhook callbacks (sent up to 1.5 s after each message) have been applied. */
async function settledFunnel(base: string, apiKey: string, campaignId: string): Promise<Funnel> {
  let last = '';
  for (let i = 0; i < 40; i += 1) {
    const funnel = await api<Funnel>(base, apiKey, 'GET', `/v1/campaigns/${campaignId}/funnel`);
    const now = JSON.stringify([funnel.delivered, funnel.read, funnel.replied]);
    if (now === last && funnel.delivered > 0) return funnel;
    last = now;
    await new Promise((r) => setTimeout(r, 1_000));
  }
  return api<Funnel>(base, apiKey, 'GET', `/v1/campaigns/${campaignId}/funnel`);
}

function pct(rate: number | null): string {
  return rate === null ? '-' : `${(rate * 100).toFixed(1)}%`;
}

async function stopChildren(): Promise<void> {
  await Promise.all(
    children.map((child) => new Promise<void>((r) => {
      if (child.exitCode !== null) return r();
      child.once('exit', () => r());
      child.kill('SIGTERM');
    })),
  );
}

try {
  await main();
  process.exit(0);
} catch (error) {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  await stopChildren().catch(() => undefined);
  process.exit(1);
}
