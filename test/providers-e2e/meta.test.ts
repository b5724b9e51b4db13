/**
 * Meta Cloud API through the engine: the provider suite (support/provider-suite.ts) with Meta's
 * row, and Meta's own answer no other provider has: a recipient over its marketing per-user cap
 * (131049) waits a day.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../support/fixtures.js';
import { META, META_TEMPLATE, metaAccount, metaSent } from './cases/meta.js';
import { campaignState, createCampaign, recipientNotBefore, recipientsByPhone, startCampaign } from './support/provider-campaign.js';
import { deliveriesOf, describeProviderThroughEngine } from './support/provider-suite.js';

const world = describeProviderThroughEngine(META);

describe('Meta Cloud API through the engine, its own answers', () => {
  it('defers a recipient over its marketing per-user cap (131049) by a day, spending no attempt, and sends the others', async () => {
    const { engine, fake } = world;
    const capped = '+5491155210001';
    const others = ['+5491155210002', '+5491155210003'];
    fake.recipientErrors.set(capped.slice(1), 131049);
    try {
      const campaignId = await createCampaign(engine.ctx, {
        accountId: await metaAccount(engine, fake),
        template: META_TEMPLATE,
        recipients: [capped, ...others].map((phone) => ({ phone, variables: ['Ana'] })),
      });
      const startedAt = Date.now();
      await startCampaign(engine.ctx, campaignId);

      const rows = await waitFor(
        'the capped recipient deferred and the others sent',
        async () => {
          const byPhone = await recipientsByPhone(engine.ctx, campaignId);
          return byPhone[capped]?.status === 'deferred' && others.every((phone) => byPhone[phone]?.status === 'sent') ? byPhone : null;
        },
        30_000,
        50,
      );
      expect(rows[capped]).toEqual({ status: 'deferred', attempts: 0, errorCode: 'RECIPIENT_DAILY_CAP', providerErrorCode: '131049', providerMessageId: null });
      for (const phone of others) expect(rows[phone]).toEqual(metaSent(fake, phone));
      const notBefore = (await recipientNotBefore(engine.ctx, campaignId, capped))?.getTime() ?? 0;
      expect(notBefore).toBeGreaterThanOrEqual(startedAt + 24 * 3_600_000);
      expect(notBefore).toBeLessThanOrEqual(Date.now() + 24 * 3_600_000);
      // Not due for a day: the campaign stays open, and the capped phone is not tried again meanwhile.
      expect((await campaignState(engine.ctx, campaignId)).status).toBe('running');
      expect([capped, ...others].map((phone) => META.requestsFor(fake, phone))).toEqual([1, 1, 1]);
      expect(deliveriesOf(META, fake, [capped, ...others])).toEqual([0, 1, 1]);
    } finally {
      fake.recipientErrors.delete(capped.slice(1));
    }
  });
});
