/**
 * Issue 12: after a whole small campaign, the API's and the worker's logs at debug level hold no
 * credential, API key, webhook secret or full phone number. Real processes (workers/api-server.ts
 * and workers/send-worker.ts) on this file's database, a local sandbox provider that sends signed
 * delivery, read and reply callbacks to the account's webhook URL, and the routes whose URLs
 * carry phones (suppression filter, cursor, DELETE path) called on purpose.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant } from '../../src/tenants/api-keys.js';
import { startSandboxServer, type SandboxServer } from '../../src/providers/sandbox/sandbox-server.js';
import { createTestContext, type TestContext } from '../support/test-context.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SANDBOX_TOKEN = 'sandbox-log-scan-token-93ac71e5';
const METRICS_TOKEN = 'metrics-log-scan-token-0d8f2b';
const PHONES = Array.from({ length: 8 }, (_, i) => `+5698765${String(4320 + i).padStart(4, '0')}`);

type Proc = { child: ChildProcess; output: string[] };

function start(script: string, ctx: TestContext, env: Record<string, string>): Promise<{ proc: Proc; message: { port?: number } }> {
  const child = fork(resolve(ROOT, script), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, DATABASE_URL: ctx.databaseUrl, QUEUE_PREFIX: ctx.queuePrefix, LOG_LEVEL: 'debug', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const output: string[] = [];
  child.stdout?.on('data', (data: Buffer) => output.push(data.toString('utf8')));
  child.stderr?.on('data', (data: Buffer) => output.push(data.toString('utf8')));
  return new Promise((resolvePromise, reject) => {
    child.once('message', (message) => resolvePromise({ proc: { child, output }, message: message as { port?: number } }));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}: ${output.join('')}`)));
  });
}

function stop(proc: Proc | undefined): Promise<void> {
  return new Promise((r) => {
    if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return r();
    proc.child.once('exit', () => r());
    proc.child.kill('SIGTERM');
  });
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}

let ctx: TestContext;
let sandbox: SandboxServer;
let api: Proc | undefined;
let worker: Proc | undefined;
const secrets: string[] = [SANDBOX_TOKEN, METRICS_TOKEN];

beforeAll(async () => {
  ctx = await createTestContext();
  sandbox = await startSandboxServer({ token: SANDBOX_TOKEN });
  const started = await start('workers/api-server.ts', ctx, { PORT: '0', HOST: '127.0.0.1', METRICS_TOKEN });
  api = started.proc;
  worker = (await start('workers/send-worker.ts', ctx, {})).proc;
  const base = `http://127.0.0.1:${started.message.port ?? 0}`;
  const { apiKey } = await createTenant(ctx.db, 'log scan');
  secrets.push(apiKey);

  const call = async <T>(method: string, path: string, body?: unknown, key = apiKey): Promise<{ status: number; json: T }> => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, json: (text ? JSON.parse(text) : null) as T };
  };

  const account = await call<{ id: string; webhook: { url: string } }>('POST', '/v1/accounts', {
    provider: 'sandbox', name: 'scan', config: { baseUrl: sandbox.url }, credentials: { token: SANDBOX_TOKEN }, ratePerSecond: 50,
  });
  expect(account.status).toBe(201);
  secrets.push(account.json.webhook.url.split('/').pop() ?? '');
  sandbox.settings.webhook = { url: `${base}${account.json.webhook.url}`, secret: SANDBOX_TOKEN, deliveredRate: 1, readRate: 1, replyRate: 1, optOutRate: 0.5, delayMs: [0, 50] };
  const template = await call<{ id: string }>('POST', '/v1/templates', { accountId: account.json.id, name: 'scan', body: 'Hola {{1}}' });
  const campaign = await call<{ campaign: { id: string } }>('POST', '/v1/campaigns', {
    name: 'scan', accountId: account.json.id, templateId: template.json.id, start: true,
    recipients: PHONES.map((phone, i) => ({ phone, nombre: `Cliente ${i}` })),
  });
  expect(campaign.status).toBe(201);
  const id = campaign.json.campaign.id;
  await waitFor(async () => (await call<{ status: string }>('GET', `/v1/campaigns/${id}`)).json.status === 'completed');
  await waitFor(async () => (await call<{ replied: number }>('GET', `/v1/campaigns/${id}/funnel`)).json.replied === PHONES.length);

  // Keys made, rotated and used through the API.
  const made = await call<{ id: string; key: string }>('POST', '/v1/api-keys', { name: 'second', scope: 'read' });
  const rotated = await call<{ key: string }>('POST', `/v1/api-keys/${made.json.id}/rotate`);
  secrets.push(made.json.key, rotated.json.key);
  expect((await call('GET', '/v1/accounts', undefined, rotated.json.key)).status).toBe(200);
  expect((await call('GET', '/v1/accounts', undefined, made.json.key)).status).toBe(401);
  // The URLs that carry phones.
  const [first = '', second = ''] = PHONES;
  expect((await call('POST', '/v1/suppressions', { phone: first })).status).toBeLessThan(300);
  expect((await call('GET', `/v1/suppressions?phone=${encodeURIComponent(first)}`)).status).toBe(200);
  expect((await call('GET', `/v1/suppressions?limit=1&cursor=${encodeURIComponent(second)}`)).status).toBe(200);
  expect((await call('GET', `/v1/suppressions?phone=${first}`)).status).toBe(200);
  expect((await call('DELETE', `/v1/suppressions/${encodeURIComponent(first)}`)).status).toBe(204);
  expect((await call('DELETE', `/v1/suppressions/${first.slice(1)}`)).status).toBe(404);
  const metrics = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  expect(metrics.status).toBe(200);
  await stop(api);
  await stop(worker);
}, 180_000);

afterAll(async () => {
  await stop(api);
  await stop(worker);
  await sandbox?.close();
  await ctx?.close();
});

describe('logs after a whole campaign at debug level', () => {
  it('were written at debug level, by both processes, about the requests and sends (the control)', () => {
    const apiLog = api?.output.join('') ?? '';
    const workerLog = worker?.output.join('') ?? '';
    expect(`${apiLog}${workerLog}`).toContain('"level":20');
    expect(apiLog).toContain('"msg":"incoming request"');
    expect(apiLog).toContain('/v1/suppressions');
    expect(apiLog).toContain('/webhooks/');
    expect(workerLog.split('\n').length).toBeGreaterThan(5);
  });

  it('hold no credential, API key, webhook secret or full phone number', () => {
    const logs = `${api?.output.join('') ?? ''}\n${worker?.output.join('') ?? ''}`;
    const needles = [
      ...secrets.filter((s) => s.length >= 8),
      ...PHONES.flatMap((phone) => [phone, phone.slice(1), encodeURIComponent(phone)]),
    ];
    const found = needles.filter((needle) => logs.includes(needle));
    const lines = found.map((needle) => logs.split('\n').find((line) => line.includes(needle))?.slice(0, 300) ?? '');
    expect({ found, lines }).toEqual({ found: [], lines: [] });
  });
});
