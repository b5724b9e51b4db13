/** What an operator reads back: progress with rate and ETA, recipients page by page, the CSV export. */
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { sentCounterKey } from '../../src/campaigns/campaign-stats.js';
import { walkRecipientsTowards } from '../support/fixtures.js';
import { apiForFile, beforeAllValue, createDraftCampaign, createSender, expectError, expectStatus, expectStatusCode, recipientObjects } from './api-harness.js';

const h = apiForFile();
const sender = beforeAllValue(() => createSender(h.api));
let campaignId: string;
/** 30 recipients: lines 1-30; 6 sent, 4 failed (with a provider error), 20 pending. */
const RECIPIENTS = recipientObjects(30, 1000);

beforeAll(async () => {
  const created = await createDraftCampaign(h.api, sender, { name: 'results', recipients: RECIPIENTS, start: true });
  expect(created.upload).toMatchObject({ accepted: 30 });
  campaignId = created.campaign.id;
  // What workers would have written; the statuses are spread over the id order on purpose.
  await walkRecipientsTowards(h.ctx, 'sent', 'campaign_id = $1 AND line % 5 = 0', [campaignId]);
  await h.ctx.db.pool.query(
    `UPDATE recipients SET status = 'sent', attempts = 1, provider_message_id = 'msg-' || line, sent_at = now()
      WHERE campaign_id = $1 AND line % 5 = 0`,
    [campaignId],
  );
  await h.ctx.db.pool.query(
    `UPDATE recipients SET status = 'failed', attempts = 2, error_code = 'RECIPIENT_INVALID', provider_error_code = '131026',
            provider_error_text = 'Message undeliverable, "not on WhatsApp"', failed_at = now()
      WHERE campaign_id = $1 AND line % 7 = 0`,
    [campaignId],
  );
});

type Progress = {
  counts: Record<string, number>;
  total: number;
  done: number;
  ratePerSecond: number;
  etaSeconds: number | null;
};
type CampaignView = { id: string; status: string; progress: Progress; account: { id: string; status: string }; uploads: { accepted: number }[] };
type RecipientRow = { id: string; phone: string; line: number; status: string; variables: string[] };
type RecipientPage = { recipients: RecipientRow[]; next: string | null };

const sentLines = [5, 10, 15, 20, 25, 30];
const failedLines = [7, 14, 21, 28];

describe('progress', () => {
  it('shows counts for every status, the total, what is done, and no ETA while nothing is moving', async () => {
    const view = expectStatus<CampaignView>(await h.api.get(`/v1/campaigns/${campaignId}`), 200);
    expect(view).toMatchObject({ id: campaignId, status: 'running', account: { id: sender.account.id, status: 'active' }, uploads: [{ accepted: 30 }] });
    expect(view.progress).toEqual({
      counts: { pending: 20, deferred: 0, queued: 0, sending: 0, accepted: 0, sent: 6, delivered: 0, read: 0, failed: 4, unknown: 0, cancelled: 0 },
      total: 30,
      done: 10,
      ratePerSecond: 0,
      etaSeconds: null,
    });
  });

  it('takes the rate from the workers\' per-second counters and the ETA from it', async () => {
    // 40 sends counted three seconds ago: 40 over the 10-second window is 4 per second.
    const second = Math.floor(Date.now() / 1000) - 3;
    await h.redis.set(sentCounterKey(h.ctx.config.queuePrefix, campaignId, second), '40', 'EX', 60);
    const view = expectStatus<CampaignView>(await h.api.get(`/v1/campaigns/${campaignId}`), 200);
    expect({ ratePerSecond: view.progress.ratePerSecond, etaSeconds: view.progress.etaSeconds }).toEqual({ ratePerSecond: 4, etaSeconds: 5 });
  });
});

