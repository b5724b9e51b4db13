/**
 * Sends one recipient per job: claim it in Postgres (queued -> sending), call the provider
 * through its adapter, record the outcome, and tell the queue what to do next. Claims and
 * result writes are micro-batched across concurrent jobs, and each job waits for its own
 * write to be durable before it completes.
 */
import { DelayedError, RateLimitError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { Db } from '../db/database.js';
import {
  claimForSending,
  markInterrupted,
  markOptedOut,
  writeSendResults,
  type ClaimedRecipient,
  type ClaimResult,
  type SendResultWrite,
} from '../recipients/index.js';
import type { Logger } from '../logger.js';
import { ENGINE_CODES } from '../engine-codes.js';
import { sendHttp } from '../providers/http.js';
import { outcome } from '../providers/outcome.js';
import { redactOutcome } from '../providers/response-helpers.js';
import { MessageBuildError, type OutboundMessage, type SendOutcome } from '../providers/types.js';
import type { SendJobData, SendQueues } from '../queue/queues.js';
import { AccountRateLimiter } from '../queue/account-rate-limiter.js';
import { Backoff } from './backoff.js';
import { Batcher } from './batcher.js';
import { CampaignContexts, ContextError, type CampaignContext } from './campaign-context.js';
import { pauseCampaignForOutcome } from '../campaigns/campaign-actions.js';
import { sentCounterKey } from '../campaigns/campaign-stats.js';
import { stopAccount } from '../accounts/account-actions.js';
import { messageExtras } from '../campaigns/campaign-options.js';
import { addSuppressions } from '../suppressions/suppression-list.js';
import { AdaptiveRate } from '../flow/adaptive-rate.js';
import { CircuitBreaker } from '../flow/circuit-breaker.js';
import { ErrorBudget } from '../flow/error-budget.js';
import { PairGap } from '../flow/pair-gap.js';

/** Outcomes that say the provider itself is failing (not this message): they feed the circuit breaker. */
const PROVIDER_FAILURES = new Set(['PROVIDER_UNAVAILABLE', 'PROVIDER_UNREACHABLE', 'PROVIDER_TIMEOUT']);
/** Window in which a process that saw a provider failure keeps reporting its successes to the breaker (ms). */
const BREAKER_ATTENTION_MS = 10_000;
/** A campaign's error budget is judged on at least this many recent results. */
const ERROR_BUDGET_MIN_SAMPLE = 50;

/** What an outcome is applied to: the campaign and account of the send. */
type SendTarget = Pick<CampaignContext, 'campaignId' | 'accountId' | 'maxAttempts' | 'ratePerSecond'>;

export type SendPipelineDeps = { config: Config; db: Db; redis: Redis; queues: SendQueues; logger: Logger };

/** What the processor tells BullMQ; the worker host turns it into the right BullMQ call. */
export type JobDecision =
  | { next: 'done' }
  | { next: 'retry'; delayMs: number }
  | { next: 'rate_limited'; delayMs: number }
  | { next: 'account_stopped' };

export class SendPipeline {
  private readonly claims: Batcher<string, ClaimResult & { pairWaitMs?: number }>;
  private readonly results: Batcher<SendResultWrite, boolean>;
  readonly contexts: CampaignContexts;
  private readonly limiter: AccountRateLimiter;
  private readonly adaptiveRate: AdaptiveRate;
  private readonly breaker: CircuitBreaker;
  private readonly pairGap: PairGap;
  private readonly errorBudget: ErrorBudget;
  /** Per account: until when this process reports successes to the breaker (it saw a failure recently). */
  private readonly breakerAttention = new Map<string, number>();
  /** Bulk requests being gathered, per campaign (providers with a batch capability). */
  private readonly bulk = new Map<string, Batcher<{ context: CampaignContext; message: OutboundMessage }, SendOutcome>>();

  constructor(private readonly deps: SendPipelineDeps) {
    this.limiter = new AccountRateLimiter(deps.redis, deps.queues.prefix, { jitterMs: deps.config.rateJitterMs });
    this.adaptiveRate = new AdaptiveRate(deps.redis, deps.queues.prefix);
    this.breaker = new CircuitBreaker(deps.redis, deps.queues.prefix, { minCalls: deps.config.breakerMinCalls, openMs: deps.config.breakerOpenMs });
    this.pairGap = new PairGap(deps.redis, deps.queues.prefix);
    this.errorBudget = new ErrorBudget(deps.redis, deps.queues.prefix, { minSample: ERROR_BUDGET_MIN_SAMPLE });
    const { pool } = deps.db;
    this.claims = new Batcher(async (ids) => {
      const found = await claimForSending(pool, ids);
      const waits = await this.reservePairs([...found.values()].flatMap((r) => (r.claimed ? [r.claimed] : [])));
      return ids.map((id) => {
        const result = found.get(id) ?? { claimed: null, status: null };
        const wait = waits.get(id);
        return wait === undefined ? result : { ...result, pairWaitMs: wait };
      });
    }, { maxSize: 500, maxWaitMs: 5 });
    this.results = new Batcher(async (writes) => {
      const written = await retryOnConnectionLoss(() => writeSendResults(pool, writes), deps.config.sendingLeaseMs / 2, deps.logger);
      const durable = writes.filter((w) => written.has(w.id));
      await this.countSent(durable.filter((w) => w.status === 'sent' || w.status === 'accepted'));
      await this.spendErrorBudget(durable);
      return writes.map((w) => written.has(w.id));
    }, { maxSize: 500, maxWaitMs: 5 });
    this.contexts = new CampaignContexts(deps.db.prisma);
  }

  /** Handles one job; returns what the queue should do with it. */
  async handle(data: SendJobData): Promise<JobDecision> {
    // A child logger per job, made only when there is something to say (it costs on the hot path).
    const log = lazyChild(this.deps.logger, { campaignId: data.campaignId, recipientId: data.recipientId });
    // A provider that is down is not called at all until the breaker lets a probe through. The
    // recipient is not claimed, so no attempt is spent: its job just waits.
    let probe = false;
    const early = await this.contexts.get(data.campaignId).catch(() => null);
    if (early) {
      const gate = await this.breaker.check(early.accountId);
      if (gate.state === 'open') return { next: 'retry', delayMs: gate.retryInMs + Math.floor(Math.random() * 500) };
      probe = gate.state === 'half_open_probe';
    }
    const claim = await this.claims.add(data.recipientId);
    if (!claim.claimed) {
      if (claim.status === 'sending') {
        // The job came back while its recipient is mid-send: the worker that claimed it died
        // (or lost its lock). The first send may have gone out, so never resend blindly.
        await markInterrupted(this.deps.db.pool, [data.recipientId]);
        log.warn('recipient found mid-send on redelivery; marked unknown');
      }
      // Otherwise it is not ours to send: paused, cancelled, or already final.
      return { next: 'done' };
    }
    const recipient = claim.claimed;

    let context: CampaignContext;
    try {
      // The context read before the claim, when there was one: asking again could fail on a
      // database blip after the claim, turning a send that never happened into an unknown.
      context = early ?? (await this.contexts.get(data.campaignId));
    } catch (error) {
      if (!(error instanceof ContextError)) throw error;
      const result = outcome('ACCOUNT_MISCONFIGURED', error.message);
      return this.apply(recipient, { campaignId: data.campaignId, accountId: error.accountId, maxAttempts: 1, ratePerSecond: 1 }, result, log);
    }
    // Never two messages to one phone from this account within the pair gap, across campaigns
    // (reserved with the claim, one Redis round trip per claim batch).
    if (claim.pairWaitMs !== undefined) {
      await this.results.add({ id: recipient.id, campaignId: recipient.campaignId, attempt: recipient.attempts, status: 'queued', refundAttempt: true, errorCode: 'RECIPIENT_PAIR_RATE' });
      return { next: 'retry', delayMs: claim.pairWaitMs + Math.floor(Math.random() * 250) };
    }
    const message = toMessage(recipient, context);
    let result: SendOutcome;
    if (context.kind === 'template' && context.adapter.batch?.accepts(message)) {
      // Providers with a bulk endpoint (Optiwe): concurrent jobs of the campaign share a request.
      result = await this.sendInBatch(context, message);
    } else {
      try {
        const text = context.kind === 'text' ? context.adapter.text : undefined;
        if (context.kind === 'text' && !text) throw new MessageBuildError('account', `${context.adapter.provider} cannot send free text; text campaigns need an Adereso account.`);
        const options = { ...(context.options.noManualReopen === undefined ? {} : { noManualReopen: context.options.noManualReopen }), ...(context.options.noManualMerge === undefined ? {} : { noManualMerge: context.options.noManualMerge }) };
        const request = text ? text.buildTextRequest(message, context.account, options) : context.adapter.buildSendRequest(message, context.account);
        // Wait for this account's next send slot (held across every worker process), at the rate
        // the provider currently tolerates (lowered after a rate-limit answer, regained
        // gradually). The slot is taken right before the call: anything between the two (a claim's
        // round trip) would be jitter the provider's per-second count sees.
        await this.limiter.acquire(context.accountId, await this.adaptiveRate.rateFor(context.accountId, context.ratePerSecond), context.ratePerSecond);
        const http = await sendHttp(request, this.deps.config.sendTimeoutMs);
        // Parse functions never see the account, so scrub its actual credential values here, before
        // the provider's text is stored or logged (some providers echo a bad token back).
        const parsed = !http.ok ? http.outcome : text ? text.parseTextResponse(http.response, message) : context.adapter.parseSendResponse(http.response, message);
        result = redactOutcome(parsed, credentialValues(context.account.credentials));
      } catch (error) {
        result = buildFailure(error);
      }
    }
    await this.feedBreaker(context.accountId, result, probe);
    return this.apply(recipient, context, result, log);
  }

  /**
   * Joins the message to its campaign's next bulk request: messages arriving within a few ms (up
   * to the adapter's maximum, and at most a quarter second of the account's rate, so a request
   * never bursts far past the rate) go in one request. Each message takes its own rate slot.
   */
  private sendInBatch(context: CampaignContext, message: OutboundMessage): Promise<SendOutcome> {
    let batcher = this.bulk.get(context.campaignId);
    if (!batcher) {
      const maxSize = Math.max(1, Math.min(context.adapter.batch?.maxSize ?? 1, Math.floor(context.ratePerSecond / 4)));
      batcher = new Batcher((items) => this.sendBulk(items), { maxSize, maxWaitMs: 25 });
      this.bulk.set(context.campaignId, batcher);
    }
    return batcher.add({ context, message });
  }

  private async sendBulk(items: readonly { context: CampaignContext; message: OutboundMessage }[]): Promise<SendOutcome[]> {
    const context = items[0]?.context;
    const batch = context?.adapter.batch;
    if (!context || !batch) return items.map(() => outcome('PROVIDER_UNAVAILABLE', 'The bulk sender lost its context; retrying.'));
    const messages = items.map((i) => i.message);
    let request;
    try {
      request = batch.buildBatchRequest(messages, context.account);
    } catch (error) {
      // A recipient-level build error names its message; the others are retried one batch later.
      if (error instanceof MessageBuildError && error.scope === 'recipient' && error.reference) {
        return messages.map((m) => (m.reference === error.reference ? buildFailure(error) : outcome('PROVIDER_UNAVAILABLE', 'Another recipient in the same bulk request could not be built; retrying.')));
      }
      const failure = buildFailure(error);
      return messages.map(() => failure);
    }
    const rate = await this.adaptiveRate.rateFor(context.accountId, context.ratePerSecond);
    for (let i = 0; i < messages.length; i += 1) await this.limiter.acquire(context.accountId, rate, context.ratePerSecond);
    const http = await sendHttp(request, this.deps.config.sendTimeoutMs);
    const outcomes = http.ok ? batch.parseBatchResponse(http.response, messages) : messages.map(() => http.outcome);
    const secrets = credentialValues(context.account.credentials);
    return outcomes.map((o) => redactOutcome(o, secrets));
  }

  /**
   * Reserves each claimed recipient's phone for its account's pair gap, a batch per account in
   * one round trip. Returns, for the recipients whose phone is still taken, how long to wait.
   */
  private async reservePairs(claimed: readonly ClaimedRecipient[]): Promise<Map<string, number>> {
    const waits = new Map<string, number>();
    const byAccount = new Map<string, { gapMs: number; recipients: ClaimedRecipient[] }>();
    for (const recipient of claimed) {
      const context = await this.contexts.get(recipient.campaignId).catch(() => null);
      if (!context || context.pairGapMs <= 0) continue;
      const group = byAccount.get(context.accountId) ?? { gapMs: context.pairGapMs, recipients: [] };
      group.recipients.push(recipient);
      byAccount.set(context.accountId, group);
    }
    for (const [accountId, group] of byAccount) {
      const reservations = await this.pairGap.reserveMany(accountId, group.recipients.map((r) => r.phone), group.gapMs);
      const seen = new Set<string>();
      for (const recipient of group.recipients) {
        const reservation = reservations.get(recipient.phone);
        // One phone twice in one batch (two campaigns): only the first goes now.
        if (reservation && !reservation.ok) waits.set(recipient.id, reservation.waitMs);
        else if (seen.has(recipient.phone)) waits.set(recipient.id, group.gapMs);
        seen.add(recipient.phone);
      }
    }
    return waits;
  }

  /**
   * Reports the result to the account's circuit breaker. Failures always; successes only while
   * this process has seen a failure recently (or this send was the probe), so a healthy provider
   * costs no Redis call per send. Every process that meets the outage reports both, which is
   * what the failure ratio needs.
   */
  private async feedBreaker(accountId: string, result: SendOutcome, probe: boolean): Promise<void> {
    const failed = PROVIDER_FAILURES.has(result.code);
    if (failed) this.breakerAttention.set(accountId, Date.now() + BREAKER_ATTENTION_MS);
    const attentive = (this.breakerAttention.get(accountId) ?? 0) > Date.now();
    if (failed || probe || attentive) await this.breaker.record(accountId, !failed);
  }

  /** Counts durable results against each campaign's error budget; pauses a campaign past it. */
  private async spendErrorBudget(writes: readonly SendResultWrite[]): Promise<void> {
    const perCampaign = new Map<string, { ok: number; failed: number }>();
    for (const w of writes) {
      if (!w.campaignId || (w.status !== 'sent' && w.status !== 'accepted' && w.status !== 'failed')) continue;
      const counts = perCampaign.get(w.campaignId) ?? { ok: 0, failed: 0 };
      if (w.status === 'failed') counts.failed += 1;
      else counts.ok += 1;
      perCampaign.set(w.campaignId, counts);
    }
    for (const [campaignId, counts] of perCampaign) {
      const context = await this.contexts.get(campaignId).catch(() => null);
      if (!context || context.errorBudget === null) continue;
      const reading = await this.errorBudget.record(campaignId, counts);
      if (counts.failed === 0 || reading.sample < ERROR_BUDGET_MIN_SAMPLE || reading.ratio <= context.errorBudget) continue;
      const percent = Math.round(reading.ratio * 100);
      await pauseCampaignForOutcome(
        this.deps.db,
        campaignId,
        {
          kind: 'template_error',
          code: ENGINE_CODES.ERROR_BUDGET_EXCEEDED,
          message: `${percent}% of the last ${reading.sample} sends failed, above the campaign's ${Math.round(context.errorBudget * 100)}% error budget; look at the failures by code, fix the list or template, then resume`,
        },
        this.deps.logger,
      );
    }
  }

  private async apply(recipient: ClaimedRecipient, context: SendTarget, result: SendOutcome, log: Logger): Promise<JobDecision> {
    const base = {
      id: recipient.id,
      campaignId: recipient.campaignId,
      attempt: recipient.attempts,
      errorCode: result.code,
      providerErrorCode: result.providerCode ?? null,
      providerErrorText: result.providerText ?? result.raw ?? null,
    };
    const write = (w: Omit<SendResultWrite, 'id' | 'attempt'>) => this.results.add({ ...base, ...w });
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
        {
          const optedOut = await markOptedOut(this.deps.db.pool, recipient.id);
          if (optedOut) {
            await addSuppressions(this.deps.db, optedOut.tenantId, [{ phone: optedOut.phone, reason: 'PROVIDER_OPTED_OUT', detail: (result.providerText ?? result.message).slice(0, 500) }]);
          }
        }
        return { next: 'done' };
      case 'ambiguous':
        await write({ status: 'unknown' });
        log.warn({ code: result.code }, 'send outcome ambiguous; recipient marked unknown');
        return { next: 'done' };
      case 'template_error':
        // Pause first: while this recipient is still `sending` the campaign cannot be completed,
        // so the pause (and its reason) cannot lose a race with the feeder.
        await pauseCampaignForOutcome(this.deps.db, context.campaignId, result, log);
        await write({ status: 'failed' });
        return { next: 'done' };
      case 'retry': {
        if (recipient.attempts >= context.maxAttempts) {
          await write({ status: 'failed' });
          return { next: 'done' };
        }
        await write({ status: 'queued' });
        const delayMs = Math.max(result.retryAfterMs ?? 0, Backoff.delayMs(recipient.attempts, this.deps.config.retryBaseDelayMs, this.deps.config.retryMaxDelayMs));
        return { next: 'retry', delayMs };
      }
      case 'deferred':
        // Not this recipient, not now (a per-user cap): the feeder picks it up after not_before.
        await write({ status: 'deferred', refundAttempt: true, notBefore: new Date(Date.now() + (result.retryAfterMs ?? 24 * 3_600_000)) });
        return { next: 'done' };
      case 'rate_limited':
        await write({ status: 'queued', refundAttempt: true });
        // Slow the whole account down (every process), then recover gradually.
        await this.adaptiveRate.onRateLimited(context.accountId, context.ratePerSecond);
        return { next: 'rate_limited', delayMs: Math.max(250, result.retryAfterMs ?? 1_000) };
      case 'account_limited':
      case 'account_error':
        await write({ status: 'queued', refundAttempt: true });
        this.contexts.forgetAccount(context.accountId);
        await stopAccount(this.deps.db, this.deps.queues, context.accountId, result, log);
        return { next: 'account_stopped' };
    }
  }

  /** Per-second sent counters per campaign, for the live rate and ETA (src/campaigns/campaign-stats.ts). */
  private async countSent(writes: readonly SendResultWrite[]): Promise<void> {
    if (writes.length === 0) return;
    const second = Math.floor(Date.now() / 1000);
    const perCampaign = new Map<string, number>();
    for (const w of writes) if (w.campaignId) perCampaign.set(w.campaignId, (perCampaign.get(w.campaignId) ?? 0) + 1);
    const multi = this.deps.redis.multi();
    for (const [campaignId, n] of perCampaign) {
      const key = sentCounterKey(this.deps.queues.prefix, campaignId, second);
      multi.incrby(key, n).expire(key, 120);
    }
    await multi.exec();
  }

  async drain(): Promise<void> {
    await Promise.all([...this.bulk.values()].map((b) => b.drain()));
    await this.claims.drain();
    await this.results.drain();
  }
}

