/**
 * A campaign has each phone once (unique index on recipients (campaign_id, phone)). Ingest
 * skips duplicates itself instead of letting that index fail a COPY: it takes this lock for
 * its transaction, reads the phones already stored, and writes only new ones. Two uploads to
 * one campaign therefore run one after the other. Anything else that adds recipients to a
 * campaign must take the same lock in its transaction.
 */
import type pg from 'pg';
import { PhoneSet } from './phone-set.js';

/** First key of the two-key advisory lock: "recipients of a campaign" ('rcpt'). */
const RECIPIENTS_LOCK_NAMESPACE = 0x72637074;
const PAGE_ROWS = 50_000;

/** Serializes writers of a campaign's recipients until the transaction ends. */
export async function lockCampaignRecipients(client: pg.ClientBase, campaignId: string): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [RECIPIENTS_LOCK_NAMESPACE, campaignId]);
}

/** The phones the campaign has now, read in pages along the unique index. */
export async function loadCampaignPhones(client: pg.ClientBase, campaignId: string): Promise<PhoneSet> {
  const phones = new PhoneSet();
  let after = '';
  for (;;) {
    const { rows } = await client.query<{ phone: string }>(
      'SELECT phone FROM recipients WHERE campaign_id = $1 AND phone > $2 ORDER BY phone LIMIT $3',
      [campaignId, after, PAGE_ROWS],
    );
    for (const row of rows) phones.add(row.phone);
    const last = rows.at(-1);
    if (!last || rows.length < PAGE_ROWS) return phones;
    after = last.phone;
  }
}
