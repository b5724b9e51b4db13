/**
 * The two gates of a send. Before the claim: the account's circuit breaker (a provider that is
 * down is not called; nothing is claimed, no attempt spent). After the rate slot, as the departure
 * gate lets the send through, just before the wire: the account's state and the campaign's stop
 * mark (read by the gate in the same round trip), so a send claimed before an account stop, or
 * before its campaign's pause or cancel, puts itself back.
 */
import type { CircuitBreaker } from '../flow/circuit-breaker.js';
import type { AccountSendState } from '../accounts/account-state.js';
import type { Admission, JobDecision } from './send-ports.js';

export type BreakerPass = { pass: true; probe: boolean } | { pass: false; decision: JobDecision };

export async function breakerGate(breaker: CircuitBreaker, accountId: string): Promise<BreakerPass> {
  const gate = await breaker.check(accountId);
  if (gate.state === 'open') return { pass: false, decision: { next: 'retry', delayMs: gate.retryInMs + Math.floor(Math.random() * 500) } };
  return { pass: true, probe: gate.state === 'half_open_probe' };
}

/**
 * Why a send did not go out after all: its account stopped, its campaign was paused or cancelled
 * (the mark's token, src/campaigns/campaign-stops.ts), or its settings are older than the
 * account's generation.
 */
export type Held = { held: 'stopped'; state: NonNullable<AccountSendState['stopped']> } | { held: 'campaign'; token: string } | { held: 'outdated' };

/** Returns null when the send may go on the wire now (under `generation`), given what its Admission read. */
export function wireGate(admission: Pick<Admission, 'state' | 'campaignStop'>, generation: number): Held | null {
  if (admission.state.stopped) return { held: 'stopped', state: admission.state.stopped };
  if (admission.campaignStop) return { held: 'campaign', token: admission.campaignStop };
  if (admission.state.generation !== generation) return { held: 'outdated' };
  return null;
}