/** Postgres errors that mean "the server went away", not "this statement is wrong". */
const CONNECTION_LOST = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', '57P01', '57P02', '57P03']);

function isConnectionLoss(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (CONNECTION_LOST.has(code) || code.startsWith('08'))) return true;
  const message = (error as { message?: unknown }).message;
  return typeof message === 'string' && /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(message);
}

/**
 * Result writes outlive a Postgres restart: the provider has answered, so the outcome is known,
 * and failing the write would leave the recipient `sending` and end as `unknown`. The write is
 * conditional (same attempt, still `sending`), so repeating it is safe.
 */
async function retryOnConnectionLoss<T>(write: () => Promise<T>, budgetMs: number, logger: Logger): Promise<T> {
  const deadline = Date.now() + budgetMs;
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await write();
    } catch (error) {
      if (!isConnectionLoss(error) || Date.now() >= deadline) throw error;
      if (attempt === 0) logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'Postgres unreachable while writing send results; retrying');
      await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 100 * 2 ** attempt)));
    }
  }
}

/**
 * A message the adapter cannot express in the provider's format. The adapter says whose fault it
 * is: the template (stop the campaign), this recipient's data (fail it alone), or the account's
 * settings (stop the account). An untyped error is taken as the template's, as before.
 */
function buildFailure(error: unknown): SendOutcome {
  const text = error instanceof Error ? error.message : String(error);
  if (error instanceof MessageBuildError) {
    if (error.scope === 'recipient') return outcome('RECIPIENT_INVALID', `This recipient's message could not be built for the provider: ${text}`);
    if (error.scope === 'account') return outcome('ACCOUNT_MISCONFIGURED', `The account's settings cannot express this message: ${text}`);
  }
  return outcome('TEMPLATE_PARAMS_INVALID', `The message could not be built for this provider: ${text}`);
}

