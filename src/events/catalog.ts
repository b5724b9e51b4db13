/**
 * The outbound events a tenant's endpoints can receive, what each means, and its one-line
 * Slack text. Adding a type here makes it subscribable; the code that causes it writes it with
 * src/events/record-events.ts, in the transaction of the change.
 */
export const EVENT_TYPES = [
  'campaign.started',
  'campaign.paused',
  'campaign.resumed',
  'campaign.completed',
  'campaign.cancelled',
  'upload.completed',
  'account.limited',
  'account.resumed',
  'account.auth_failed',
  'account.quality_changed',
  'recipient.replied',
  'recipient.opted_out',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export const EVENT_DESCRIPTIONS: Record<EventType, string> = {
  'campaign.started': 'A campaign was started and begins sending.',
  'campaign.paused': 'A campaign was paused, by an operator or by the engine; data.reason says why.',
  'campaign.resumed': 'A paused campaign was resumed and sends again.',
  'campaign.completed': 'A campaign has nothing left to send; data.counts has its final counts by status.',
  'campaign.cancelled': 'A campaign was cancelled; what was not sent will not be.',
  'upload.completed': 'A recipient list was stored: rows, accepted, rejected and duplicates.',
  'account.limited': 'A provider account hit a tier, plan or balance limit; its recipients wait until it clears.',
  'account.resumed': 'A stopped provider account sends again (an operator resumed it, or its limit cleared).',
  'account.auth_failed': 'A provider account was stopped by an authentication or configuration error; an operator must fix it.',
  'account.quality_changed': "A number's quality rating or messaging tier changed.",
  'recipient.replied': 'A recipient answered a campaign message (text or button).',
  'recipient.opted_out': 'A recipient asked to stop (a stop word, or the provider said so); the phone is suppressed.',
};

/** Types a new endpoint gets when it names none: every type. A tenant leaves the noisy ones off by listing the rest. */
export const DEFAULT_EVENT_TYPES: readonly EventType[] = EVENT_TYPES;

export function isEventType(value: string): value is EventType {
  return (EVENT_TYPES as readonly string[]).includes(value);
}

/** The stored envelope of one event, as the receiver gets it (format json). */
export type EventEnvelope = { id: string; type: EventType; createdAt: string; data: Record<string, unknown> };

/** One line a person reads in a Slack channel. Phones are masked: a channel is not the customer's system. */
export function slackText(event: EventEnvelope): string {
  const d = event.data;
  const campaign = record(d.campaign);
  const account = record(d.account);
  const name = (r: Record<string, unknown>) => `"${String(r.name ?? r.id ?? '?')}"`;
  const reason = (r: Record<string, unknown>) => (r.statusReason ? `: ${String(r.statusReason)}` : r.statusCode ? ` (${String(r.statusCode)})` : '');
  switch (event.type) {
    case 'campaign.started':
      return `:rocket: Campaign ${name(campaign)} started.`;
    case 'campaign.paused':
      return `:pause_button: Campaign ${name(campaign)} paused ${d.reason ? `by the engine: ${String(record(d.reason).message ?? record(d.reason).code)}` : 'by an operator'}`.replace(/\.?$/, '.');
    case 'campaign.resumed':
      return `:arrow_forward: Campaign ${name(campaign)} resumed.`;
    case 'campaign.completed': {
      const counts = record(d.counts);
      const parts = Object.entries(counts).filter(([, n]) => Number(n) > 0).map(([s, n]) => `${String(n)} ${s}`);
      return `:white_check_mark: Campaign ${name(campaign)} completed${parts.length ? ` (${parts.join(', ')})` : ''}.`;
    }
    case 'campaign.cancelled':
      return `:no_entry: Campaign ${name(campaign)} cancelled.`;
    case 'upload.completed': {
      const u = record(d.upload);
      return `:inbox_tray: Upload to campaign ${name(campaign)}: ${String(u.accepted)} accepted, ${String(u.rejected)} rejected, ${String(u.duplicates)} duplicates.`;
    }
    case 'account.limited':
      return `:warning: Account ${name(account)} is limited${reason(account)}.`;
    case 'account.resumed':
      return `:arrow_forward: Account ${name(account)} is sending again.`;
    case 'account.auth_failed':
      return `:rotating_light: Account ${name(account)} stopped${reason(account)}. An operator must fix it and resume it.`;
    case 'account.quality_changed': {
      const q = record(d.quality);
      const parts = [
        q.qualityRating ? `quality ${String(q.qualityRating)}` : null,
        q.flagged ? 'flagged' : null,
        q.tier ? `tier ${String(q.tier)}` : null,
        q.restriction ? `restricted (${String(record(q.restriction).code)})` : null,
      ].filter((p) => p !== null);
      return `:chart_with_downwards_trend: Account ${name(account)}: ${parts.length ? parts.join(', ') : 'quality no longer low'}${d.pausesMarketing ? '; its marketing campaigns paused' : d.barsMarketing ? '; it sends no marketing until an operator or a later notice clears it' : ''}.`;
    }
    case 'recipient.replied':
      return `:speech_balloon: A recipient of campaign ${name(campaign)} replied.`;
    case 'recipient.opted_out':
      return `:no_bell: A recipient of campaign ${name(campaign)} opted out.`;
  }
}

function record(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
}
