/**
 * One send on the wire: build the provider's request, wait for the account's rate slot, pass the
 * wire gate (account and campaign stops), call, parse, scrub. Build errors become outcomes;
 * nothing here writes.
 */
import type { AdaptiveRate } from '../flow/adaptive-rate.js';
import { MessageBuildError, type OutboundMessage, type SendOutcome } from '../providers/types.js';
import type { CampaignContext } from './campaign-context.js';
import { observeProviderLatency } from '../observability/record.js';
import { scrubOutcome } from '../security/secret-scrubber.js';
import { buildFailure } from './outbound-message.js';
import { wireGate, type Held } from './send-gate.js';
import type { JobTiming, ProviderCall, RateSlots } from './send-ports.js';

export type CallDeps = {
  call: ProviderCall;
  slots: RateSlots;
  adaptiveRate: AdaptiveRate;
  timeoutMs: number;
};

/** The provider's answer (or a build failure), or why the send was held back unsent. */
export type CallResult = { result: SendOutcome } | Held;

export async function callProvider(deps: CallDeps, context: CampaignContext, message: OutboundMessage, timing?: JobTiming): Promise<CallResult> {
  try {
    const text = context.kind === 'text' ? context.adapter.text : undefined;
    if (context.kind === 'text' && !text) throw new MessageBuildError('account', `${context.adapter.provider} cannot send free text; text campaigns need an Adereso account.`);
    const options = {
      ...(context.options.noManualReopen === undefined ? {} : { noManualReopen: context.options.noManualReopen }),
      ...(context.options.noManualMerge === undefined ? {} : { noManualMerge: context.options.noManualMerge }),
    };
    const request = text ? text.buildTextRequest(message, context.account, options) : context.adapter.buildSendRequest(message, context.account);
    // Wait for this account's next send slot (held across every worker process), at the rate the
    // provider currently tolerates, then for the departure gate, which reads the account's state
    // and the campaign's stop mark in the same step. From the gate on, the send holds its place in
    // the account's rate until its request is written, and counts from that moment (Departure).
    const rate = await deps.adaptiveRate.rateFor(context.accountId, context.ratePerSecond);
    const admission = await deps.slots.acquire(context.accountId, rate, context.ratePerSecond, context.campaignId);
    const held = wireGate(admission, context.generation);
    if (timing) timing.rateWaitMs += admission.waitedMs;
    if (held) {
      admission.settle();
      return held;
    }
    if (timing) timing.onWire = true;
    const started = performance.now();
    // settle() after the call: a request the call never reported written counts from its end.
    const http = await deps.call(request, deps.timeoutMs, admission.onWire).finally(admission.settle);
    observeProviderLatency(context.adapter.provider, context.accountId, started);
    // Parse functions never see the account, so scrub its actual credential values here, before
    // the provider's text is stored or logged (some providers echo a bad token back).
    const parsed = !http.ok ? http.outcome : text ? text.parseTextResponse(http.response, message) : context.adapter.parseSendResponse(http.response, message);
    return { result: scrubOutcome(parsed, context.account.credentials) };
  } catch (error) {
    return { result: scrubOutcome(buildFailure(error), context.account.credentials) };
  }
}
