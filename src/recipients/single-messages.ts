/**
 * Single messages: one API call, one message, outside any campaign (Adereso's ticket replies and
 * proactive conversations). There is no recipient row, so the message gets its own, moved through
 * the same transition table (the status guard trigger covers `single_messages` too) and recorded
 * by the one history writer: `sending` when the call starts, then its outcome.
 */
import type { OutcomeKind } from '../providers/types.js';
import { historyInsert } from './history.js';
import { moves, type Queryable, type RecipientStatus } from './transitions.js';

export type SingleMessageKind = 'adereso_ticket_reply' | 'adereso_conversation';

export type SingleMessageStart = { tenantId: string; accountId: string; kind: SingleMessageKind; phone?: string; ticketId?: string };

/** The final status of a single message: the engine does not send it again (the caller may). */
export type SingleMessageEnd = {
  status: 'accepted' | 'sent' | 'failed' | 'unknown';
  ticketId?: string | undefined;
  providerMessageId?: string | undefined;
  errorCode?: string | undefined;
  providerErrorCode?: string | undefined;
  providerErrorText?: string | undefined;
};

const END_FROM = { accepted: '', sent: '', failed: '', unknown: '' };
for (const to of ['accepted', 'sent', 'failed', 'unknown'] as const) END_FROM[to] = moves('single message result', to, ['sending']);

/** The status a single message ends in: taken, in doubt (it may have gone out), or not sent. */
export function singleMessageStatus(kind: OutcomeKind, mayHavePosted: boolean): SingleMessageEnd['status'] {
  if (kind === 'accepted') return 'accepted';
  if (kind === 'sent' || kind === 'already_sent') return 'sent';
  return kind === 'ambiguous' || mayHavePosted ? 'unknown' : 'failed';
}

/** Records a single message about to be sent (`sending`, with its history row); returns its id. */
export async function startSingleMessage(db: Queryable, start: SingleMessageStart): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `WITH ins AS (
       INSERT INTO single_messages (tenant_id, account_id, kind, phone, ticket_id) VALUES ($1, $2, $3, $4, $5)
       RETURNING id, tenant_id, status),
     hist AS (${historyInsert({ from: 'ins', tenantId: 'tenant_id', singleMessageId: 'id', status: 'status::text', source: 'operator', detail: '$3' })})
     SELECT id::text FROM ins`,
    [start.tenantId, start.accountId, start.kind, start.phone ?? null, start.ticketId ?? null],
  );
  const id = rows[0]?.id;
  if (id === undefined) throw new Error('single message not recorded');
  return id;
}

/** Writes a single message's outcome (only from `sending`: a repeated write changes nothing). */
export async function finishSingleMessage(db: Queryable, id: string, end: SingleMessageEnd): Promise<RecipientStatus | null> {
  const { rows } = await db.query<{ status: RecipientStatus }>(
    `WITH upd AS (
       UPDATE single_messages SET status = $2::recipient_status, ticket_id = coalesce($3, ticket_id), provider_message_id = $4,
              error_code = $5, provider_error_code = $6, provider_error_text = left($7, 1000), updated_at = now()
        WHERE id = $1 AND status IN (${END_FROM[end.status]})
       RETURNING id, tenant_id, status, error_code, provider_error_code, provider_error_text),
     hist AS (${historyInsert({
       from: 'upd',
       tenantId: 'tenant_id',
       singleMessageId: 'id',
       status: 'status::text',
       source: 'send',
       errorCode: 'error_code',
       providerCode: 'provider_error_code',
       detail: 'left(provider_error_text, 300)',
     })})
     SELECT status FROM upd`,
    [id, end.status, end.ticketId ?? null, end.providerMessageId ?? null, end.errorCode ?? null, end.providerErrorCode ?? null, end.providerErrorText ?? null],
  );
  return rows[0]?.status ?? null;
}
