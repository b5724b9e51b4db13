/**
 * A stop is immediate: once a provider refuses the account (here: its token is revoked), only the
 * sends already on the wire reach it afterwards, not the ones claimed and waiting for a rate slot;
 * and a resume right after the stop is not undone by the refusals of those stale sends.
 *
 * The provider is a fake speaking the sandbox protocol (src/providers/sandbox/sandbox-protocol.md)
 * that records, per request, when it arrived, when it was answered and how, and how many requests
 * it held open at once: the concurrency actually on the wire.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resumeAccount } from '../../src/accounts/account-actions.js';
import { AccountStates } from '../../src/accounts/account-state.js';
import { applyCampaignAction } from '../../src/campaigns/campaign-actions.js';
import { createSandboxCampaign, insertRecipients, statusCounts, waitFor } from '../support/fixtures.js';
import { accountRow, startFlowEngine, TEST_TIMEOUT_MS, waitForCampaign, type FlowEngine } from './flow-support.js';

type Seen = { arrivedAt: number; answeredAt: number; status: number };

type TokenProvider = {
  url: string;
  /** The token the provider accepts; checked when a request arrives, answered after the latency. */
  validToken: string;
  seen: Seen[];
  /** Most requests open at once (arrived, not answered yet). */
  maxOpen: number;
  reset(): void;
  close(): Promise<void>;
};

