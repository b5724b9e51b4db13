/**
 * The `wce` CLI as a user runs it: the real binary in a child process, against a running API
 * (listening on a port) and a send worker process, on the sandbox provider. Covers bootstrap
 * (tenant + key saved to a config file), accounts, templates, a campaign created from a CSV and
 * watched to its end, exports and reports, suppressions, event endpoints, and the exit codes.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandboxServer, type SandboxServer } from '../../src/providers/sandbox/sandbox-server.js';
import { SANDBOX_TOKEN, startApi, type ApiHarness } from '../api/api-harness.js';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { adminUrl, testDatabaseUrl } from '../support/databases.js';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.js';
import { json, runCli, type CliRun } from './run-cli.js';

let api: ApiHarness;
let sandbox: SandboxServer;
let worker: WorkerProcess;
let dir: string;
let configFile: string;
let url: string;

beforeAll(async () => {
  api = await startApi({ eventsAllowPrivateUrls: true });
  url = await api.app.listen({ port: 0, host: '127.0.0.1' });
  sandbox = await startSandboxServer({ token: SANDBOX_TOKEN, latencyMs: [1, 5] });
  worker = await startWorkerProcess(api.ctx, { FEEDER_INTERVAL_MS: '50' });
  dir = await mkdtemp(join(tmpdir(), 'wce-cli-'));
  configFile = join(dir, 'config.json');
});

afterAll(async () => {
  await worker.kill('SIGTERM');
  await sandbox.close();
  await api.close();
  await rm(dir, { recursive: true, force: true });
});

/** The CLI with the saved config file; DATABASE_URL for the bootstrap commands. */
function wce(...args: string[]): Promise<CliRun> {
  return runCli(['--config', configFile, ...args], { DATABASE_URL: api.ctx.databaseUrl });
}

function expectExit(run: CliRun, code: number): void {
  expect({ code: run.code, stderr: run.code === code ? '' : run.stderr, stdout: run.code === code ? '' : run.stdout }).toEqual({ code, stderr: '', stdout: '' });
}

type Campaign = { id: string; status: string; progress: { counts: Record<string, number>; total: number } };

/** Each test spawns the binary several times, on a machine shared with other suites. */
const SLOW = 180_000;

