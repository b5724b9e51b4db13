/**
 * The one writer of recipient history (`recipient_events`): every status change, reply and
 * opt-out leaves one row, written in the same statement as the change it records. The subject is
 * a campaign's recipient (campaignId and recipientId) or a single message sent outside campaigns
 * (singleMessageId, ./single-messages.ts); a CHECK keeps every row to exactly one.
 *
 * Each value is an SQL expression over the rows of `from` (usually the RETURNING of the UPDATE
 * that made the change, a CTE named `upd`), or a parameter. A row with a dedupe key is written
 * once per (recipient, key), so a provider's retry of the same webhook adds nothing.
 */
export type HistorySource = 'engine' | 'operator' | 'send' | 'webhook';

export type HistoryValues = {
  /** The rows to record; omitted for a single row of parameters. */
  from?: string;
  tenantId: string;
  campaignId?: string;
  recipientId?: string;
  singleMessageId?: string;
  /** A recipient status, or a history-only event (`replied`, `opted_out`). */
  status: string;
  source: HistorySource;
  errorCode?: string;
  providerCode?: string;
  detail?: string;
  /** When it happened, if not now (a webhook's own time). */
  occurredAt?: string;
  dedupeKey?: string;
  /** ORDER BY of the rows, so history ids follow the order of events. */
  orderBy?: string;
};

/** An `INSERT INTO recipient_events ... SELECT ...` statement (usable as a CTE body). */
export function historyInsert(values: HistoryValues): string {
  const columns: [string, string | undefined][] = [
    ['tenant_id', values.tenantId],
    ['campaign_id', values.campaignId],
    ['recipient_id', values.recipientId],
    ['single_message_id', values.singleMessageId],
    ['status', values.status],
    ['source', `'${values.source}'`],
    ['error_code', values.errorCode],
    ['provider_code', values.providerCode],
    ['detail', values.detail],
    ['occurred_at', values.occurredAt],
    ['dedupe_key', values.dedupeKey],
  ];
  const used = columns.filter((c): c is [string, string] => c[1] !== undefined);
  return `INSERT INTO recipient_events (${used.map(([name]) => name).join(', ')})
     SELECT ${used.map(([, sql]) => sql).join(', ')}${values.from ? ` FROM ${values.from}` : ''}${values.orderBy ? ` ORDER BY ${values.orderBy}` : ''}${
       values.dedupeKey ? '\n     ON CONFLICT (recipient_id, dedupe_key) DO NOTHING' : ''
     }`;
}

/** The usual engine or operator row for a CTE `upd` returning (id, tenant_id, campaign_id). */
export function historyOfUpdate(status: string, source: HistorySource, extra: Pick<HistoryValues, 'errorCode' | 'providerCode' | 'detail'> = {}): string {
  return historyInsert({ from: 'upd', tenantId: 'tenant_id', campaignId: 'campaign_id', recipientId: 'id', status: `'${status}'`, source, ...extra });
}
