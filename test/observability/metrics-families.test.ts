/**
 * Every metric family with real values: a small campaign runs through a real worker process on
 * the sandbox provider (sends are counted in the worker and reach the scrape through Redis), an
 * upload with a bad row and a duplicate goes through the API, and a webhook request is refused.
 * The exposition is what the /metrics route serves: the shared registry's text.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { registry } from '../../src/metrics.js';
import { startSandboxServer, type SandboxServer } from '../../src/providers/sandbox/sandbox-server.js';
import { expectStatus, SANDBOX_TOKEN, startApi, type ApiHarness, type CreateCampaignResponse } from '../api/api-harness.js';
import { waitFor } from '../support/fixtures.js';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process.js';

let api: ApiHarness;
let sandbox: SandboxServer;
let worker: WorkerProcess;

beforeAll(async () => {
  api = await startApi({ metricsCacheMs: 0 });
  sandbox = await startSandboxServer({ token: SANDBOX_TOKEN, latencyMs: [5, 20] });
  worker = await startWorkerProcess(api.ctx, { FEEDER_INTERVAL_MS: '50' });
});

afterAll(async () => {
  await worker.kill('SIGTERM');
  await sandbox.close();
  await api.close();
});

type Sample = { name: string; labels: Record<string, string>; value: number };

function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1] as string] = pair[2] as string;
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

async function scrape(): Promise<Sample[]> {
  return parse(await registry.metrics());
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return found.length === 0 ? undefined : found.reduce((sum, s) => sum + s.value, 0);
}

it('reports every family with real values from a small campaign', async () => {
  const account = expectStatus<{ id: string }>(
    await api.api.post('/v1/accounts', { provider: 'sandbox', name: 'metrics', config: { baseUrl: sandbox.url }, credentials: { token: SANDBOX_TOKEN }, ratePerSecond: 20, messagingLimit: 1000, pairGapSeconds: 0 }),
    201,
  );
  const template = expectStatus<{ id: string }>(await api.api.post('/v1/templates', { accountId: account.id, name: 'm', body: 'Hola {{1}}.' }), 201);
  const csv = ['phone,nombre', ...Array.from({ length: 40 }, (_, i) => `+5698${String(5_000_000 + i)},N${i}`), '+56985000000,repetido', '12345,malo'].join('\n');
  const draft = expectStatus<CreateCampaignResponse>(await api.api.post('/v1/campaigns', { name: 'metrics', accountId: account.id, templateId: template.id }), 201);
  const campaignId = draft.campaign.id;
  expectStatus(await api.api.send(`/v1/campaigns/${campaignId}/recipients`, csv, 'text/csv'), 201);
  // A webhook request for an address that does not exist is refused and counted.
  await api.app.inject({ method: 'POST', url: `/webhooks/${account.id}/not-the-secret`, payload: {} });
  expectStatus(await api.api.post(`/v1/campaigns/${campaignId}/start`), 200);

  // While it runs: its recipients by status, the queue, the account and its breaker.
  const running = await waitFor('the running campaign in the scrape', async () => {
    const s = await scrape();
    return value(s, 'wce_campaign_recipients', { campaign: campaignId }) === 40 && (value(s, 'wce_queue_jobs', { account: account.id }) ?? 0) > 0 ? s : null;
  }, 30_000, 50);
  expect(value(running, 'wce_account_state', { account: account.id, state: 'active', provider: 'sandbox' })).toBe(1);
  expect(value(running, 'wce_account_state', { account: account.id, state: 'limited' })).toBe(0);
  expect(value(running, 'wce_breaker_state', { account: account.id, state: 'closed' })).toBe(1);
  expect(value(running, 'wce_messaging_limit', { account: account.id })).toBe(1000);

  await waitFor('campaign completed', async () => {
    const { rows } = await api.ctx.db.pool.query<{ status: string }>(`SELECT status::text FROM campaigns WHERE id = $1`, [campaignId]);
    return rows[0]?.status === 'completed';
  }, 60_000);
  // The worker flushes its counts every 2 s.
  const done = await waitFor('the worker\'s send counts in the scrape', async () => {
    const s = await scrape();
    return value(s, 'wce_sends_total', { account: account.id }) === 40 ? s : null;
  }, 30_000, 200);

  expect(value(done, 'wce_sends_total', { account: account.id, provider: 'sandbox', outcome: 'sent', code: 'SENT' })).toBe(40);
  expect(value(done, 'wce_provider_request_seconds_count', { provider: 'sandbox', account: account.id })).toBe(40);
  // The sandbox answers in 5-20 ms; even on a loaded machine every request lands within 1 s.
  expect(value(done, 'wce_provider_request_seconds_bucket', { provider: 'sandbox', account: account.id, le: '1' })).toBe(40);
  expect(value(done, 'wce_provider_request_seconds_sum', { provider: 'sandbox', account: account.id })).toBeGreaterThan(40 * 0.005 * 0.9);
  expect(value(done, 'wce_ingest_rows_total', { result: 'accepted' })).toBe(40);
  expect(value(done, 'wce_ingest_rows_total', { result: 'rejected' })).toBe(1);
  expect(value(done, 'wce_ingest_rows_total', { result: 'duplicate' })).toBe(1);
  expect(value(done, 'wce_ingest_rejections_total', { reason: 'PHONE_INVALID' })).toBe(1);
  expect(value(done, 'wce_webhook_requests_total', { result: 'unknown_url' })).toBeGreaterThanOrEqual(1);
  expect(value(done, 'wce_messaging_limit_used', { account: account.id })).toBe(40);
  for (const state of ['wait', 'active', 'delayed']) expect(value(done, 'wce_queue_jobs', { account: account.id, state })).toBe(0);
  // The feeder runs every 50 ms here: its last round is recent.
  expect(value(done, 'wce_feeder_lag_seconds')).toBeLessThan(30);
  // A completed campaign is no longer "running".
  expect(value(done, 'wce_campaign_recipients', { campaign: campaignId })).toBeUndefined();
  expect(value(done, 'wce_event_deliveries_undelivered', { status: 'pending' })).toBe(0);

  // The example Grafana dashboard uses only families the engine exposes.
  const families = new Set([...(await registry.metrics()).matchAll(/^# HELP (\w+) /gm)].map((m) => m[1]));
  const dashboard = await readFile(resolve(import.meta.dirname, '../../docs/grafana-dashboard.json'), 'utf8');
  const used = new Set([...dashboard.matchAll(/\b(wce_\w+)/g)].map((m) => (m[1] as string).replace(/_(bucket|sum|count)$/, '')));
  expect(used.size).toBeGreaterThan(10);
  expect([...used].filter((name) => !families.has(name))).toEqual([]);
}, 180_000);
