/**
 * The API under test with the provider-template routes, and accounts pointing at the local
 * fake providers. The routes are registered here only while src/api/app.ts does not register
 * them itself, so these tests keep passing once it does.
 */
import { SendQueues } from '../../src/queue/queues.js';
import { FunnelCache } from '../../src/campaigns/funnel-cache.js';
import { providerTemplateRoutes } from '../../src/api/routes/provider-templates.js';
import { expectStatus, startApi, type ApiClient, type ApiHarness, type PublicAccount } from '../api/api-harness.js';
import type { Config } from '../../src/config.js';

export async function startTemplateApi(overrides: Partial<Config> = {}): Promise<ApiHarness> {
  const h = await startApi(overrides);
  if (!h.app.hasRoute({ method: 'POST', url: '/v1/accounts/:id/templates/sync' })) {
    const queues = new SendQueues(h.redis, h.ctx.config.queuePrefix);
    h.app.addHook('onClose', async () => queues.close());
    await h.app.register(providerTemplateRoutes({ config: h.ctx.config, db: h.ctx.db, redis: h.redis, logger: h.ctx.logger, queues, funnels: new FunnelCache(h.ctx.db, h.redis, h.ctx.config.queuePrefix) }));
  }
  return h;
}

export async function createProviderAccount(
  api: ApiClient,
  provider: string,
  config: Record<string, unknown>,
  credentials: Record<string, unknown>,
  name = `${provider} account`,
): Promise<PublicAccount> {
  return expectStatus<PublicAccount>(await api.post('/v1/accounts', { provider, name, config, credentials }), 201);
}

export type SyncBody = {
  accountId: string;
  provider: string;
  created: number;
  updated: number;
  unchanged: number;
  disabled: number;
  skipped: { name: string; problem: string }[];
};
