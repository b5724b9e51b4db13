/**
 * Sends one recipient per job, in steps, each its own file:
 *
 *   gate (breaker, ./send-gate.ts) -> claim (./claim-step.ts) -> call (./call-provider.ts, or
 *   ./bulk-gathering.ts for bulk endpoints; rate slot, then the wire gate: account and campaign
 *   stops) -> apply the outcome (./apply-outcome.ts) -> write the results (./result-writer.ts)
 *
 * The pipeline builds none of its collaborators: it receives a SendStore, a ProviderCall, the
 * account's rate slots and controls (./send-ports.ts), so it runs without a queue. The queue side
 * (src/queue/worker-host.ts) wires the real ones and turns each JobDecision into BullMQ's calls.
 */
import type { AdaptiveRate } from '../flow/adaptive-rate.js';
import type { CircuitBreaker } from '../flow/circuit-breaker.js';
import type { ErrorBudget } from '../flow/error-budget.js';
import type { PairGap } from '../flow/pair-gap.js';
import type { Logger } from '../logger.js';
import { outcome } from '../providers/outcome.js';
import type { SendOutcome } from '../providers/types.js';
import type { RedisClient } from '../redis-client.js';
import { applyHeld, applyOutcome, type ApplyDeps } from './apply-outcome.js';
import { BulkGathering } from './bulk-gathering.js';
import { countSend } from '../observability/record.js';
import { callProvider, type CallDeps, type CallResult } from './call-provider.js';
import { ContextError, type CampaignContext, type CampaignContexts } from './campaign-context.js';
import { ClaimStep } from './claim-step.js';
import { toMessage } from './outbound-message.js';
import { ResultWriter } from './result-writer.js';
import { breakerGate } from './send-gate.js';
import type { AccountControl, CampaignStopCheck, JobDecision, JobTiming, ProviderCall, RateSlots, SendRequest, SendStore } from './send-ports.js';

/** Outcomes that say the provider itself is failing (not this message): they feed the circuit breaker. */
const PROVIDER_FAILURES = new Set(['PROVIDER_UNAVAILABLE', 'PROVIDER_UNREACHABLE', 'PROVIDER_TIMEOUT']);
/** Window in which a process that saw a provider failure keeps reporting its successes to the breaker (ms). */
const BREAKER_ATTENTION_MS = 10_000;

export type SendPipelineDeps = {
  store: SendStore;
  /** Heals a campaign stop mark that held a send while its campaign runs (src/campaigns/campaign-stops.ts). */
  stops: CampaignStopCheck;
  call: ProviderCall;
  slots: RateSlots;
  accounts: AccountControl;
  contexts: CampaignContexts;
  flow: { adaptiveRate: AdaptiveRate; breaker: CircuitBreaker; pairGap: PairGap; errorBudget: ErrorBudget };
  /** For the per-second sent counters. */
  redis: RedisClient;
  keyPrefix: string;
  settings: { sendTimeoutMs: number; sendingLeaseMs: number; retryBaseDelayMs: number; retryMaxDelayMs: number };
  logger: Logger;
};

export class SendPipeline {
  readonly contexts: CampaignContexts;
  private readonly claims: ClaimStep;
  private readonly results: ResultWriter;
  private readonly bulk: BulkGathering;
  private readonly callDeps: CallDeps;
  private readonly applyDeps: ApplyDeps;
  /** Per account: until when this process reports successes to the breaker (it saw a failure recently). */
  private readonly breakerAttention = new Map<string, number>();

  constructor(private readonly deps: SendPipelineDeps) {
    this.contexts = deps.contexts;
    this.claims = new ClaimStep(deps.store, deps.flow.pairGap, deps.contexts);
    this.results = new ResultWriter({
      store: deps.store,
      redis: deps.redis,
      keyPrefix: deps.keyPrefix,
      errorBudget: deps.flow.errorBudget,
      contexts: deps.contexts,
      retryBudgetMs: deps.settings.sendingLeaseMs / 2,
      logger: deps.logger,
    });
    this.callDeps = { call: deps.call, slots: deps.slots, adaptiveRate: deps.flow.adaptiveRate, timeoutMs: deps.settings.sendTimeoutMs };
    this.bulk = new BulkGathering(this.callDeps);
    this.applyDeps = {
      store: deps.store,
      stops: deps.stops,
      results: this.results,
      accounts: deps.accounts,
      adaptiveRate: deps.flow.adaptiveRate,
      contexts: deps.contexts,
      retryBaseDelayMs: deps.settings.retryBaseDelayMs,
      retryMaxDelayMs: deps.settings.retryMaxDelayMs,
    };
  }