describe('wce', () => {
  let accountId: string;
  let templateId: string;

  it('bootstraps a tenant into a config file, then talks to the API with it', async () => {
    const created = await wce('--url', url, 'create-tenant', 'ACME CLI', '--save', '--json');
    expectExit(created, 0);
    const body = json<{ tenantId: string; apiKey: string; configFile: string }>(created);
    expect(body.apiKey).toMatch(/^wce_/);
    expect(JSON.parse(await readFile(configFile, 'utf8'))).toEqual({ url, apiKey: body.apiKey });

    const credentials = join(dir, 'credentials.json');
    await writeFile(credentials, JSON.stringify({ token: SANDBOX_TOKEN }));
    const account = await wce('accounts', 'create', '--provider', 'sandbox', '--name', 'Sandbox CLI', '--rate', '200', '--settings', JSON.stringify({ baseUrl: sandbox.url }), '--credentials-file', credentials, '--json');
    expectExit(account, 0);
    accountId = json<{ id: string }>(account).id;
    const listed = await wce('accounts', 'list');
    expectExit(listed, 0);
    expect(listed.stdout).toContain('Sandbox CLI');
    expect(listed.stdout).not.toContain(SANDBOX_TOKEN);

    const template = await wce('templates', 'create', '--account', accountId, '--name', 'saldo', '--body', 'Hola {{1}}, tu saldo es {{2}}.', '--json');
    expectExit(template, 0);
    templateId = json<{ id: string; paramCount: number }>(template).id;
    expect((await wce('templates', 'list', '--account', accountId)).stdout).toContain('saldo');
  }, SLOW);

  it('creates a campaign from a CSV, watches it to completion, and exports results and rejected rows', async () => {
    const csv = join(dir, 'clientes.csv');
    const rows = Array.from({ length: 30 }, (_, i) => `+5698${String(3_000_000 + i)};Cliente ${i};${1000 + i}`);
    await writeFile(csv, ['telefono;nombre;saldo', ...rows, '12345;Malo;1'].join('\r\n'));
    const created = await wce('campaigns', 'create', '--name', 'Cobranza CLI', '--account', accountId, '--template', templateId, '--file', csv, '--start', '--json');
    expectExit(created, 0);
    const { campaign, upload } = json<{ campaign: { id: string; status: string }; upload: { accepted: number; rejected: number } }>(created);
    expect(upload).toMatchObject({ accepted: 30, rejected: 1 });
    expect(campaign.status).toBe('running');

    const watched = await wce('status', campaign.id, '--watch', '--interval', '0.3', '--json');
    expectExit(watched, 0);
    expect(json<Campaign>(watched)).toMatchObject({ status: 'completed', progress: { total: 30, counts: { sent: 30 } } });

    const human = await wce('status', campaign.id);
    expectExit(human, 0);
    expect(human.stdout).toMatch(/30\/30 done/);

    const exported = join(dir, 'results.csv');
    expectExit(await wce('campaigns', 'export', campaign.id, '-o', exported), 0);
    const lines = (await readFile(exported, 'utf8')).trim().split(/\r?\n/);
    expect(lines).toHaveLength(31);
    const rejected = join(dir, 'rejected.csv');
    expectExit(await wce('campaigns', 'rejected', campaign.id, '-o', rejected), 0);
    expect(await readFile(rejected, 'utf8')).toMatch(/12345/);
  }, SLOW);

  it('exits 3 when the watched campaign is cancelled, 4 when it pauses', async () => {
    const csv = join(dir, 'lento.csv');
    await writeFile(csv, ['phone,nombre,saldo', ...Array.from({ length: 20 }, (_, i) => `+5698${String(4_000_000 + i)},N${i},1`)].join('\n'));
    const slow = json<{ id: string }>(await wce('accounts', 'create', '--provider', 'sandbox', '--name', 'slow', '--rate', '1', '--settings', JSON.stringify({ baseUrl: sandbox.url }), '--credentials', JSON.stringify({ token: SANDBOX_TOKEN }), '--json'));
    const template = json<{ id: string }>(await wce('templates', 'create', '--account', slow.id, '--name', 'saldo', '--body', 'Hola {{1}}, {{2}}.', '--json'));

    const paused = json<{ campaign: { id: string } }>(await wce('campaigns', 'create', '--name', 'pausa', '--account', slow.id, '--template', template.id, '--file', csv, '--start', '--json')).campaign.id;
    expectExit(await wce('campaigns', 'pause', paused), 0);
    const watchPaused = await wce('status', paused, '--watch', '--interval', '0.3');
    expect(watchPaused.code).toBe(4);
    expect(watchPaused.stdout).toContain('paused');

    expectExit(await wce('campaigns', 'cancel', paused), 0);
    const watchCancelled = await wce('status', paused, '--watch', '--interval', '0.3', '--json');
    expect(watchCancelled.code).toBe(3);
    expect(json<Campaign>(watchCancelled).status).toBe('cancelled');
  }, SLOW);

  it('imports and exports suppressions, and manages event endpoints', async () => {
    const list = join(dir, 'bajas.csv');
    await writeFile(list, 'telefono\n+56987650001\n987650002\n');
    const imported = await wce('suppressions', 'import', list, '--json');
    expectExit(imported, 0);
    const out = join(dir, 'bajas-out.csv');
    expectExit(await wce('suppressions', 'export', '-o', out), 0);
    const text = await readFile(out, 'utf8');
    expect(text).toContain('+56987650001');
    expect(text).toContain('+56987650002');

    const endpoint = await wce('endpoints', 'create', 'http://127.0.0.1:9/hooks', '--events', 'campaign.completed,campaign.paused', '--json');
    expectExit(endpoint, 0);
    const { endpoint: created, secret } = json<{ endpoint: { id: string; events: string[] }; secret: string }>(endpoint);
    expect(created.events).toEqual(['campaign.completed', 'campaign.paused']);
    expect(secret).toMatch(/^whsec_/);
    const listed = await wce('endpoints', 'list');
    expect(listed.stdout).toContain(created.id);
    expect(listed.stdout).not.toContain(secret);
    expectExit(await wce('endpoints', 'delete', created.id), 0);
  }, SLOW);

  it('reports API errors with their code (exit 1), usage errors (exit 2) and an unreachable API (exit 5)', async () => {
    const missing = await wce('campaigns', 'start', '00000000-0000-4000-8000-000000000000');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('CAMPAIGN_NOT_FOUND');
    const missingJson = await wce('campaigns', 'start', '00000000-0000-4000-8000-000000000000', '--json');
    expect(missingJson.code).toBe(1);
    expect(JSON.parse(missingJson.stderr)).toMatchObject({ error: { code: 'CAMPAIGN_NOT_FOUND' } });

    expect((await wce('campaigns', 'create', '--name', 'x')).code).toBe(2);
    expect((await wce('no-such-command')).code).toBe(2);
    expect((await wce('status', 'x', '--interval', '-1')).code).toBe(2);
    expect((await runCli(['campaigns', 'list'], { HOME: dir })).code).toBe(2);

    const unreachable = await runCli(['campaigns', 'list'], { WCE_URL: 'http://127.0.0.1:9', WCE_API_KEY: 'wce_x' });
    expect(unreachable.code).toBe(5);
    const badKey = await runCli(['campaigns', 'list'], { WCE_URL: url, WCE_API_KEY: 'wce_not_a_key' });
    expect(badKey.code).toBe(1);
    expect(badKey.stderr).toContain('INVALID_API_KEY');
  }, SLOW);

  it('manages API keys through /v1/api-keys, or reports the API\'s answer when that route is absent', async () => {
    const listed = await wce('api-keys', 'list', '--json');
    if (listed.code === 0) {
      expect(JSON.stringify(json(listed))).not.toContain('"hash"');
    } else {
      expect(listed.code).toBe(1);
      expect(listed.stderr).toMatch(/ROUTE_NOT_FOUND/);
    }
  }, SLOW);

  it('migrates a new database (the one command besides create-tenant that touches the database)', async () => {
    const name = `wce_t_cli_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    try {
      const first = await runCli(['migrate', '--json'], { DATABASE_URL: testDatabaseUrl(name) });
      expectExit(first, 0);
      expect(json<{ applied: string[] }>(first).applied).toContain('20261205160000_outbound_events');
      const again = await runCli(['migrate'], { DATABASE_URL: testDatabaseUrl(name) });
      expectExit(again, 0);
      expect(again.stdout).toContain('database is up to date');
    } finally {
      const admin = new pg.Client({ connectionString: adminUrl() });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  }, SLOW);
});
