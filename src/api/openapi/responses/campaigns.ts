/** What the campaign routes answer (src/api/routes/campaigns.ts, console-campaigns.ts, uploads.ts, console-uploads.ts). */
import { z } from 'zod';
import { errors } from '../../../errors.js';
import { PROVIDERS } from '../../../providers/types.js';
import { AccountStatus, CampaignKind, CampaignStatus, RecipientStatus, UploadStatus } from '../../../generated/prisma/enums.js';
import { dateTime, EXAMPLE_ACCOUNT_ID, EXAMPLE_CAMPAIGN_ID, EXAMPLE_LATER, EXAMPLE_POOL_ID, EXAMPLE_TEMPLATE_ID, EXAMPLE_TIME, EXAMPLE_UPLOAD_ID, uuid } from '../examples.js';
import { sendingAccountExample } from './pools.js';

const recipientStatus = z.enum(Object.values(RecipientStatus));
const count = z.number().int().min(0);

export const campaign = z.object({
  id: uuid,
  name: z.string(),
  accountId: uuid.describe("The account that sends it; for a pool's campaign, the pool's first account."),
  poolId: uuid.nullable().describe('The sender pool whose accounts share its sending; null: the one account sends it.'),
  templateId: uuid.nullable(),
  kind: z.enum(Object.values(CampaignKind)),
  text: z.string().nullable(),
  status: z.enum(Object.values(CampaignStatus)),
  statusCode: z.string().nullable().describe('Why it paused itself or stopped (a stable code), when it did.'),
  statusReason: z.string().nullable(),
  defaultCountry: z.string(),
  priority: z.number().int(),
  maxAttempts: z.number().int(),
  startAt: dateTime.nullable(),
  expiresAt: dateTime.nullable(),
  sendWindow: z.object({ start: z.string(), end: z.string() }).nullable(),
  errorBudget: z.number().nullable(),
  options: z.unknown().describe('Header media, button parameters, provider options, as sent.'),
  createdAt: dateTime,
  startedAt: dateTime.nullable(),
  finishedAt: dateTime.nullable(),
});
export const campaignExample: z.output<typeof campaign> = {
  id: EXAMPLE_CAMPAIGN_ID,
  name: 'Cobranza noviembre',
  accountId: EXAMPLE_ACCOUNT_ID,
  poolId: null,
  templateId: EXAMPLE_TEMPLATE_ID,
  kind: 'template',
  text: null,
  status: 'running',
  statusCode: null,
  statusReason: null,
  defaultCountry: 'CL',
  priority: 0,
  maxAttempts: 5,
  startAt: null,
  expiresAt: null,
  sendWindow: { start: '09:00', end: '20:00' },
  errorBudget: 0.5,
  options: {},
  createdAt: EXAMPLE_TIME,
  startedAt: EXAMPLE_TIME,
  finishedAt: null,
};
export const campaignList = z.object({ campaigns: z.array(campaign) });

export const ingestSummary = z.object({
  uploadId: uuid,
  totalRows: count,
  accepted: count,
  rejected: count,
  duplicates: count,
  encoding: z.enum(['utf-8', 'windows-1252', 'utf-16le', 'utf-16be']),
  delimiter: z.string().nullable(),
  rejectedByReason: z.record(z.string(), count).describe('Rejected rows by reason code (duplicates are not in here).'),
});
export const ingestSummaryExample: z.output<typeof ingestSummary> = {
  uploadId: EXAMPLE_UPLOAD_ID,
  totalRows: 10000,
  accepted: 9900,
  rejected: 80,
  duplicates: 20,
  encoding: 'utf-8',
  delimiter: ',',
  rejectedByReason: { PHONE_INVALID: 60, PHONE_SUPPRESSED: 20 },
};

