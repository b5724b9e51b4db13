/**
 * What a send's outcome means for its recipient, campaign and account, and what the queue does
 * next. Every recipient change is a result write (src/recipients/write-send-results.ts).
 */
import type { AdaptiveRate } from '../flow/adaptive-rate.js';
import type { Logger } from '../logger.js';
import type { SendOutcome } from '../providers/types.js';
import type { ClaimedRecipient, SendResultWrite } from '../recipients/index.js';
import { Backoff } from './backoff.js';
import type { CampaignContext, CampaignContexts } from './campaign-context.js';
import type { ResultWriter } from './result-writer.js';
import type { Held } from './send-gate.js';
import type { AccountControl, CampaignStopCheck, JobDecision, SendStore } from './send-ports.js';

/** What an outcome is applied to: the campaign and account of the send. */
export type SendTarget = Pick<CampaignContext, 'campaignId' | 'accountId' | 'maxAttempts' | 'ratePerSecond' | 'generation'>;

export type ApplyDeps = {
  store: SendStore;
  stops: CampaignStopCheck;
  results: ResultWriter;
  accounts: AccountControl;
  adaptiveRate: AdaptiveRate;
  contexts: CampaignContexts;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
};

/** How soon a send held back by an account stop is looked at again, ms (the queue is paused by then). */
const HELD_RETRY_MS = 1_000;
/** How soon a send held back by a settings change (new generation) tries again, ms. */
const OUTDATED_RETRY_MS = 50;
/** How soon a send held back by its campaign's stop comes back, ms: its claim then hands it to the feeder (paused) or closes it (cancelled). */
const CAMPAIGN_HELD_RETRY_MS = 100;

function writer(deps: ApplyDeps, recipient: ClaimedRecipient, result: Pick<SendOutcome, 'code' | 'providerCode' | 'providerText' | 'raw'>) {
  const base = {
    id: recipient.id,
    campaignId: recipient.campaignId,
    attempt: recipient.attempts,
    errorCode: result.code,
    providerErrorCode: result.providerCode ?? null,
    providerErrorText: result.providerText ?? result.raw ?? null,
  };
  return (w: Omit<SendResultWrite, 'id' | 'attempt'>) => deps.results.write({ ...base, ...w });
}

/**
 * A send that did not go out after its rate slot: put back unsent, its attempt given back. A
 * limit stop makes it wait with the account's other deferred recipients; an account pause leaves
 * it queued on the paused queue; a settings change sends it again at once with the new settings;
 * its campaign's pause or cancel leaves it queued for a moment, until its job's next claim hands
 * it back to the feeder or closes it, as for every other queued recipient of that campaign.
 */
export async function applyHeld(deps: ApplyDeps, recipient: ClaimedRecipient, target: SendTarget, held: Held): Promise<JobDecision> {
  if (held.held === 'campaign') {
    await deps.results.write({ id: recipient.id, campaignId: recipient.campaignId, attempt: recipient.attempts, status: 'queued', refundAttempt: true });
    // A mark whose campaign runs again (a resume that could not clear it) would hold every send: heal it.
    await deps.stops.healIfStale(target.campaignId, target.accountId, held.token);
    return { next: 'retry', delayMs: CAMPAIGN_HELD_RETRY_MS };
  }
  if (held.held === 'outdated') {
    deps.contexts.forgetAccount(target.accountId);
    await deps.results.write({ id: recipient.id, campaignId: recipient.campaignId, attempt: recipient.attempts, status: 'queued', refundAttempt: true });
    return { next: 'retry', delayMs: OUTDATED_RETRY_MS };
  }
  const write = writer(deps, recipient, { code: held.state.code });
  await write(held.state.status === 'limited' ? { status: 'deferred', refundAttempt: true, notBefore: null } : { status: 'queued', refundAttempt: true });
  // The job waits a moment, then on the paused queue as the jobs never claimed do. Not back to
  // `wait` at once: the queue pause may not have landed yet, and a job taken again now would find
  // its recipient put back and be dropped.
  return { next: 'retry', delayMs: HELD_RETRY_MS };
}

export async function applyOutcome(deps: ApplyDeps, recipient: ClaimedRecipient, target: SendTarget, result: SendOutcome, log: Logger): Promise<JobDecision> {
  const write = writer(deps, recipient, result);
  switch (result.kind) {
    case 'sent':
    case 'already_sent':
      await write({ status: 'sent', providerMessageId: result.messageId ?? null, errorCode: null });
      return { next: 'done' };
    case 'accepted':
      await write({ status: 'accepted', providerMessageId: result.messageId ?? null, errorCode: null });
      return { next: 'done' };
    case 'recipient_error':
      await write({ status: 'failed' });
      return { next: 'done' };
    case 'opted_out':
      await write({ status: 'failed' });
      // The provider says this person stopped marketing: never send to them again, from any campaign.
      await deps.store.recordOptOut(recipient.id, (result.providerText ?? result.message).slice(0, 500));
      return { next: 'done' };
    case 'ambiguous':
      await write({ status: 'unknown' });
      log.warn({ code: result.code }, 'send outcome ambiguous; recipient marked unknown');
      return { next: 'done' };
    case 'template_error':
      // Pause first: while this recipient is still `sending` the campaign cannot be completed,
      // so the pause (and its reason) cannot lose a race with the feeder.
      await deps.store.pauseCampaign(target.campaignId, result, log);
      await write({ status: 'failed' });
      return { next: 'done' };
    case 'retry': {
      if (recipient.attempts >= target.maxAttempts) {
        await write({ status: 'failed' });
        return { next: 'done' };
      }
      await write({ status: 'queued' });
      const delayMs = Math.max(result.retryAfterMs ?? 0, Backoff.delayMs(recipient.attempts, deps.retryBaseDelayMs, deps.retryMaxDelayMs));
      return { next: 'retry', delayMs };
    }
    case 'deferred':
      // Not this recipient, not now (a per-user cap): the feeder picks it up after not_before.
      await write({ status: 'deferred', refundAttempt: true, notBefore: new Date(Date.now() + (result.retryAfterMs ?? 24 * 3_600_000)) });
      return { next: 'done' };
    case 'rate_limited':
      await write({ status: 'queued', refundAttempt: true });
      // Slow the whole account down (every process), then recover gradually.
      await deps.adaptiveRate.onRateLimited(target.accountId, target.ratePerSecond);
      return { next: 'rate_limited', delayMs: Math.max(250, result.retryAfterMs ?? 1_000) };
    case 'account_limited':
    case 'account_error': {
      // Marked first (Redis, at once), so sends past their slot in every process hold back now.
      const current = await deps.accounts.markStopped(target.accountId, result, target.generation);
      deps.contexts.forgetAccount(target.accountId);
      if (!current) {
        // Sent under settings the operator has since replaced (resume, new credentials): try again.
        await write({ status: 'queued', refundAttempt: true });
        return { next: 'retry', delayMs: OUTDATED_RETRY_MS };
      }
      // Put back before the account shows stopped: a limit makes it wait with the account's other
      // deferred recipients, a pause leaves it queued; its job is held by the paused queue.
      await write(result.kind === 'account_limited' ? { status: 'deferred', refundAttempt: true, notBefore: null } : { status: 'queued', refundAttempt: true });
      await deps.accounts.stop(target.accountId, result, log, recipient.claimedAt);
      return { next: 'account_stopped' };
    }
  }
}
