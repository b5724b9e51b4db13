/** What the suppression-list and message routes answer (src/api/routes/suppressions.ts, messages.ts, adereso-messages.ts). */
import { z } from 'zod';
import { RecipientStatus } from '../../../generated/prisma/enums.js';
import { dateTime, EXAMPLE_CAMPAIGN_ID, EXAMPLE_TIME, uuid } from '../examples.js';

const count = z.number().int().min(0);

export const suppressionAdded = z.object({
  phone: z.string().optional().describe('The number as stored (E.164), when one `phone` was sent.'),
  added: count,
  alreadyPresent: count,
  rejected: z.array(z.object({ index: z.number().int(), phone: z.string(), reason: z.string(), message: z.string() })).describe('Entries of `phones` that are not phone numbers, by index.'),
});

export const suppressionPage = z.object({
  suppressions: z.array(z.object({ phone: z.string(), reason: z.string(), detail: z.string().nullable(), createdAt: dateTime })),
  next: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page.'),
});
export const suppressionPageExample: z.output<typeof suppressionPage> = {
  suppressions: [{ phone: '+56912345678', reason: 'STOP_WORD', detail: 'replied "BAJA"', createdAt: EXAMPLE_TIME }],
  next: null,
};

export const suppressionImport = z.object({
  totalRows: count,
  added: count,
  alreadyPresent: count,
  rejectedCount: count,
  rejected: z.array(z.object({ line: z.number().int(), reason: z.string(), message: z.string() })).describe('The first rejected rows; rejectedCount has them all.'),
  encoding: z.enum(['utf-8', 'windows-1252', 'utf-16le', 'utf-16be']),
  delimiter: z.string().nullable(),
});

export const singleMessage = z.object({
  campaignId: uuid,
  done: z.boolean().describe('True when the send reached a final status within waitMs.'),
  recipient: z.object({
    id: z.string(),
    phone: z.string(),
    status: z.enum(Object.values(RecipientStatus)),
    attempts: count,
    providerMessageId: z.string().nullable(),
    errorCode: z.string().nullable(),
    providerErrorCode: z.string().nullable(),
    providerErrorText: z.string().nullable(),
  }),
});
export const singleMessageExample: z.output<typeof singleMessage> = {
  campaignId: EXAMPLE_CAMPAIGN_ID,
  done: true,
  recipient: { id: '2097153', phone: '+56912345678', status: 'sent', attempts: 1, providerMessageId: 'wamid.HBgLNTY5MTIzNDU2NzgVAgARGBI', errorCode: null, providerErrorCode: null, providerErrorText: null },
};

export const aderesoAnswer = z.object({
  outcome: z.object({
    kind: z.string().describe('The normalized outcome kind (sent, accepted, already_sent...).'),
    code: z.string(),
    message: z.string(),
    providerCode: z.string().optional(),
    providerText: z.string().optional(),
  }),
  ticketId: z.string().optional(),
  replayed: z.boolean(),
});
export const aderesoAnswerExample: z.output<typeof aderesoAnswer> = {
  outcome: { kind: 'sent', code: 'SENT', message: 'Adereso took the message.' },
  ticketId: '884213',
  replayed: false,
};