/** A start whose account's balance could not be read: it starts anyway, and says so. */
const balanceWarnings = z.array(z.object({ code: z.literal('ACCOUNT_BALANCE_UNKNOWN'), message: z.string() })).optional();
const replayed = z.boolean().describe('True when an Idempotency-Key replayed an earlier answer.');
export const createdCampaign = z.object({ campaign, upload: ingestSummary.nullable(), replayed, warnings: balanceWarnings });
export const createdCampaignExample: z.output<typeof createdCampaign> = { campaign: campaignExample, upload: ingestSummaryExample, replayed: false };

const countsByStatus = z.partialRecord(recipientStatus, count).describe('Recipients by status; a status with none is left out.');
const accountShare = z.object({
  accountId: uuid,
  name: z.string(),
  provider: z.enum(PROVIDERS),
  status: z.enum(Object.values(AccountStatus)).describe("The account's state now, with the code that stopped it."),
  statusCode: z.string().nullable(),
  ratePerSecond: z.number().int(),
  counts: countsByStatus,
  assigned: count.describe('Recipients handed to this account so far.'),
  share: z.number().min(0).max(1).describe('Its part of every recipient handed out so far.'),
});
const accountShareExample: z.output<typeof accountShare> = {
  ...sendingAccountExample,
  counts: { queued: 80, sending: 8, accepted: 12, sent: 2100, delivered: 3500, read: 190, failed: 90 },
  assigned: 5980,
  share: 1,
};

export const campaignDetail = campaign.extend({
  progress: z.object({
    counts: z.record(recipientStatus, count),
    total: count,
    done: count,
    ratePerSecond: z.number().describe('Messages per second over the last 10 s.'),
    etaSeconds: z.number().nullable(),
    dailyLimit: z.object({ limit: count, used: count, remaining: count, nextFreeAt: dateTime.nullable(), extraDays: count }).optional(),
  }),
  account: z.object({ id: uuid, name: z.string(), status: z.enum(Object.values(AccountStatus)), statusCode: z.string().nullable(), statusReason: z.string().nullable() }),
  accounts: z.array(accountShare).describe("Every sending account (a pool's members, or the one account) with its state, share and recipients by status."),
  uploads: z.array(
    z.object({ id: uuid, status: z.enum(Object.values(UploadStatus)), filename: z.string().nullable(), totalRows: count, accepted: count, rejected: count, duplicates: count, createdAt: dateTime }),
  ),
});
export const campaignDetailExample: z.output<typeof campaignDetail> = {
  ...campaignExample,
  progress: {
    counts: { pending: 4000, deferred: 0, queued: 80, sending: 8, accepted: 12, sent: 2100, delivered: 3500, read: 190, failed: 90, unknown: 0, cancelled: 0 },
    total: 9980,
    done: 5892,
    ratePerSecond: 78.4,
    etaSeconds: 52,
  },
  account: { id: EXAMPLE_ACCOUNT_ID, name: 'Tienda CL', status: 'active', statusCode: null, statusReason: null },
  accounts: [accountShareExample],
  uploads: [{ id: EXAMPLE_UPLOAD_ID, status: 'completed', filename: 'clientes.csv', totalRows: 10000, accepted: 9900, rejected: 80, duplicates: 20, createdAt: EXAMPLE_TIME }],
};

export const actionResult = z.object({
  campaignId: uuid,
  status: z.enum(Object.values(CampaignStatus)),
  affected: count.describe('Recipients the action changed.'),
  warnings: balanceWarnings,
});

