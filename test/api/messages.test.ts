/** POST /v1/messages: one message to one phone through the campaign pipeline, with a real worker. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSandboxServer, type SandboxServer } from '../../src/providers/sandbox/sandbox-server.js';
import { WorkerHost } from '../../src/queue/worker-host.js';
import { waitFor } from '../support/fixtures.js';
import { expectError, expectStatus, startApi, type ApiHarness, type PublicAccount, type PublicTemplate } from './api-harness.js';

type MessageResult = {
  campaignId: string;
  done: boolean;
  recipient: { phone: string; status: string; attempts: number; providerMessageId: string | null; errorCode: string | null };
};

let h: ApiHarness;
let sandbox: SandboxServer;
let host: WorkerHost;
let account: PublicAccount;
let template: PublicTemplate;

beforeAll(async () => {
  h = await startApi({ feederIntervalMs: 50 });
  sandbox = await startSandboxServer({ token: 'msg-token' });
  host = new WorkerHost(h.ctx.config, h.ctx.db, h.ctx.logger);
  await host.start();
  account = expectStatus<PublicAccount>(
    await h.api.post('/v1/accounts', { provider: 'sandbox', name: 'sandbox', config: { baseUrl: sandbox.url }, credentials: { token: 'msg-token' } }),
    201,
  );
  template = expectStatus<PublicTemplate>(await h.api.post('/v1/templates', { accountId: account.id, name: 'otp', body: 'Tu código es {{1}}' }), 201);
});

afterAll(async () => {
  await host.stop();
  await sandbox.close();
  await h.close();
});

it('sends one message and answers with its outcome', async () => {
  const response = await h.api.post('/v1/messages', { accountId: account.id, templateId: template.id, phone: '+56 9 8765 0001', variables: ['4821'] });
  const result = expectStatus<MessageResult>(response, 200);
  expect(result.done).toBe(true);
  expect(result.recipient).toMatchObject({ phone: '+56987650001', status: 'sent', attempts: 1, errorCode: null });
  expect(result.recipient.providerMessageId).toMatch(/^sbx_/);
  expect(sandbox.stats().perPhone['+56987650001']).toBe(1);
});

it('a retried call with the same Idempotency-Key does not send twice', async () => {
  const body = { accountId: account.id, templateId: template.id, phone: '+56987650002', variables: ['1111'] };
  const first = expectStatus<MessageResult>(await h.api.post('/v1/messages', body, { 'idempotency-key': 'otp-2' }), 200);
  const second = expectStatus<MessageResult>(await h.api.post('/v1/messages', body, { 'idempotency-key': 'otp-2' }), 200);
  expect(second.campaignId).toBe(first.campaignId);
  expect(sandbox.stats().perPhone['+56987650002']).toBe(1);
});

it('answers 202 when asked not to wait, and the send completes', async () => {
  const response = await h.api.post('/v1/messages', { accountId: account.id, templateId: template.id, phone: '+56987650003', variables: ['2222'], waitMs: 0 });
  const result = expectStatus<MessageResult>(response, 202);
  expect(result.done).toBe(false);
  await waitFor('the send to reach the provider', async () => sandbox.stats().perPhone['+56987650003'] !== undefined);
  expect(sandbox.stats().perPhone['+56987650003']).toBe(1);
});

it('rejects a bad phone with the ingest reason, and leaves nothing behind', async () => {
  const before = await h.ctx.db.prisma.campaign.count();
  const response = await h.api.post('/v1/messages', { accountId: account.id, templateId: template.id, phone: '5.69123E+10', variables: ['3333'] });
  const error = expectError(response, 422, 'RECIPIENT_REJECTED');
  expect(error.details).toMatchObject({ reason: 'PHONE_SCIENTIFIC_NOTATION' });
  expect(await h.ctx.db.prisma.campaign.count()).toBe(before);
});