async function startTokenProvider(latencyMs: number, validToken: string): Promise<TokenProvider> {
  let open = 0;
  const provider: TokenProvider = {
    url: '',
    validToken,
    seen: [],
    maxOpen: 0,
    reset() {
      provider.seen = [];
      provider.maxOpen = 0;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const arrivedAt = Date.now();
      const status = req.headers.authorization === `Bearer ${provider.validToken}` ? 200 : 401;
      open += 1;
      provider.maxOpen = Math.max(provider.maxOpen, open);
      setTimeout(() => {
        open -= 1;
        provider.seen.push({ arrivedAt, answeredAt: Date.now(), status });
        const body = status === 200 ? { id: `tok_${arrivedAt}_${Math.random()}` } : { error: { code: 'unauthorized', message: 'The token is not valid.' } };
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      }, latencyMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  provider.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return provider;
}

let engine: FlowEngine;

beforeAll(async () => {
  engine = await startFlowEngine();
});

afterAll(async () => {
  await engine.close();
});

describe('an account stop', () => {
  it('reaches the provider no later than the sends already on the wire: claimed sends waiting for a slot put themselves back', async () => {
    const { ctx } = engine;
    const provider = await startTokenProvider(200, 'token-1');
    try {
      // 20/s with up to 2 s of work claimed per process: without the account gate, ~40 claimed
      // sends would keep leaving one per slot after the stop.
      const { campaignId, accountId } = await createSandboxCampaign(ctx, { sandboxUrl: provider.url, token: 'token-1', ratePerSecond: 20, name: 'revoked' });
      await insertRecipients(ctx, campaignId, 400);
      await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'start');
      await waitFor('40 sends accepted', async () => provider.seen.filter((s) => s.status === 200).length >= 40);
      provider.validToken = 'token-2';

      await waitFor('the account paused', async () => (await accountRow(ctx, accountId)).status === 'paused');
      await waitFor('nothing mid-send', async () => ((await statusCounts(ctx, campaignId)).sending ?? 0) === 0);
      const refused = provider.seen.filter((s) => s.status === 401);
      const first = refused.reduce((a, b) => (a.answeredAt <= b.answeredAt ? a : b));
      // Requests that left after the engine had the first refusal in hand.
      const late = refused.filter((s) => s.arrivedAt > first.answeredAt).length;
      console.info(`immediate stop: ${refused.length} refused requests after the token was revoked, ${late} of them left after the first refusal was answered; most requests open at once: ${provider.maxOpen}`);

      // Claimed sends held back at the account gate instead of going out (put back by the send
      // path itself: a history row without a provider code).
      const { rows: heldRows } = await ctx.db.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM recipient_events
          WHERE campaign_id = $1 AND source = 'send' AND status = 'queued' AND error_code = 'ACCOUNT_AUTH_FAILED' AND provider_code IS NULL`,
        [campaignId],
      );
      const held = heldRows[0]?.n ?? 0;
      console.info(`immediate stop: ${held} claimed sends put themselves back at the account gate`);

      expect(refused.length).toBeGreaterThan(0);
      // The claimed sends did not all go out one per slot after the stop: some held back. (Before
      // the account gate none did, and every claimed send met the refusal: 40 here.) How many
      // leave between the refusal and the stop mark depends on how busy the machine is, so it is
      // reported above, not asserted; the hold-back is what the engine controls.
      expect(held).toBeGreaterThan(0);
      // Every refusal that arrived before the first one was answered was open at once with it:
      // those were on the wire, bounded by the provider's own concurrency, not by the claims.
      expect(refused.length - late).toBeLessThanOrEqual(provider.maxOpen);
      // Nothing was lost: the put-back sends wait queued (attempt given back) on the paused account.
      const counts = await statusCounts(ctx, campaignId);
      expect((counts.sent ?? 0) + (counts.queued ?? 0) + (counts.pending ?? 0)).toBe(400);
      const { rows } = await ctx.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM recipients WHERE campaign_id = $1 AND status = 'queued' AND attempts > 0`, [campaignId]);
      expect(rows[0]?.n).toBe(0);
      await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'cancel');
    } finally {
      await provider.close();
    }
  }, TEST_TIMEOUT_MS);

  it('a resume within a second is not undone by the refusals of sends made with the old token', async () => {
    const { ctx } = engine;
    // Long answers, so refusals of the old token are still on the wire when the operator resumes.
    const provider = await startTokenProvider(900, 'token-1');
    try {
      const { campaignId, accountId } = await createSandboxCampaign(ctx, { sandboxUrl: provider.url, token: 'token-1', ratePerSecond: 10, name: 'rotated' });
      await insertRecipients(ctx, campaignId, 120, 10_000);
      await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'start');
      await waitFor('20 sends accepted', async () => provider.seen.filter((s) => s.status === 200).length >= 20);
      provider.validToken = 'token-2';

      const stoppedAt = await waitFor('the account paused', async () => ((await accountRow(ctx, accountId)).status === 'paused' ? Date.now() : null), 60_000, 10);
      // The operator puts the new token in and resumes (what PATCH /v1/accounts/:id and /resume do).
      await ctx.db.prisma.providerAccount.update({ where: { id: accountId }, data: { credentials: { token: 'token-2' } } });
      await new AccountStates(engine.redis, ctx.config.queuePrefix).bumpGeneration(accountId);
      await resumeAccount(ctx.db, engine.queues, ctx.tenantId, accountId);
      const resumedAt = Date.now();
      expect(resumedAt - stoppedAt).toBeLessThan(1_000);

      await waitForCampaign(ctx, campaignId, 'completed', 60_000).catch(async (error: unknown) => {
        console.info('not completed:', await statusCounts(ctx, campaignId), await accountRow(ctx, accountId), await engine.queues.forAccount(accountId).getJobCounts('wait', 'delayed', 'active', 'prioritized'));
        throw error;
      });
      const staleAfterResume = provider.seen.filter((s) => s.status === 401 && s.answeredAt > resumedAt).length;
      console.info(`resume: ${staleAfterResume} refusals of the old token answered after the resume (${resumedAt - stoppedAt} ms after the stop), none stopped the account`);
      // The case under test happened: refusals of the old token came back after the resume...
      expect(staleAfterResume).toBeGreaterThan(0);
      // ...and did not stop the account again: every recipient went out, the account is active.
      expect(await statusCounts(ctx, campaignId)).toEqual({ sent: 120 });
      expect((await accountRow(ctx, accountId)).status).toBe('active');
    } finally {
      await provider.close();
    }
  }, TEST_TIMEOUT_MS);
});
