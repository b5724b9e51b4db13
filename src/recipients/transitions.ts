/**
 * The recipient state machine: the table below is the truth about which status changes exist.
 *
 * - Every UPDATE of `recipients.status` lives in this folder (src/recipients/), one small file per
 *   operation, and names the moves it makes with `moves()`: a move missing from the table throws
 *   when the module loads, and the SQL's `WHERE status IN (...)` is built from the declared moves.
 * - The database enforces the same table: a trigger (recipientStatusGuardSql, applied by the
 *   migration 20261205120000_recipient_status_guard) refuses any other change, whoever writes it.
 *   test/recipients/transitions.test.ts checks the migration's list equals this table and walks
 *   every allowed and refused move against Postgres.
 *
 *   pending --feed--> queued --claim--> sending --> accepted | sent | failed | unknown
 *   sending --requeue (retry, rate limit, pair gap, account stop)--> queued
 *   queued  --pause--> pending            unknown --operator resend--> pending
 *   pending | deferred | queued --cancel--> cancelled;  --expire, suppressed--> failed
 *   accepted --> sent --> delivered --> read      (delivery events only move forward)
 */
import type pg from 'pg';
import type { RecipientStatus } from '../generated/prisma/enums.js';

export type { RecipientStatus };

/** What an operation runs its SQL on: a pool or a client inside a transaction. */
export type Queryable = Pick<pg.Pool, 'query'>;

type Move = { to: RecipientStatus; why: string };

/** Every status change the engine makes, each with the reason it exists. */
export const TRANSITIONS: Readonly<Record<RecipientStatus, readonly Move[]>> = {
  pending: [
    { to: 'queued', why: 'the feeder hands it to its account queue' },
    { to: 'deferred', why: 'quiet hours or the daily messaging limit: not before a time; or the account is stopped by a provider limit' },
    { to: 'cancelled', why: 'an operator cancelled the campaign' },
    { to: 'failed', why: "the campaign's validity period ended before it was sent (MESSAGE_EXPIRED)" },
  ],
  deferred: [
    { to: 'queued', why: 'its time came: the feeder hands it out again' },
    { to: 'pending', why: "the account's limit cleared (probe or operator resume): back in line" },
    { to: 'cancelled', why: 'an operator cancelled the campaign' },
    { to: 'failed', why: "the campaign's validity period ended while it waited" },
  ],
  queued: [
    { to: 'sending', why: 'a worker claims it, durably, before calling the provider' },
    { to: 'pending', why: 'the campaign was paused: the feeder queues it again on resume' },
    { to: 'deferred', why: 'the account was stopped by a provider limit while it waited' },
    { to: 'cancelled', why: 'the campaign was cancelled while it waited' },
    { to: 'failed', why: 'the phone was suppressed after it was queued, or the validity period ended' },
  ],
  sending: [
    { to: 'queued', why: 'nothing went out: retry later, rate limit, pair gap, or the account stopped (put back unsent)' },
    { to: 'deferred', why: 'not now for this recipient (a per-user cap), or the account stopped by a limit before the call' },
    { to: 'accepted', why: 'the provider took it and will confirm later' },
    { to: 'sent', why: 'the provider confirmed the send' },
    { to: 'failed', why: 'the provider refused it, or attempts ran out' },
    { to: 'unknown', why: 'crash mid-send or an ambiguous timeout: it may or may not have gone out' },
  ],
  accepted: [
    { to: 'sent', why: 'the provider confirmed it (send answer or status webhook)' },
    { to: 'delivered', why: 'a delivery status (events may skip steps)' },
    { to: 'read', why: 'a read status (read may come without delivered)' },
    { to: 'failed', why: 'the provider reported a failure after taking it' },
    { to: 'deferred', why: 'the provider reported a per-user cap after taking it (Meta 131049): not delivered, sent again after not_before' },
  ],
  sent: [
    { to: 'delivered', why: 'a delivery status' },
    { to: 'read', why: 'a read status (read may come without delivered)' },
    { to: 'failed', why: 'the provider reported a failure after sending it' },
    { to: 'deferred', why: 'the provider reported a per-user cap after sending it (Meta 131049): not delivered, sent again after not_before' },
  ],
  delivered: [{ to: 'read', why: 'a read status' }],
  read: [],
  failed: [],
  unknown: [
    { to: 'pending', why: 'an operator asked to resend the recipients in doubt' },
    { to: 'accepted', why: 'a late true outcome: the worker was alive after all' },
    { to: 'sent', why: 'a late true outcome, or a sent status webhook: it did go out' },
    { to: 'delivered', why: 'a late delivery status: it did go out' },
    { to: 'read', why: 'a late read status: it did go out' },
    { to: 'failed', why: 'a late refusal from the provider' },
    { to: 'deferred', why: 'a late per-user cap (Meta 131049): it did not go out, sent again after not_before' },
  ],
  cancelled: [],
};

