/**
 * What the send path needs from the rest of the engine, declared here as small interfaces (as
 * listmonk's manager declares its Store and Messenger), so the steps can be run and tested
 * without a queue: src/queue/worker-host.ts wires the real ones, tests may pass their own.
 *
 * Glossary: a *send* is one recipient's attempt; it is *claimed* (queued -> sending, durable)
 * before its *rate slot*, and is *on the wire* from the moment its request leaves until the
 * provider answers. Only sends on the wire may follow an account stop.
 */
import type { ClaimJob, ClaimResult, SendResultWrite } from '../recipients/index.js';
import type { Logger } from '../logger.js';
import type { HttpRequest, HttpResponse, SendOutcome } from '../providers/types.js';
import type { AccountSendState } from '../accounts/account-state.js';

/** One job's data: the recipient to send, its campaign, and the account whose queue holds it (absent on jobs from before pools). */
export type SendRequest = { recipientId: string; campaignId: string; accountId?: string };

/** What the processor tells the queue; src/queue/enact-decision.ts turns it into BullMQ's calls. */
export type JobDecision =
  | { next: 'done' }
  | { next: 'retry'; delayMs: number }
  | { next: 'rate_limited'; delayMs: number }
  | { next: 'account_stopped' };

/** Where recipients' sends are claimed and recorded (Postgres, through src/recipients/). */
export interface SendStore {
  claim(jobs: readonly ClaimJob[]): Promise<Map<string, ClaimResult>>;
  /** Returns the ids actually written (a stale or repeated result writes nothing). */
  writeResults(writes: readonly SendResultWrite[]): Promise<Set<string>>;
  /** A recipient found mid-send by a redelivered job: unknown. */
  markInterrupted(recipientId: string): Promise<void>;
  /** The provider says this person stopped marketing: record it and suppress the phone tenant-wide. */
  recordOptOut(recipientId: string, detail: string): Promise<void>;
  /** A template error or a spent error budget pauses the campaign with the reason. */
  pauseCampaign(campaignId: string, outcome: Pick<SendOutcome, 'code' | 'message' | 'providerText'>, log: Logger): Promise<void>;
}

/**
 * The one HTTP call to the provider, with its timeout: an answer, or the outcome of not getting
 * one. `onWire`, when given, is called the moment the request is written to the connection.
 */
export type ProviderCall = (request: HttpRequest, timeoutMs: number, onWire?: () => void) => Promise<{ ok: true; response: HttpResponse } | { ok: false; outcome: SendOutcome }>;

/**
 * The account's rate, across every process: `acquire` waits for the account's next send slot (at
 * the pace), then for the departure gate (the configured rate, the hard cap), and reads the
 * account's send state (and the campaign's stop mark) as the gate lets the send through.
 */
export interface RateSlots {
  acquire(accountId: string, ratePerSecond: number, limitPerSecond: number, campaignId?: string): Promise<Admission>;
}

/** A campaign stop mark that held a send back may be stale (src/campaigns/campaign-stops.ts). */
export interface CampaignStopCheck {
  healIfStale(campaignId: string, accountId: string, token: string): Promise<void>;
}

/**
 * A send let through by the rate gate. It holds its place in the account's rate from then on:
 * pending until `onWire` (its request written: it counts from that moment, so a send that
 * reaches the wire late still never bunches past the rate). `settle` after the call: a send
 * whose call never said it was written (held back, no connection, a call that cannot tell)
 * counts from then. Either is a no-op once one of them ran.
 */
export type Departure = {
  /** How long the send waited for its slot and the gate, ms. */
  waitedMs: number;
  onWire: () => void;
  settle: () => void;
};

/**
 * A Departure, with what the gate read as it let the send through (its last check before the wire:
 * src/sending/send-gate.ts): the account's send state, and its campaign's stop mark (a token, or
 * null while the campaign is not stopped, or when no campaign was named).
 */
export type Admission = Departure & { state: AccountSendState; campaignStop: string | null };

/**
 * Filled in by the send path for one job, for the worker host's in-flight sizing
 * (src/queue/in-flight.ts): whether the send went on the wire, and how long it waited for its
 * rate slot (that wait is pacing, not work).
 */
export type JobTiming = { onWire: boolean; rateWaitMs: number };

/** Stopping an account, and the one read that tells a send whether its account still sends. */
export interface AccountControl {
  read(accountId: string): Promise<AccountSendState>;
  /**
   * Marks the account stopped at once (sends past their rate slot hold back), unless `generation`
   * is stale (a resume or settings change since the refused send started); returns whether it did.
   */
  markStopped(accountId: string, outcome: SendOutcome, generation: number): Promise<boolean>;
  /**
   * Stops a marked account for good: Postgres (limits defer its waiting recipients) and its queue;
   * not if it was resumed after `startedAt` (the refused send's claim time, database clock).
   */
  stop(accountId: string, outcome: SendOutcome, log: Logger, startedAt?: Date): Promise<void>;
}