function credentialValues(credentials: unknown): string[] {
  if (!credentials || typeof credentials !== 'object') return [];
  return Object.values(credentials).filter((v): v is string => typeof v === 'string');
}

function lazyChild(logger: Logger, bindings: Record<string, string>): Logger {
  let child: Logger | undefined;
  return new Proxy(logger, {
    get(_target, prop: string | symbol) {
      child ??= logger.child(bindings);
      const value: unknown = Reflect.get(child, prop);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(child) : value;
    },
  });
}

function toMessage(recipient: ClaimedRecipient, context: CampaignContext): OutboundMessage {
  return {
    reference: recipient.id,
    phone: recipient.phone,
    template: context.template,
    variables: recipient.variables,
    // This attempt, 1 for the first: waits that grow per attempt read it (Meta's pair rate, 4^n s).
    attempt: recipient.attempts,
    ...messageExtras(context.options),
  };
}

/** Turns a decision into BullMQ's language: DelayedError and RateLimitError spend no BullMQ attempt. */
export async function enactDecision(decision: JobDecision, job: Job<SendJobData>, token: string | undefined, rateLimit: (ms: number) => Promise<void>): Promise<void> {
  switch (decision.next) {
    case 'done':
      return;
    case 'retry':
      await job.moveToDelayed(Date.now() + decision.delayMs, token);
      throw new DelayedError();
    case 'rate_limited':
      await rateLimit(decision.delayMs);
      throw new RateLimitError();
    case 'account_stopped':
      throw new RateLimitError();
  }
}