const recipientRow = z.object({
  id: z.string().describe('A bigint, as a string.'),
  phone: z.string(),
  rawPhone: z.string(),
  line: z.number().int(),
  variables: z.unknown(),
  status: recipientStatus,
  attempts: count,
  providerMessageId: z.string().nullable(),
  errorCode: z.string().nullable(),
  providerErrorCode: z.string().nullable(),
  providerErrorText: z.string().nullable(),
  sentAt: dateTime.nullable(),
  deliveredAt: dateTime.nullable(),
  readAt: dateTime.nullable(),
  repliedAt: dateTime.nullable(),
  optedOutAt: dateTime.nullable(),
  failedAt: dateTime.nullable(),
  notBefore: dateTime.nullable(),
  updatedAt: dateTime,
  accountId: uuid.nullable().describe('The account it was handed to (one of a pool\'s members); null: not handed out yet.'),
});
export const recipientPage = z.object({ recipients: z.array(recipientRow), next: z.string().nullable().describe('Pass as `after` for the next page; null on the last page.') });
export const recipientPageExample: z.output<typeof recipientPage> = {
  recipients: [
    {
      id: '1048577',
      phone: '+56912345678',
      rawPhone: '+56 9 1234 5678',
      line: 2,
      variables: ['Ana', '$12.000'],
      status: 'failed',
      attempts: 1,
      providerMessageId: 'wamid.HBgLNTY5MTIzNDU2NzgVAgARGBI',
      errorCode: 'RECIPIENT_NOT_ON_WHATSAPP',
      providerErrorCode: '131026',
      providerErrorText: 'Message undeliverable',
      sentAt: EXAMPLE_TIME,
      deliveredAt: null,
      readAt: null,
      repliedAt: null,
      optedOutAt: null,
      failedAt: EXAMPLE_LATER,
      notBefore: null,
      updatedAt: EXAMPLE_LATER,
      accountId: EXAMPLE_ACCOUNT_ID,
    },
  ],
  next: '1048577',
};

const failedRow = recipientRow.pick({ id: true, phone: true, line: true, status: true, attempts: true, errorCode: true, providerErrorCode: true, providerErrorText: true, failedAt: true, updatedAt: true });
export const failedPage = z.object({ recipients: z.array(failedRow), next: z.string().nullable() });

const rate = z.number().nullable();
export const funnel = z.object({
  campaignId: uuid,
  total: count,
  accepted: count,
  sent: count,
  delivered: count,
  read: count,
  replied: count,
  failed: count,
  optedOut: count,
  rates: z.object({ sent: rate, delivered: rate, read: rate, replied: rate, failed: rate, optedOut: rate }),
  failuresByCode: z.array(z.object({ code: z.string(), count })),
  failuresByProviderCode: z.array(z.object({ providerCode: z.string(), code: z.string(), count })),
  timeToDeliver: z.object({ count, p50: z.number().nullable(), p90: z.number().nullable(), p99: z.number().nullable() }),
  computedAt: dateTime.describe(
    "When these figures were computed. The funnel reads every recipient row, so it is recomputed no sooner than 20 times what that took: a small campaign's is at most a fraction of a second old, a million-recipient campaign's up to about 15 s.",
  ),
  byAccount: z.array(accountShare.pick({ accountId: true, name: true, counts: true, assigned: true })).describe('Recipients by sending account and status (a pool campaign has one per member).'),
});
export const funnelExample: z.output<typeof funnel> = {
  campaignId: EXAMPLE_CAMPAIGN_ID,
  total: 10000,
  accepted: 9890,
  sent: 9850,
  delivered: 9700,
  read: 6100,
  replied: 420,
  failed: 110,
  optedOut: 35,
  rates: { sent: 0.996, delivered: 0.9808, read: 0.6168, replied: 0.0425, failed: 0.011, optedOut: 0.0035 },
  failuresByCode: [{ code: 'RECIPIENT_NOT_ON_WHATSAPP', count: 80 }],
  failuresByProviderCode: [{ providerCode: '131026', code: 'RECIPIENT_NOT_ON_WHATSAPP', count: 80 }],
  timeToDeliver: { count: 9700, p50: 1.2, p90: 3.8, p99: 14 },
  computedAt: EXAMPLE_TIME,
  byAccount: [{ accountId: EXAMPLE_ACCOUNT_ID, name: 'Tienda CL', counts: { delivered: 3600, read: 6100, failed: 110 }, assigned: 10000 }],
};

