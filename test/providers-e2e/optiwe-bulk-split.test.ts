/**
 * Optiwe's bulk endpoint takes up to 100 recipients per request (README, "Providers"), pinned
 * through the engine rather than by the adapter's constant: a campaign of 250 recipients on an
 * Optiwe account, sent by the real workers to the local Optiwe (test/fakes/optiwe-server.ts).
 * Every bulk request the fake received holds at most 100 recipients, bulk is really used (some
 * request holds more than one), nothing goes through the single-send endpoint, and the requests
 * together carry every phone exactly once, each accepted once by Optiwe.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPTIWE_BULK_MAX_SIZE } from '../../src/providers/optiwe/index.js';
import type { FakeOptiwe } from '../fakes/optiwe-server.js';
import { startEngine } from '../support/engine-harness.js';
import { startOptiwe } from './cases/optiwe.js';
import { createAccount, createCampaign, recipientsByPhone, startCampaign, tally, waitForCampaignStatus } from './support/provider-campaign.js';
import { E2E_CONFIG, type E2eEngine } from './support/provider-suite.js';

const BULK_PATH = '/whatsapp-campaigns/bulk/customers/';
const SINGLE_PATH = '/whatsapp-campaigns/customers/';
const README_MAX_PER_REQUEST = 100;
const RECIPIENTS = 250;
/**
 * A bulk request holds at most min(adapter maximum, floor(rate / 4)) messages
 * (src/sending/bulk-gathering.ts). At 1000/s, the most the API lets an account have, that is
 * min(100, 250) = 100: the README's limit is the one that binds, not the rate's quarter second.
 */
const RATE_PER_SECOND = 1000;

let engine: E2eEngine;
let fake: FakeOptiwe;
beforeAll(async () => {
  engine = await startEngine({ config: E2E_CONFIG, sendWorkers: true });
  fake = await startOptiwe();
});
afterAll(async () => {
  await fake?.close();
  await engine?.close();
});

type BulkBody = { templateId: number; customers: { countryCode: string; phone: string }[] };

describe('Optiwe bulk requests through the engine', () => {
  it('splits a 250-recipient campaign into bulk requests of at most 100, every phone in exactly one', async () => {
    expect(OPTIWE_BULK_MAX_SIZE).toBe(README_MAX_PER_REQUEST);
    const template = fake.addTemplate({ name: 'aviso_masivo', text: 'Hola {{1}}, tu pedido está listo' });
    const phones = Array.from({ length: RECIPIENTS }, (_, i) => `+5691124${String(i).padStart(4, '0')}`);
    const accountId = await createAccount(engine.ctx, { provider: 'optiwe', config: { baseUrl: fake.url }, credentials: { token: fake.token }, ratePerSecond: RATE_PER_SECOND });
    const campaignId = await createCampaign(engine.ctx, {
      accountId,
      // A numeric Optiwe id: the template goes out through the bulk endpoint.
      template: { name: template.name, body: template.text, externalId: String(template.id) },
      recipients: phones.map((phone, i) => ({ phone, variables: [`Cliente ${i}`] })),
    });
    await startCampaign(engine.ctx, campaignId);
    await waitForCampaignStatus(engine.ctx, campaignId, 'completed');

    const bulk = fake.requests.filter((r) => r.path === BULK_PATH).map((r) => r.json as BulkBody);
    const sizes = bulk.map((b) => b.customers.length);
    expect(fake.requests.filter((r) => r.path === SINGLE_PATH)).toHaveLength(0);
    expect(bulk.every((b) => b.templateId === template.id)).toBe(true);
    // The README's limit: no request carries more than 100 recipients.
    expect(Math.max(...sizes), `request sizes ${sizes.join(', ')}`).toBeLessThanOrEqual(README_MAX_PER_REQUEST);
    // Bulk is really used: some request carries more than one recipient.
    expect(Math.max(...sizes), `request sizes ${sizes.join(', ')}`).toBeGreaterThan(1);

    // Across the requests, every phone exactly once.
    const sent = bulk.flatMap((b) => b.customers.map((c) => c.countryCode + c.phone));
    expect(sent).toHaveLength(RECIPIENTS);
    expect([...tally(sent).entries()].filter(([, n]) => n !== 1)).toEqual([]);
    expect([...sent].sort()).toEqual([...phones].sort());

    // Optiwe took each once, and the engine recorded each as accepted.
    expect(fake.deliveries.map((d) => d.phone).sort()).toEqual([...phones].sort());
    const rows = await recipientsByPhone(engine.ctx, campaignId);
    expect(phones.filter((p) => rows[p]?.status !== 'accepted')).toEqual([]);
  });
});