export const ALL_STATUSES = Object.keys(TRANSITIONS) as RecipientStatus[];

export function canTransition(from: RecipientStatus, to: RecipientStatus): boolean {
  return TRANSITIONS[from].some((move) => move.to === to);
}

/** Every (from, to) pair of the table, in table order. */
export function transitionPairs(): [RecipientStatus, RecipientStatus][] {
  return ALL_STATUSES.flatMap((from) => TRANSITIONS[from].map((move): [RecipientStatus, RecipientStatus] => [from, move.to]));
}

/** The moves operations declared (see moves()), so a test can show the table holds no move nobody makes. */
const declared = new Map<string, Set<string>>();

export function declaredMoves(): ReadonlyMap<string, ReadonlySet<string>> {
  return declared;
}

/**
 * An operation's moves to `to` from `from`: throws if one is not in the table, and returns the
 * SQL list for `status IN (...)` (the statuses are enum literals, never user input).
 */
export function moves(operation: string, to: RecipientStatus, from: readonly RecipientStatus[]): string {
  for (const status of from) {
    if (!canTransition(status, to)) throw new Error(`${operation}: ${status} -> ${to} is not in the recipient transition table`);
    const key = `${status}->${to}`;
    declared.set(key, (declared.get(key) ?? new Set()).add(operation));
  }
  return statusList(from);
}

/** `'a', 'b'` for a status IN (...) list. */
export function statusList(statuses: readonly RecipientStatus[]): string {
  return statuses.map((s) => `'${s}'`).join(', ');
}

/**
 * The trigger that makes Postgres refuse any status change outside the table. The migration
 * 20261205120000_recipient_status_guard holds exactly this text (checked by a test); change
 * the table, then write a new migration with the new text.
 */
export function recipientStatusGuardSql(): string {
  // One CASE of arrays, not a VALUES list: plpgsql evaluates it as a simple expression, without a
  // subquery per row, which matters on statements that move thousands of rows (cancel, feed).
  const cases = ALL_STATUSES.map((from) => `      WHEN '${from}' THEN ARRAY[${TRANSITIONS[from].map((m) => `'${m.to}'`).join(', ')}]::text[]`).join('\n');
  return `-- The recipient transition table (src/recipients/transitions.ts), enforced by Postgres.
CREATE OR REPLACE FUNCTION recipient_status_guard() RETURNS trigger LANGUAGE plpgsql AS $guard$
BEGIN
  IF NOT (NEW.status::text = ANY (CASE OLD.status::text
${cases}
      ELSE ARRAY[]::text[] END)) THEN
    RAISE EXCEPTION 'recipient % cannot move from % to %', OLD.id, OLD.status, NEW.status
      USING ERRCODE = 'check_violation', HINT = 'Recipient status changes are listed in src/recipients/transitions.ts.';
  END IF;
  RETURN NEW;
END
$guard$;

CREATE TRIGGER recipients_status_guard
  BEFORE UPDATE OF status ON recipients
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION recipient_status_guard();
`;
}
