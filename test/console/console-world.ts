/**
 * One world for the console's tests: the real API app listening on a loopback port (the console
 * is served by it), a worker host sending through the sandbox provider, two tenants with keys,
 * and a sandbox account and template for the first.
 */
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { createTenant } from '../../src/tenants/api-keys.js';
import { buildApp } from '../../src/api/app.js';
import type { Config } from '../../src/config.js';
import { startSandboxServer, type SandboxServer } from '../../src/providers/sandbox/sandbox-server.js';
import { redisConnection } from '../../src/redis-client.js';
import { WorkerHost } from '../../src/queue/worker-host.js';
import { apiClient, type ApiClient } from '../api/api-harness.js';
import { createTestContext, type TestContext } from '../support/test-context.js';

export const SANDBOX_TOKEN = 'console-sandbox-token';

export type ConsoleWorld = {
  ctx: TestContext;
  app: FastifyInstance;
  baseUrl: string;
  redis: Redis;
  sandbox: SandboxServer;
  tenantA: { tenantId: string; apiKey: string; api: ApiClient };
  tenantB: { tenantId: string; apiKey: string; api: ApiClient };
  close(): Promise<void>;
};

export async function startConsoleWorld(options: { overrides?: Partial<Config>; worker?: boolean } = {}): Promise<ConsoleWorld> {
  const ctx = await createTestContext({
    feederIntervalMs: 50,
    sweeperIntervalMs: 500,
    retryBaseDelayMs: 50,
    retryMaxDelayMs: 200,
    breakerMinCalls: 1_000_000,
    consoleLiveIntervalMs: 300,
    ...options.overrides,
  });
  const sandbox = await startSandboxServer({ token: SANDBOX_TOKEN });
  const host = options.worker === false ? null : new WorkerHost(ctx.config, ctx.db, ctx.logger);
  await host?.start();
  const redis = redisConnection(ctx.config.redisUrl);
  const app = await buildApp({ config: ctx.config, db: ctx.db, redis, logger: ctx.logger });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const a = await createTenant(ctx.db, 'Tienda A');
  const b = await createTenant(ctx.db, 'Tienda B');
  return {
    ctx,
    app,
    baseUrl,
    redis,
    sandbox,
    tenantA: { ...a, api: apiClient(app, a.apiKey) },
    tenantB: { ...b, api: apiClient(app, b.apiKey) },
    async close() {
      await app.close();
      await host?.stop();
      redis.disconnect();
      await sandbox.close();
      await ctx.close();
    },
  };
}

/** A sandbox account and an approved two-placeholder template, through the API. */
export async function createSandboxSender(api: ApiClient, sandboxUrl: string, ratePerSecond: number, name = 'Sandbox CL'): Promise<{ accountId: string; templateId: string }> {
  const account = await api.post('/v1/accounts', { provider: 'sandbox', name, config: { baseUrl: sandboxUrl }, credentials: { token: SANDBOX_TOKEN }, ratePerSecond, pairGapSeconds: 0 });
  if (account.statusCode !== 201) throw new Error(`account: ${account.body}`);
  const accountId = account.json<{ id: string }>().id;
  const template = await api.post('/v1/templates', { accountId, name: 'saldo_pendiente', body: 'Hola {{1}}, tu saldo pendiente es {{2}}.', paramNames: ['nombre', 'monto'], buttons: [{ type: 'QUICK_REPLY', text: 'Pagar' }] });
  if (template.statusCode !== 201) throw new Error(`template: ${template.body}`);
  return { accountId, templateId: template.json<{ id: string }>().id };
}
