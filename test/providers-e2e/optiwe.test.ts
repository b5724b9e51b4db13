/**
 * Optiwe through the engine: the provider suite (support/provider-suite.ts) with Optiwe's row,
 * and Optiwe's own path no other provider has: a template with a numeric Optiwe id goes out
 * through the bulk endpoint, many recipients per request.
 */
import { describe, expect, it } from 'vitest';
import { OPTIWE, optiweAccount, startOptiwe } from './cases/optiwe.js';
import { createCampaign, recipientsByPhone, startCampaign, waitForCampaignStatus } from './support/provider-campaign.js';
import { deliveriesOf, describeProviderThroughEngine } from './support/provider-suite.js';

const world = describeProviderThroughEngine(OPTIWE);

describe('Optiwe through the engine, its own paths', () => {
  it('sends a campaign whose template has a numeric Optiwe id through the bulk endpoint, many recipients per request', async () => {
    const { engine } = world;
    const server = await startOptiwe();
    try {
      const bulkTemplate = server.addTemplate({ name: 'aviso_bulk', text: 'Hola {{1}}, tu pedido está listo' });
      const phones = Array.from({ length: 40 }, (_, i) => `+5691123${String(i).padStart(4, '0')}`);
      const invalid = phones[7] ?? '';
      server.invalidNumbers.add(invalid);
      const accountId = await optiweAccount(engine, server);
      const campaignId = await createCampaign(engine.ctx, {
        accountId,
        template: { name: bulkTemplate.name, body: bulkTemplate.text, externalId: String(bulkTemplate.id) },
        recipients: phones.map((phone, i) => ({ phone, variables: [`Cliente ${i}`] })),
      });
      await startCampaign(engine.ctx, campaignId);
      await waitForCampaignStatus(engine.ctx, campaignId, 'completed');

      const bulkRequests = server.requests.filter((r) => r.path === '/whatsapp-campaigns/bulk/customers/');
      const singleRequests = server.requests.filter((r) => r.path === '/whatsapp-campaigns/customers/');
      expect(singleRequests).toHaveLength(0);
      // Concurrent jobs share requests: fewer requests than recipients, every recipient in exactly one.
      expect(bulkRequests.length).toBeLessThan(phones.length);
      const sentPhones = bulkRequests.flatMap((r) => (r.json as { customers: { countryCode: string; phone: string }[] }).customers.map((c) => c.countryCode + c.phone));
      expect(sentPhones.sort()).toEqual([...phones].sort());

      const rows = await recipientsByPhone(engine.ctx, campaignId);
      expect(rows[invalid]).toMatchObject({ status: 'failed', errorCode: 'RECIPIENT_INVALID' });
      const others = phones.filter((p) => p !== invalid);
      expect(others.map((p) => rows[p]?.status)).toEqual(others.map(() => 'accepted'));
      expect(deliveriesOf(OPTIWE, server, others)).toEqual(others.map(() => 1));
    } finally {
      await server.close();
    }
  });
});
