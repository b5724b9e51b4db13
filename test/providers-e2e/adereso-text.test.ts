/**
 * Adereso text campaigns end to end: a campaign of free text (no template) sent by the real engine
 * as one proactive conversation per recipient (`/v2/message/create_conversation/`), each text
 * filled with the recipient's variables and the campaign's no_manual_reopen / no_manual_merge.
 * An account Adereso does not allow to message proactively (its 202) is a configuration error:
 * the account pauses with the manual's own instructions, and nothing is burned.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCampaign as createEngineCampaign } from '../../src/campaigns/create-campaign.js';
import { startFakeAderesoServer, type FakeAderesoServer } from '../fakes/adereso-server.js';
import { startE2eEngine, type E2eEngine } from './support/provider-suite.js';
import { createAccount, recipientsByPhone, startCampaign, waitForCampaignStatus } from './support/provider-campaign.js';
import { waitFor } from '../support/fixtures.js';

const BUSINESS_NUMBER = '56900000000';
const CONVERSATION_PATH = '/v2/message/create_conversation/';

let fake: FakeAderesoServer;
let engine: E2eEngine;

beforeAll(async () => {
  fake = await startFakeAderesoServer({ accounts: [BUSINESS_NUMBER], accountIds: { proactive_ok: true, proactive_off: false } });
  engine = await startE2eEngine();
});

afterAll(async () => {
  await engine?.close();
  await fake?.close();
});

function account(aderesoAccountId: string, defaults: { noManualMerge?: boolean } = {}): Promise<string> {
  return createAccount(engine.ctx, {
    provider: 'adereso',
    config: { baseUrl: fake.url, account: BUSINESS_NUMBER, accountId: aderesoAccountId, ...defaults },
    credentials: { token: fake.token },
  });
}

async function textCampaign(accountId: string, recipients: { phone: string; variables: string[] }[], options: { noManualReopen?: boolean; noManualMerge?: boolean } = { noManualReopen: true, noManualMerge: false }): Promise<string> {
  const { campaign } = await createEngineCampaign(engine.ctx.db, engine.ctx.tenantId, {
    name: 'Aviso de despacho',
    accountId,
    kind: 'text',
    text: 'Hola {{1}}, tu pedido {{2}} va en camino.',
    options,
    defaultCountry: 'CL',
    priority: 0,
    maxAttempts: 3,
    recipients,
    start: false,
  });
  return campaign.id;
}

describe('Adereso text campaigns through the engine', () => {
  it('opens one conversation per recipient with the text filled in, and sends no phone twice', async () => {
    const campaignId = await textCampaign(await account('proactive_ok'), [
      { phone: '+56911120001', variables: ['Ana', 'A-1'] },
      { phone: '+56911120002', variables: ['Luis', 'B-7'] },
      { phone: '+56911120003', variables: ['Marta', 'C-3'] },
    ]);
    await startCampaign(engine.ctx, campaignId);
    await waitForCampaignStatus(engine.ctx, campaignId, 'completed');

    const states = await recipientsByPhone(engine.ctx, campaignId);
    expect(Object.values(states).map((s) => s.status)).toEqual(['sent', 'sent', 'sent']);
    const bodies = fake.requests.filter((r) => r.path === CONVERSATION_PATH).map((r) => r.json as Record<string, unknown>);
    expect(bodies).toHaveLength(3);
    expect(bodies.find((b) => b.phone === '56911120001')).toEqual({
      phone: '56911120001',
      user_name: '+56911120001',
      account_id: 'proactive_ok',
      message: 'Hola Ana, tu pedido A-1 va en camino.',
      no_manual_reopen: true,
      no_manual_merge: false,
    });
    expect(new Set(bodies.map((b) => b.phone)).size).toBe(3);
  });

  it('pauses the account with the manual instructions when Adereso refuses proactive messages (202)', async () => {
    const accountId = await account('proactive_off');
    const campaignId = await textCampaign(accountId, [
      { phone: '+56911130001', variables: ['Ana', 'A-1'] },
      { phone: '+56911130002', variables: ['Luis', 'B-7'] },
    ]);
    await startCampaign(engine.ctx, campaignId);
    const stopped = await waitFor('the account to pause', async () => {
      const a = await engine.ctx.db.prisma.providerAccount.findUniqueOrThrow({ where: { id: accountId } });
      return a.status === 'paused' ? a : null;
    });
    expect(stopped.statusCode).toBe('ACCOUNT_MISCONFIGURED');
    expect(stopped.statusReason).toContain('Activar mensajes proactivos');
    const states = await recipientsByPhone(engine.ctx, campaignId);
    // Nothing failed: the recipients wait for the account to be fixed and resumed.
    expect(Object.values(states).filter((s) => s.status === 'failed')).toEqual([]);
  });

  it("takes the account's default for an option the campaign leaves out", async () => {
    const campaignId = await textCampaign(await account('proactive_ok', { noManualMerge: true }), [{ phone: '+56911140001', variables: ['Ana', 'A-1'] }], { noManualReopen: false });
    await startCampaign(engine.ctx, campaignId);
    await waitForCampaignStatus(engine.ctx, campaignId, 'completed');
    const body = fake.requests.filter((r) => r.path === CONVERSATION_PATH).map((r) => r.json as Record<string, unknown>).find((b) => b.phone === '56911140001');
    expect(body).toMatchObject({ no_manual_reopen: false, no_manual_merge: true });
  });
});
