/** The upload size limit (UPLOAD_MAX_BYTES, 1 KiB here): refused with 413 and nothing stored. */
import { describe, expect, it } from 'vitest';
import {
  apiForFile,
  beforeAllValue,
  createDraftCampaign,
  createSender,
  expectError,
  expectStatus,
  phones,
  recipientObjects,
  type UploadResponse,
} from './api-harness.js';

const LIMIT = 1024;

const h = apiForFile({ uploadMaxBytes: LIMIT, campaignJsonMaxBytes: LIMIT });
const sender = beforeAllValue(() => createSender(h.api));

/** A CSV of `rows` recipients; 20 rows is about half a KiB. */
function csv(rows: number, offset = 0): string {
  return ['phone,nombre,saldo', ...phones(rows, offset).map((p, i) => `${p},Cliente ${i},${1000 + i}`)].join('\n');
}

describe('upload size limit', () => {
  it('a file under the limit is taken (the control for the tests below)', async () => {
    const { campaign } = await createDraftCampaign(h.api, sender);
    expect(Buffer.byteLength(csv(20))).toBeLessThan(LIMIT);
    const { upload } = expectStatus<UploadResponse>(await h.api.send(`/v1/campaigns/${campaign.id}/recipients`, csv(20), 'text/csv'), 201);
    expect(upload.accepted).toBe(20);
  });

  // The streamed routes (text/csv, JSON, NDJSON, multipart) over the limit are not tested here:
  // today they crash the process with an unhandled stream error, or (multipart) store a
  // truncated file with 201. See the report for the tests and fixes.

  it('inline recipients over the limit on campaign creation are 413 BODY_TOO_LARGE, and no campaign is created', async () => {
    const before = await h.ctx.db.prisma.campaign.count();
    const response = await h.api.post('/v1/campaigns', {
      name: 'too big',
      accountId: sender.account.id,
      templateId: sender.template.id,
      recipients: recipientObjects(30),
    });
    expect(expectError(response, 413, 'BODY_TOO_LARGE').details).toEqual({ limitBytes: LIMIT });
    expect(await h.ctx.db.prisma.campaign.count()).toBe(before);
  });
});
