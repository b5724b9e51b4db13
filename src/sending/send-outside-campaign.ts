/**
 * One provider request outside a campaign (Adereso's ticket replies and proactive
 * conversations), through the same path as campaign sends: the account's circuit breaker, its
 * rate slot (shared with its campaigns, across every process), the account gate just before the
 * wire, the breaker fed with the result, and an account stop, under the send's generation, when
 * the provider refuses the account.
 */
import type { AdaptiveRate } from '../flow/adaptive-rate.js';
import type { CircuitBreaker } from '../flow/circuit-breaker.js';
import type { Logger } from '../logger.js';
import { outcome, OUTCOME_CODES, type OutcomeCode } from '../providers/outcome.js';
import { redactOutcome } from '../providers/response-helpers.js';
import type { HttpRequest, HttpResponse, SendOutcome } from '../providers/types.js';
import type { AccountControl, ProviderCall, RateSlots } from './send-ports.js';

export type OutsideCampaignDeps = {
  call: ProviderCall;
  slots: RateSlots;
  accounts: AccountControl;
  breaker: CircuitBreaker;
  adaptiveRate: AdaptiveRate;
  timeoutMs: number;
};

export type OutsideCampaignSend = {
  accountId: string;
  ratePerSecond: number;
  request: HttpRequest;
  parse: (response: HttpResponse) => SendOutcome;
  /** The account's credential values, scrubbed from anything the provider echoes. */
  secrets: readonly string[];
};

/** The outcome, with the provider's response when there was one; `wentOut` false when nothing was sent. */
export type OutsideCampaignResult = { result: SendOutcome; response?: HttpResponse; wentOut: boolean };

const PROVIDER_FAILURES = new Set(['PROVIDER_UNAVAILABLE', 'PROVIDER_UNREACHABLE', 'PROVIDER_TIMEOUT']);

function stoppedOutcome(code: string): SendOutcome {
  const known = code in OUTCOME_CODES ? (code as OutcomeCode) : 'ACCOUNT_MISCONFIGURED';
  return outcome(known, 'The account is stopped; an operator must resume it before it sends again.');
}

export async function sendOutsideCampaign(deps: OutsideCampaignDeps, send: OutsideCampaignSend, log: Logger): Promise<OutsideCampaignResult> {
  const gate = await deps.breaker.check(send.accountId);
  if (gate.state === 'open') {
    return { result: outcome('PROVIDER_UNAVAILABLE', 'The provider has been failing; the engine is not calling it for a few seconds.', { retryAfterMs: gate.retryInMs }), wentOut: false };
  }
  const before = await deps.accounts.read(send.accountId);
  if (before.stopped) return { result: stoppedOutcome(before.stopped.code), wentOut: false };
  const departure = await deps.slots.acquire(send.accountId, await deps.adaptiveRate.rateFor(send.accountId, send.ratePerSecond), send.ratePerSecond);
  const now = departure.state;
  if (now.stopped) {
    departure.settle();
    return { result: stoppedOutcome(now.stopped.code), wentOut: false };
  }
  const http = await deps.call(send.request, deps.timeoutMs, departure.onWire).finally(departure.settle);
  const result = redactOutcome(http.ok ? send.parse(http.response) : http.outcome, [...send.secrets]);
  const failed = PROVIDER_FAILURES.has(result.code);
  if (failed || gate.state === 'half_open_probe') await deps.breaker.record(send.accountId, !failed);
  if (result.kind === 'rate_limited') await deps.adaptiveRate.onRateLimited(send.accountId, send.ratePerSecond);
  if ((result.kind === 'account_limited' || result.kind === 'account_error') && (await deps.accounts.markStopped(send.accountId, result, now.generation))) {
    await deps.accounts.stop(send.accountId, result, log);
  }
  return { result, wentOut: true, ...(http.ok ? { response: http.response } : {}) };
}