export const history = z.object({
  recipientId: z.string(),
  events: z.array(
    z.object({ status: z.string(), source: z.string(), occurredAt: dateTime, recordedAt: dateTime, errorCode: z.string().nullable(), providerCode: z.string().nullable(), detail: z.string().nullable() }),
  ),
});
export const historyExample: z.output<typeof history> = {
  recipientId: '1048577',
  events: [
    { status: 'queued', source: 'engine', occurredAt: EXAMPLE_TIME, recordedAt: EXAMPLE_TIME, errorCode: null, providerCode: null, detail: null },
    { status: 'sent', source: 'send', occurredAt: EXAMPLE_TIME, recordedAt: EXAMPLE_TIME, errorCode: null, providerCode: null, detail: null },
    { status: 'delivered', source: 'webhook', occurredAt: EXAMPLE_LATER, recordedAt: EXAMPLE_LATER, errorCode: null, providerCode: null, detail: null },
  ],
};

export const replies = z.object({
  replies: z.array(
    z.object({ id: uuid, recipientId: z.string().nullable(), phone: z.string(), text: z.string().nullable(), buttonPayload: z.string().nullable(), optOut: z.boolean(), receivedAt: dateTime }),
  ),
  next: z.string().nullable().describe('Pass as `after` for the next page; null on the last page.'),
});
export const repliesExample: z.output<typeof replies> = {
  replies: [{ id: 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d', recipientId: '1048577', phone: '+56912345678', text: 'Ya pagué, gracias', buttonPayload: null, optOut: false, receivedAt: EXAMPLE_LATER }],
  next: null,
};

/** What starting a campaign can refuse (src/campaigns/campaign-actions.ts, src/accounts/balance-check.ts). */
export const startRefusals = [
  errors.campaignState(EXAMPLE_CAMPAIGN_ID, 'completed', 'start', ['draft']),
  errors.campaignEmpty(EXAMPLE_CAMPAIGN_ID),
  errors.templateNotApproved('recordatorio_pago', 'pending'),
  errors.accountBalanceShort('Multichat CL', 120, 9900),
  errors.poolEmpty(EXAMPLE_POOL_ID),
  errors.poolTemplateMissing(['Multichat CL'], 'recordatorio_pago'),
];

/** What creating a campaign can refuse (src/campaigns/create-campaign.ts, the ingest's column mapping, the start). */
export const createCampaignErrors = [
  errors.campaignSender(),
  errors.accountNotFound(EXAMPLE_ACCOUNT_ID),
  errors.poolNotFound(EXAMPLE_POOL_ID),
  errors.templateNotFound(EXAMPLE_TEMPLATE_ID),
  errors.templateAccountMismatch('recordatorio_pago'),
  errors.textCampaignUnsupported('meta'),
  errors.templateMediaRequired('promo_verano', 'its header is an image, so options.headerMedia is required'),
  errors.noPhoneColumn(['nombre', 'monto']),
  errors.templateVariableMismatch(2, 1, ['nombre']),
  errors.idempotencyConflict('batch-2026-11-22-cobranza'),
  ...startRefusals,
];

export const createCampaignRequestExample = {
  name: 'Cobranza noviembre',
  accountId: EXAMPLE_ACCOUNT_ID,
  templateId: EXAMPLE_TEMPLATE_ID,
  defaultCountry: 'CL',
  sendWindow: { start: '09:00', end: '20:00' },
  start: true,
  recipients: [{ phone: '+56 9 1234 5678', variables: ['Ana', '$12.000'] }, { telefono: '912345679', nombre: 'Luis', monto: '$8.500' }],
};

export const EXPORT_CSV_EXAMPLE =
  'line,phone,raw_phone,status,attempts,provider_message_id,error_code,provider_error_code,provider_error_text,sent_at,delivered_at,read_at,replied_at,opted_out_at,failed_at,variables\r\n' +
  '2,+56912345678,+56 9 1234 5678,delivered,1,wamid.HBgL,,,,2026-11-22T14:03:00.000Z,2026-11-22T14:03:02.000Z,,,,,"[""Ana"",""$12.000""]"\r\n';
