/**
 * The send pipeline's logic without a queue: no BullMQ worker runs here. The pipeline gets the
 * engine's Postgres store and Redis flow controls, and an in-memory ProviderCall that answers in
 * the sandbox protocol and records what it was asked; each test hands it one job's data.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AccountStates } from '../../src/accounts/account-state.js';
import type { HttpRequest, SendOutcome } from '../../src/providers/types.js';
import { markQueued } from '../../src/recipients/index.js';
import type { SendPipeline } from '../../src/sending/send-pipeline.js';
import type { AccountControl, ProviderCall } from '../../src/sending/send-ports.js';
import { createSandboxCampaign, insertRecipients } from '../support/fixtures.js';
import { queuelessPipeline } from './pipeline-support.js';
import { createTestContext, type TestContext } from '../support/test-context.js';

let ctx: TestContext;
let redis: Redis;
let states: AccountStates;
let pipeline: SendPipeline;
/** Requests the provider was asked to send, in order. */
let calls: HttpRequest[];
/** The status the in-memory provider answers with. */
let answer: 200 | 401;
/** Account stops the pipeline asked for, with the generation of the refused send. */
let stops: { accountId: string; code: string; generation: number; stopped: boolean }[];

/** Runs while a request is on the wire (an operator acting meanwhile). */
let onCall: () => Promise<unknown>;

const call: ProviderCall = async (request) => {
  calls.push(request);
  await onCall();
  const body = answer === 200 ? { id: `mem_${calls.length}` } : { error: { code: 'unauthorized', message: 'The token is not valid.' } };
  return { ok: true, response: { status: answer, headers: {}, body: JSON.stringify(body) } };
};

beforeAll(async () => {
  ctx = await createTestContext();
  redis = new Redis(ctx.config.redisUrl, { maxRetriesPerRequest: null });
  const prefix = ctx.config.queuePrefix;
  states = new AccountStates(redis, prefix);
  const accounts: AccountControl = {
    read: (accountId) => states.read(accountId),
    async markStopped(accountId, outcome: SendOutcome, generation) {
      const stopped = await states.markStopped(accountId, 'paused', outcome.code, generation);
      stops.push({ accountId, code: outcome.code, generation, stopped });
      return stopped;
    },
    // Postgres and the queue are the wiring's business (src/queue/send-wiring.ts); not needed here.
    stop: async () => undefined,
  };
  pipeline = queuelessPipeline(ctx, redis, { call, accounts }).pipeline;
});

afterAll(async () => {
  await pipeline?.drain();
  redis?.disconnect();
  await ctx?.close();
});

beforeEach(() => {
  calls = [];
  answer = 200;
  stops = [];
  onCall = async () => undefined;
});

/** A running campaign on its own account with `count` queued recipients; returns their ids. */
async function queuedCampaign(name: string, count: number, offset: number): Promise<{ campaignId: string; accountId: string; ids: string[] }> {
  const { campaignId, accountId } = await createSandboxCampaign(ctx, { sandboxUrl: 'http://127.0.0.1:9', name, ratePerSecond: 1_000 });
  await insertRecipients(ctx, campaignId, count, offset);
  await ctx.db.pool.query(`UPDATE campaigns SET status = 'running', started_at = now() WHERE id = $1`, [campaignId]);
  const ids = await markQueued(ctx.db.pool, campaignId, count, { accountId, poolId: null, sticky: false });
  expect(ids).toHaveLength(count);
  return { campaignId, accountId, ids };
}

async function recipient(id: string): Promise<{ status: string; attempts: number; error_code: string | null; provider_message_id: string | null }> {
  const { rows } = await ctx.db.pool.query<{ status: string; attempts: number; error_code: string | null; provider_message_id: string | null }>(
    `SELECT status::text, attempts, error_code, provider_message_id FROM recipients WHERE id = $1`,
    [id],
  );
  const row = rows[0];
  if (!row) throw new Error(`no recipient ${id}`);
  return row;
}