describe('recipients', () => {
  const page = async (query: string) => expectStatus<RecipientPage>(await h.api.get(`/v1/campaigns/${campaignId}/recipients?${query}`), 200);
  // Order is by line here, not by the response: paging by the `next` cursor is broken today
  // (ORDER BY sorts the id as text), see the report. These checks hold within one page.
  const byLine = (rows: RecipientRow[]) => [...rows].sort((a, b) => a.line - b.line);

  it('filters by status: a page holds every recipient of that status and no other', async () => {
    const failed = await page('status=failed&limit=100');
    expect(failed.next).toBeNull();
    expect(byLine(failed.recipients).map((r) => r.line)).toEqual(failedLines);
    expect(byLine(failed.recipients)[0]).toMatchObject({
      status: 'failed',
      attempts: 2,
      errorCode: 'RECIPIENT_INVALID',
      providerErrorCode: '131026',
      providerErrorText: 'Message undeliverable, "not on WhatsApp"',
      failedAt: expect.any(String),
    });
    const sent = await page('status=sent&limit=100');
    expect(byLine(sent.recipients).map((r) => [r.line, r.status])).toEqual(sentLines.map((l) => [l, 'sent']));
    const all = await page('limit=1000');
    expect(byLine(all.recipients).map((r) => r.line)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(byLine(all.recipients)[0]).toMatchObject({ phone: RECIPIENTS[0]?.phone, variables: [RECIPIENTS[0]?.nombre, RECIPIENTS[0]?.saldo], status: 'pending' });
  });

  it('a page holds at most `limit` recipients and then offers a next cursor', async () => {
    const first = await page('status=pending&limit=6');
    expect(first.recipients).toHaveLength(6);
    expect(first.next).toMatch(/^\d+$/);
    expect(new Set(first.recipients.map((r) => r.id)).size).toBe(6);
  });

  it('refuses an unknown status, a cursor that is not an id, and a limit out of range with 400 VALIDATION_FAILED', async () => {
    for (const query of ['status=lost', 'after=abc', 'limit=0', 'limit=1001']) {
      expectError(await h.api.get(`/v1/campaigns/${campaignId}/recipients?${query}`), 400, 'VALIDATION_FAILED');
    }
  });
});

describe('export.csv', () => {
  it('has a header and one line per recipient, with results and provider errors quoted safely', async () => {
    const response = await h.api.get(`/v1/campaigns/${campaignId}/export.csv`);
    expectStatusCode(response, 200);
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(response.headers['content-disposition']).toBe(`attachment; filename="campaign-${campaignId}.csv"`);
    const records = parse(response.body, { columns: true, bom: true }) as Record<string, string>[];
    expect(Object.keys(records[0] ?? {})).toEqual([
      'line', 'phone', 'raw_phone', 'status', 'attempts', 'provider_message_id', 'error_code', 'provider_error_code', 'provider_error_text',
      'sent_at', 'delivered_at', 'read_at', 'replied_at', 'opted_out_at', 'failed_at', 'variables', 'sending_account', 'account_id',
    ]);
    expect(records).toHaveLength(30);
    // Sorted here because the export's own order is not line order today (see the report).
    const rows = [...records].sort((a, b) => Number(a.line) - Number(b.line));
    expect(rows.map((r) => Number(r.line))).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(rows.map((r) => r.phone)).toEqual(RECIPIENTS.map((r) => r.phone));
    expect(rows[4]).toMatchObject({ status: 'sent', attempts: '1', provider_message_id: 'msg-5', failed_at: '' });
    expect(rows[4]?.sent_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(rows[6]).toMatchObject({ status: 'failed', error_code: 'RECIPIENT_INVALID', provider_error_text: 'Message undeliverable, "not on WhatsApp"' });
    expect(JSON.parse(rows[0]?.variables ?? '')).toEqual([RECIPIENTS[0]?.nombre, RECIPIENTS[0]?.saldo]);
  });

  it('an empty campaign exports just the header', async () => {
    const { campaign } = await createDraftCampaign(h.api, sender, { name: 'empty' });
    const response = await h.api.get(`/v1/campaigns/${campaign.id}/export.csv`);
    expectStatusCode(response, 200);
    expect(parse(response.body, { bom: true })).toEqual([
      ['line', 'phone', 'raw_phone', 'status', 'attempts', 'provider_message_id', 'error_code', 'provider_error_code', 'provider_error_text',
        'sent_at', 'delivered_at', 'read_at', 'replied_at', 'opted_out_at', 'failed_at', 'variables', 'sending_account', 'account_id'],
    ]);
  });
});