  /** Handles one job; returns what the queue should do with it. `timing`, when given, is filled in (JobTiming). */
  async handle(data: SendRequest, timing?: JobTiming): Promise<JobDecision> {
    // A child logger per job, made only when there is something to say (it costs on the hot path).
    const log = lazyChild(this.deps.logger, { campaignId: data.campaignId, recipientId: data.recipientId });
    let probe = false;
    const early = await this.contexts.get(data.campaignId, data.accountId).catch(() => null);
    if (early) {
      const gate = await breakerGate(this.deps.flow.breaker, early.accountId);
      if (!gate.pass) return gate.decision;
      probe = gate.probe;
    }
    const claim = await this.claims.claim(data.recipientId, data.accountId);
    if (!claim.claimed) {
      if (claim.status === 'sending') {
        // The job came back while its recipient is mid-send: the worker that claimed it died
        // (or lost its lock). The first send may have gone out, so never resend blindly.
        await this.deps.store.markInterrupted(data.recipientId);
        log.warn('recipient found mid-send on redelivery; marked unknown');
      }
      // Still queued: its campaign runs but its account is stopped in Postgres (the queue pause
      // follows in a moment). Keep the job, as the paused queue keeps the others.
      if (claim.status === 'queued') return { next: 'retry', delayMs: 1_000 + Math.floor(Math.random() * 250) };
      // Otherwise it is not ours to send: paused, cancelled, or already final.
      return { next: 'done' };
    }
    const recipient = claim.claimed;

    let context: CampaignContext;
    try {
      // The context read before the claim, when there was one: asking again could fail on a
      // database blip after the claim, turning a send that never happened into an unknown.
      context = early ?? (await this.contexts.get(data.campaignId, recipient.accountId));
    } catch (error) {
      if (!(error instanceof ContextError)) throw error;
      const result = outcome('ACCOUNT_MISCONFIGURED', error.message);
      const { generation } = await this.deps.accounts.read(error.accountId);
      return applyOutcome(this.applyDeps, recipient, { campaignId: data.campaignId, accountId: error.accountId, maxAttempts: 1, ratePerSecond: 1, generation }, result, log);
    }
    // Never two messages to one phone from this account within the pair gap, across campaigns.
    if (claim.pairWaitMs !== undefined) {
      await this.results.write({ id: recipient.id, campaignId: recipient.campaignId, attempt: recipient.attempts, status: 'queued', refundAttempt: true, errorCode: 'RECIPIENT_PAIR_RATE' });
      return { next: 'retry', delayMs: claim.pairWaitMs + Math.floor(Math.random() * 250) };
    }
    const message = toMessage(recipient, context);
    const called: CallResult = this.bulk.accepts(context, message) ? await this.bulk.send(context, message, timing) : await callProvider(this.callDeps, context, message, timing);
    if (!('result' in called)) return applyHeld(this.applyDeps, recipient, context, called);
    await this.feedBreaker(context.accountId, called.result, probe);
    countSend(context.accountId, context.adapter.provider, called.result);
    return applyOutcome(this.applyDeps, recipient, context, called.result, log);
  }

  /**
   * Reports the result to the account's circuit breaker. Failures always; successes only while
   * this process has seen a failure recently (or this send was the probe), so a healthy provider
   * costs no Redis call per send.
   */
  private async feedBreaker(accountId: string, result: SendOutcome, probe: boolean): Promise<void> {
    const failed = PROVIDER_FAILURES.has(result.code);
    if (failed) this.breakerAttention.set(accountId, Date.now() + BREAKER_ATTENTION_MS);
    const attentive = (this.breakerAttention.get(accountId) ?? 0) > Date.now();
    if (failed || probe || attentive) await this.deps.flow.breaker.record(accountId, !failed);
  }

  async drain(): Promise<void> {
    await this.bulk.drain();
    await this.claims.drain();
    await this.results.drain();
  }
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