describe('the send pipeline, without a queue', () => {
  it('claims, calls the provider once, writes sent with the message id and its history row', async () => {
    const { campaignId, ids } = await queuedCampaign('plain', 1, 0);
    const id = ids[0] ?? '';
    expect(await pipeline.handle({ recipientId: id, campaignId })).toEqual({ next: 'done' });
    expect(calls).toHaveLength(1);
    expect(await recipient(id)).toMatchObject({ status: 'sent', attempts: 1, provider_message_id: 'mem_1' });
    const { rows } = await ctx.db.pool.query<{ status: string; source: string }>(`SELECT status, source::text FROM recipient_events WHERE recipient_id = $1`, [id]);
    expect(rows).toEqual([{ status: 'sent', source: 'send' }]);
    // The same job again (a redelivery after the result was written): nothing is sent twice.
    expect(await pipeline.handle({ recipientId: id, campaignId })).toEqual({ next: 'done' });
    expect(calls).toHaveLength(1);
  });

  it('one job delivered twice at once (a lapsed lock under load) sends once: the second copy finds it sending', async () => {
    const { campaignId, ids } = await queuedCampaign('twice', 1, 300);
    const id = ids[0] ?? '';
    // Both copies enter the same claim batch, as two slots of one worker do within a few ms.
    const results = await Promise.all([pipeline.handle({ recipientId: id, campaignId }), pipeline.handle({ recipientId: id, campaignId })]);
    expect(results).toHaveLength(2);
    expect(calls).toHaveLength(1);
    // The copy that found it `sending` called it unknown; the send's own result then wrote sent.
    expect(await recipient(id)).toMatchObject({ status: 'sent', attempts: 1 });
  });

  it('a claimed send whose account stopped before its slot puts itself back unsent: no call, attempt given back', async () => {
    const { campaignId, accountId, ids } = await queuedCampaign('stopped', 2, 100);
    await states.markStopped(accountId, 'paused', 'ACCOUNT_AUTH_FAILED');
    // Its job waits a moment (the queue pause follows the mark), then on the paused queue.
    expect(await pipeline.handle({ recipientId: ids[0] ?? '', campaignId })).toEqual({ next: 'retry', delayMs: 1_000 });
    expect(await recipient(ids[0] ?? '')).toMatchObject({ status: 'queued', attempts: 0 });

    await states.markStopped(accountId, 'limited', 'ACCOUNT_TIER_LIMIT');
    expect(await pipeline.handle({ recipientId: ids[1] ?? '', campaignId })).toEqual({ next: 'retry', delayMs: 1_000 });
    expect(await recipient(ids[1] ?? '')).toMatchObject({ status: 'deferred', attempts: 0, error_code: 'ACCOUNT_TIER_LIMIT' });
    expect(calls).toHaveLength(0);
  });

  it('a refusal stops the account under its own generation, but not once the account was resumed since', async () => {
    const { campaignId, accountId, ids } = await queuedCampaign('refused', 2, 200);
    answer = 401;
    expect(await pipeline.handle({ recipientId: ids[0] ?? '', campaignId })).toEqual({ next: 'account_stopped' });
    expect(stops).toEqual([{ accountId, code: 'ACCOUNT_AUTH_FAILED', generation: 0, stopped: true }]);
    expect(await recipient(ids[0] ?? '')).toMatchObject({ status: 'queued', attempts: 0 });

    // Settings cached before the operator resumed (new generation) are not used: the send is
    // held back and retried with fresh ones.
    await pipeline.contexts.get(campaignId);
    await states.markActive(accountId);
    expect(await pipeline.handle({ recipientId: ids[1] ?? '', campaignId })).toMatchObject({ next: 'retry' });
    expect(calls).toHaveLength(1);
    expect(await recipient(ids[1] ?? '')).toMatchObject({ status: 'queued', attempts: 0 });

    // The operator resumes again while a send made under the current generation is on the wire:
    // its refusal is stale and stops nothing; the recipient goes back in line.
    onCall = () => states.markActive(accountId);
    expect(await pipeline.handle({ recipientId: ids[1] ?? '', campaignId })).toMatchObject({ next: 'retry' });
    expect(calls).toHaveLength(2);
    expect(stops.at(-1)).toEqual({ accountId, code: 'ACCOUNT_AUTH_FAILED', generation: 1, stopped: false });
    expect((await states.read(accountId)).stopped).toBeNull();
    expect(await recipient(ids[1] ?? '')).toMatchObject({ status: 'queued', attempts: 0 });

    // Under the current generation a refusal stops the account again.
    onCall = async () => undefined;
    expect(await pipeline.handle({ recipientId: ids[1] ?? '', campaignId })).toEqual({ next: 'account_stopped' });
    expect(stops.at(-1)).toEqual({ accountId, code: 'ACCOUNT_AUTH_FAILED', generation: 2, stopped: true });
  });

  it('a job redelivered while its recipient is mid-send marks it unknown, never resends it', async () => {
    const { campaignId, ids } = await queuedCampaign('interrupted', 1, 300);
    const id = ids[0] ?? '';
    await ctx.db.pool.query(`UPDATE recipients SET status = 'sending', attempts = 1 WHERE id = $1`, [id]);
    expect(await pipeline.handle({ recipientId: id, campaignId })).toEqual({ next: 'done' });
    expect(calls).toHaveLength(0);
    expect(await recipient(id)).toMatchObject({ status: 'unknown', error_code: 'SEND_INTERRUPTED' });
  });
});
