/**
 * What the engine must have done after the two outcomes that stop more than one recipient,
 * the same whatever the provider:
 * - an account outcome (account_error, account_limited) stops the ACCOUNT: its status and reason
 *   are set, its queue is paused in Redis, and no attempt is spent. After account_error
 *   (`paused`) its recipients stay queued, their jobs held until an operator resumes it; after
 *   account_limited (`limited`) they wait as `deferred` with the limit's code, released when a
 *   probe or an operator finds the limit cleared;
 * - a template outcome (template_error) fails that recipient and pauses the CAMPAIGN with the
 *   reason; the others are either already sent or back to pending, none lost, none failed, and
 *   a resume sends the pending ones.
 */
import { expect } from 'vitest';
import { resumeAccount } from '../../../src/accounts/account-actions.js';
import { applyCampaignAction } from '../../../src/campaigns/campaign-actions.js';
import { waitFor } from '../../support/fixtures.js';
import type { Engine as EngineHarness } from '../../support/engine-harness.js';

/** What these helpers read: the test's database and the engine's account queues. */
type Engine = Pick<EngineHarness, 'ctx' | 'queues'>;
import {
  accountQueue,
  accountState,
  campaignState,
  recipientsByPhone,
  waitForCampaignStatus,
  waitForSettled,
  type RecipientState,
} from './provider-campaign.js';

export type AccountStopExpectation = {
  accountId: string;
  campaignId: string;
  status: 'paused' | 'limited';
  /** The engine's code, and the provider's, on the account and on the recipient that met it. */
  code: string;
  providerCode: string;
  /** Text the account's status reason must carry (the provider's own words). */
  reasonIncludes: string;
};

export async function expectAccountStopped(engine: Engine, e: AccountStopExpectation): Promise<void> {
  const { ctx } = engine;
  await waitFor(
    'the account to stop and its sends to settle',
    async () => {
      if ((await accountState(ctx, e.accountId)).status === 'active') return false;
      const sending = Object.values(await recipientsByPhone(ctx, e.campaignId)).some((r) => r.status === 'sending');
      return !sending && (await accountQueue(engine, e.accountId)).active === 0;
    },
    30_000,
    50,
  );
  const account = await accountState(ctx, e.accountId);
  expect(account).toMatchObject({ status: e.status, statusCode: e.code });
  expect(account.statusReason).toContain(e.reasonIncludes);
  expect((await campaignState(ctx, e.campaignId)).status).toBe('running');

  const recipients = Object.values(await recipientsByPhone(ctx, e.campaignId));
  expect(recipients.length).toBeGreaterThan(0);
  for (const r of recipients) {
    expect(r).toMatchObject({ attempts: 0, providerMessageId: null });
    if (e.status === 'limited') {
      // Deferred with the limit's code; or queued, when its own send was under way as the stop
      // came and met the limit after it (its job is held like any other).
      expect([{ status: 'deferred', errorCode: e.code }, { status: 'queued', errorCode: e.code }]).toContainEqual({ status: r.status, errorCode: r.errorCode });
    } else {
      expect(r.status).toBe('queued');
      // Recipients whose job the stop beat to the worker were never claimed, so carry no code.
      expect([e.code, null]).toContain(r.errorCode);
    }
  }
  expect(recipients.some((r) => r.errorCode === e.code && r.providerErrorCode === e.providerCode)).toBe(true);
  expect(await accountQueue(engine, e.accountId)).toEqual({ paused: true, held: recipients.length, active: 0, failed: 0 });
}

/** The operator's resume; returns once the campaign has completed. */
export async function resumeAndComplete(engine: Engine, accountId: string, campaignId: string): Promise<Record<string, RecipientState>> {
  const { ctx } = engine;
  await resumeAccount(ctx.db, engine.queues, ctx.tenantId, accountId);
  await waitForCampaignStatus(ctx, campaignId, 'completed');
  expect(await accountState(ctx, accountId)).toEqual({ status: 'active', statusCode: null, statusReason: null });
  expect((await accountQueue(engine, accountId)).paused).toBe(false);
  return recipientsByPhone(ctx, campaignId);
}

const IN_DOUBT: RecipientState = { status: 'unknown', attempts: 1, errorCode: 'PROVIDER_TIMEOUT', providerErrorCode: 'UND_ERR_HEADERS_TIMEOUT', providerMessageId: null };

export type TemplatePauseExpectation = {
  campaignId: string;
  badPhone: string;
  /**
   * A recipient whose send hangs until the engine's timeout, so the campaign still has a send
   * under way when the template error pauses it. Without one, every other send may have finished,
   * and the feeder can complete the campaign between the failed write and the pause, which is
   * then dropped (a race in SendPipeline.apply()). It ends `unknown` and is never resent.
   */
  inDoubtPhone: string;
  code: string;
  providerCode: string;
  reasonIncludes: string;
};

/**
 * Waits for the pause to settle and checks it; returns the phones that were still to send when
 * it came (how many depends on how many sends were under way, so it is not asserted).
 */
export async function expectCampaignPausedByTemplate(engine: Engine, e: TemplatePauseExpectation): Promise<string[]> {
  const { ctx } = engine;
  await waitForCampaignStatus(ctx, e.campaignId, 'paused');
  await waitForSettled(ctx, e.campaignId);
  const campaign = await campaignState(ctx, e.campaignId);
  expect(campaign).toMatchObject({ status: 'paused', statusCode: e.code });
  expect(campaign.statusReason).toContain(e.reasonIncludes);

  const rows = await recipientsByPhone(ctx, e.campaignId);
  expect(rows[e.badPhone]).toEqual({ status: 'failed', attempts: 1, errorCode: e.code, providerErrorCode: e.providerCode, providerMessageId: null });
  expect(rows[e.inDoubtPhone]).toEqual(IN_DOUBT);
  const others = Object.entries(rows).filter(([phone]) => phone !== e.badPhone && phone !== e.inDoubtPhone);
  expect(others.length).toBeGreaterThan(0);
  for (const [, r] of others) expect(['sent', 'accepted', 'pending']).toContain(r.status);
  return others.filter(([, r]) => r.status === 'pending').map(([phone]) => phone);
}

/** The operator's resume; returns once the campaign has completed. The recipient in doubt stays so. */
export async function resumeCampaignAndComplete(engine: Engine, campaignId: string, inDoubtPhone: string): Promise<Record<string, RecipientState>> {
  const { ctx } = engine;
  await applyCampaignAction(ctx.db, ctx.tenantId, campaignId, 'resume');
  await waitForCampaignStatus(ctx, campaignId, 'completed');
  const rows = await recipientsByPhone(ctx, campaignId);
  expect(rows[inDoubtPhone]).toEqual(IN_DOUBT);
  return rows;
}
