/**
 * SSRF and the sandbox, as a tenant meets them: with the operator settings of a production
 * engine (no private hosts, no sandbox), account creation refuses internal URLs and the sandbox
 * with a clear 422, and an account that points inside anyway (stored before this check) never
 * gets a request out: the internal service sees nothing, and nothing of it comes back.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startSandboxServer, type SandboxServer } from '../../src/providers/sandbox/sandbox-server.js';
import { WorkerHost } from '../../src/queue/worker-host.js';
import { sealedCredentials, useSecuritySettings } from '../../src/security/security-settings.js';
import { newWebhookSecret, webhookPath } from '../../src/webhooks/webhook-secrets.js';
import { expectError, expectStatus, startApi, type ApiHarness } from '../api/api-harness.js';
import { insertRecipients, waitFor } from '../support/fixtures.js';

const INTERNAL_ANSWER = 'redis_version:7.0.15 INTERNAL-ONLY-a81f3c';

/** The operator settings of a production engine, everything else as the tests run. */
function settings(overrides: { PROVIDER_ALLOW_PRIVATE_HOSTS: string; SANDBOX_PROVIDER_ENABLED: string }): void {
  useSecuritySettings(loadConfig({ ...process.env, ...overrides }));
}

let h: ApiHarness;
let host: WorkerHost;
let internal: Server;
let internalHits = 0;
let internalUrl = '';
let sandbox: SandboxServer;

beforeAll(async () => {
  h = await startApi({ feederIntervalMs: 50, sweeperIntervalMs: 500, retryBaseDelayMs: 20, retryMaxDelayMs: 100, sendTimeoutMs: 2_000 });
  internal = createServer((_req, res) => {
    internalHits += 1;
    res.writeHead(400, { 'content-type': 'text/plain' });
    res.end(INTERNAL_ANSWER.repeat(50));
  });
  internal.listen(0, '127.0.0.1');
  await once(internal, 'listening');
  internalUrl = `http://127.0.0.1:${(internal.address() as AddressInfo).port}`;
  sandbox = await startSandboxServer({ latencyMs: 0 });
  host = new WorkerHost(h.ctx.config, h.ctx.db, h.ctx.logger);
  await host.start();
});

afterAll(async () => {
  await host?.stop();
  internal?.closeAllConnections();
  internal?.close();
  await sandbox?.close();
  await h?.close();
});

/** A sandbox account row as an older version stored it (no URL check), with its credentials sealed. */
async function storedAccount(baseUrl: string): Promise<string> {
  const id = crypto.randomUUID();
  await h.ctx.db.prisma.providerAccount.create({
    data: { id, tenantId: h.tenant.tenantId, provider: 'sandbox', name: `stored ${id.slice(0, 4)}`, config: { baseUrl }, ...sealedCredentials(id, { token: 'sandbox-token' }), ratePerSecond: 100, pairGapSeconds: 0 },
  });
  return id;
}

