/**
 * One message to one phone (a transactional send, or a test send before a campaign), through
 * the same pipeline as campaigns: it is a one-recipient campaign at top priority, so the
 * account's rate limit, the exactly-once claim, retries and outcome classification all apply,
 * and it appears in exports like any other send.
 */
import type { Db } from '../db/database.js';
import { errors } from '../errors.js';
import { maskPhone } from '../logger.js';
import { applyCampaignAction } from '../campaigns/campaign-actions.js';
import { createCampaign } from '../campaigns/create-campaign.js';
import type { RecipientStatus } from '../generated/prisma/enums.js';
import { OPEN_STATUSES } from '../recipients/index.js';

/** Ahead of every ordinary campaign on the account (campaign priorities run -100..100). */
const SINGLE_MESSAGE_PRIORITY = 100;

export type SingleMessageInput = {
  accountId: string;
  templateId: string;
  phone: string;
  variables: readonly string[];
  defaultCountry: string;
  /** How long to wait for the outcome (ms); 0 answers at once. */
  waitMs: number;
};

export type SingleMessageResult = {
  campaignId: string;
  /** True when the send reached a final status within the wait. */
  done: boolean;
  recipient: {
    id: string;
    phone: string;
    status: RecipientStatus;
    attempts: number;
    providerMessageId: string | null;
    errorCode: string | null;
    providerErrorCode: string | null;
    providerErrorText: string | null;
  };
};

export async function sendSingleMessage(db: Db, tenantId: string, input: SingleMessageInput, idempotencyKey?: string): Promise<SingleMessageResult> {
  const created = await createCampaign(
    db,
    tenantId,
    {
      name: `single message to ${maskPhone(input.phone)}`,
      accountId: input.accountId,
      templateId: input.templateId,
      defaultCountry: input.defaultCountry,
      priority: SINGLE_MESSAGE_PRIORITY,
      maxAttempts: 5,
      recipients: [{ phone: input.phone, variables: input.variables }],
      start: false,
    },
    idempotencyKey,
  );
  const campaignId = created.campaign.id;
  if (created.upload && created.upload.accepted === 0) {
    const { rows } = await db.pool.query<{ reason: string; message: string }>(
      `SELECT reason, message FROM rejected_rows WHERE upload_id = $1 ORDER BY line LIMIT 1`,
      [created.upload.uploadId],
    );
    await db.prisma.campaign.delete({ where: { id: campaignId } });
    const problem = rows[0];
    throw errors.recipientRejected(problem?.reason ?? 'UNKNOWN', problem?.message ?? 'The phone or variables are not valid.');
  }
  if (created.campaign.status === 'draft') await applyCampaignAction(db, tenantId, campaignId, 'start');

  const deadline = Date.now() + input.waitMs;
  for (;;) {
    const recipient = await readRecipient(db, campaignId);
    const done = !OPEN_STATUSES.includes(recipient.status);
    if (done || Date.now() >= deadline) return { campaignId, done, recipient };
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function readRecipient(db: Db, campaignId: string): Promise<SingleMessageResult['recipient']> {
  const { rows } = await db.pool.query<SingleMessageResult['recipient']>(
    `SELECT id::text, phone, status, attempts, provider_message_id AS "providerMessageId", error_code AS "errorCode",
            provider_error_code AS "providerErrorCode", provider_error_text AS "providerErrorText"
       FROM recipients WHERE campaign_id = $1 LIMIT 1`,
    [campaignId],
  );
  const row = rows[0];
  if (!row) throw new Error(`single-message campaign ${campaignId} has no recipient`);
  return row;
}