describe('with private hosts refused (the production default)', () => {
  beforeAll(() => settings({ PROVIDER_ALLOW_PRIVATE_HOSTS: 'false', SANDBOX_PROVIDER_ENABLED: 'true' }));

  it.each([
    'http://127.0.0.1:6379/',
    'https://127.0.0.1:8443/',
    'https://169.254.169.254/latest/meta-data/',
    'https://localhost:6379/',
    'file:///etc/passwd',
    'gopher://127.0.0.1:6379/_INFO',
    'https://[::ffff:127.0.0.1]/',
    'https://10.0.0.8/',
    'http://graph.facebook.com/',
  ])('an account with config.baseUrl %s is refused with 422 PROVIDER_URL_REFUSED', async (baseUrl) => {
    // contacto-multichat's schema takes any URL scheme: the guard is what refuses file: and gopher:.
    const response = await h.api.post('/v1/accounts', { provider: 'multichat', name: 'ssrf', config: { baseUrl }, credentials: { login: 'empresa', token: 'mc-ssrf-token-000' } });
    const error = expectError(response, 422, 'PROVIDER_URL_REFUSED');
    expect(error.details).toEqual({ field: 'config.baseUrl' });
  });

  it('a PATCH to an internal URL is refused the same way, and changes nothing', async () => {
    const created = await h.api.post('/v1/accounts', { provider: 'meta', name: 'public', config: { phoneNumberId: '1234567890', baseUrl: 'https://graph.facebook.com' }, credentials: { accessToken: 'EAAGpublic-token-000' } });
    const account = expectStatus<{ id: string }>(created, 201);
    expectError(await h.api.patch(`/v1/accounts/${account.id}`, { config: { phoneNumberId: '1234567890', baseUrl: 'http://127.0.0.1:6379/' } }), 422, 'PROVIDER_URL_REFUSED');
    const stored = await h.ctx.db.prisma.providerAccount.findUniqueOrThrow({ where: { id: account.id } });
    expect(stored.config).toEqual({ phoneNumberId: '1234567890', baseUrl: 'https://graph.facebook.com' });
  });

  it('an account stored pointing inside never reaches the internal service; POST /v1/messages shows nothing of it', async () => {
    const accountId = await storedAccount(`${internalUrl}/`);
    const template = expectStatus<{ id: string }>(await h.api.post('/v1/templates', { accountId, name: 'aviso', language: 'es', body: 'Hola {{1}}' }), 201);
    const response = await h.api.post('/v1/messages', { accountId, templateId: template.id, phone: '+56 9 1234 5678', variables: ['Ana'], waitMs: 3_000 });
    expect(response.statusCode).toBeLessThan(300);
    expect(response.body).not.toContain('INTERNAL-ONLY');
    const account = await waitFor('the account stopped', async () => {
      const a = await h.ctx.db.prisma.providerAccount.findUniqueOrThrow({ where: { id: accountId } });
      return a.status === 'paused' ? a : null;
    });
    expect(account.statusCode).toBe('ACCOUNT_MISCONFIGURED');
    expect(account.statusReason).toContain('PROVIDER_ALLOW_PRIVATE_HOSTS');
    expect(internalHits).toBe(0);
    const { rows } = await h.ctx.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM recipients WHERE provider_error_text LIKE '%INTERNAL-ONLY%'`);
    expect(rows[0]?.n).toBe(0);
  });
});

describe('with the sandbox provider disabled (the production default)', () => {
  beforeAll(() => settings({ PROVIDER_ALLOW_PRIVATE_HOSTS: 'true', SANDBOX_PROVIDER_ENABLED: 'false' }));

  it('creating a sandbox account is refused with 422 SANDBOX_PROVIDER_DISABLED', async () => {
    const response = await h.api.post('/v1/accounts', { provider: 'sandbox', name: 'sandbox', config: { baseUrl: sandbox.url }, credentials: { token: 'sandbox-token' } });
    expectError(response, 422, 'SANDBOX_PROVIDER_DISABLED');
  });

  it('a stored sandbox account sends nothing: the account stops with the reason', async () => {
    const accountId = await storedAccount(sandbox.url);
    const template = await h.ctx.db.prisma.template.create({ data: { tenantId: h.tenant.tenantId, accountId, name: 'aviso', body: '{{1}}', paramCount: 1 } });
    const campaign = await h.ctx.db.prisma.campaign.create({ data: { tenantId: h.tenant.tenantId, accountId, templateId: template.id, name: 'sandbox off' } });
    await insertRecipients({ ...h.ctx, tenantId: h.tenant.tenantId }, campaign.id, 3);
    expectStatus(await h.api.post(`/v1/campaigns/${campaign.id}/start`), 200);
    const account = await waitFor('the account stopped', async () => {
      const a = await h.ctx.db.prisma.providerAccount.findUniqueOrThrow({ where: { id: accountId } });
      return a.status === 'paused' ? a : null;
    });
    expect(account.statusReason).toContain('SANDBOX_PROVIDER_ENABLED');
    expect(sandbox.stats().received).toBe(0);
    // Calls on the account's behalf (template sync) are refused with the same code.
    expectError(await h.api.post(`/v1/accounts/${accountId}/templates/sync`), 422, 'SANDBOX_PROVIDER_DISABLED');
  });

  it("a stored sandbox account's webhook refuses its events with the same code, and stores none", async () => {
    const accountId = await storedAccount(sandbox.url);
    const { secret, hash } = newWebhookSecret();
    await h.ctx.db.prisma.providerAccount.update({ where: { id: accountId }, data: { webhookSecretHash: hash } });
    const response = await h.api.post(webhookPath(accountId, secret), { events: [{ type: 'status', messageId: 'sbx-1', status: 'delivered' }] });
    expectError(response, 422, 'SANDBOX_PROVIDER_DISABLED');
    const { rows } = await h.ctx.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_events WHERE account_id = $1', [accountId]);
    expect(rows[0]?.n).toBe(0);
  });
});
