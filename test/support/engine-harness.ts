/**
 * The one engine harness for tests: an isolated test context (its own database cloned from the
 * migrated template, its own queue prefix), a Redis connection and the account queues as the
 * engine names them, and, on request:
 * - `sendWorkers`: a WorkerHost (feeder, sweeper, one BullMQ worker per account, the send
 *   pipeline), the engine exactly as a worker process runs it, in this process;
 * - `api`: the real Fastify app (buildApp), a tenant with an API key and a client speaking
 *   through app.inject() (no socket);
 * - `sandbox`: the local sandbox provider, with the given settings.
 * close() stops them in the reverse order and drops the database and the queue keys.
 *
 * Test files that need another process (crash, rate across processes) start real worker
 * processes with worker-process.ts against the same context.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import { createTenant } from '../../src/tenants/api-keys.js';
import { buildApp } from '../../src/api/app.js';
import type { Config } from '../../src/config.js';
import { startSandboxServer, type SandboxServer, type SandboxSettings } from '../../src/providers/sandbox/sandbox-server.js';
import { SendQueues } from '../../src/queue/queues.js';
import { redisConnection, type RedisClient } from '../../src/redis-client.js';
import { WorkerHost } from '../../src/queue/worker-host.js';
import { apiClient, type ApiClient, type ApiTenant } from './api-client.js';
import { createTestContext, type TestContext } from './test-context.js';

/**
 * Short intervals, so feeding, retries and timeouts play out in a test's time; a test waits on
 * states, never on these. The breaker is out of the way unless a test turns it on.
 */
export const FAST_ENGINE_CONFIG: Partial<Config> = {
  feederIntervalMs: 50,
  sweeperIntervalMs: 500,
  retryBaseDelayMs: 50,
  retryMaxDelayMs: 200,
  breakerMinCalls: 1_000_000,
};

export type EngineOptions = {
  /** Settings over the environment's (FAST_ENGINE_CONFIG is not applied unless passed). */
  config?: Partial<Config>;
  sendWorkers?: boolean;
  api?: boolean;
  sandbox?: boolean | Partial<SandboxSettings>;
};

type Part<On, T> = On extends true ? T : Record<never, never>;

type EngineBase = {
  ctx: TestContext;
  /** A connection of the test's own, for reading engine state (queues, flow state, logs). */
  redis: RedisClient;
  /** The account queues as the engine names them, for pause checks and account actions. */
  queues: SendQueues;
  close(): Promise<void>;
};

type SendPart = { host: WorkerHost };
type ApiPart = {
  app: FastifyInstance;
  /** A tenant with a key; `newTenant` makes more, for isolation tests. */
  tenant: ApiTenant;
  api: ApiClient;
  newTenant(name: string): Promise<{ tenant: ApiTenant; api: ApiClient }>;
};
type SandboxPart = { sandbox: SandboxServer };

export type Engine<O extends EngineOptions = EngineOptions> = EngineBase &
  Part<O['sendWorkers'], SendPart> &
  Part<O['api'], ApiPart> &
  (O['sandbox'] extends false | undefined ? Record<never, never> : SandboxPart);

export async function startEngine<const O extends EngineOptions>(options: O): Promise<Engine<O>> {
  const ctx = await createTestContext(options.config ?? {});
  const redis = redisConnection(ctx.config);
  const queues = new SendQueues(redis, ctx.config.queuePrefix);
  const closers: (() => Promise<void>)[] = [
    () => ctx.close(),
    async () => redis.disconnect(),
    () => queues.close(),
  ];
  const engine: EngineBase & Partial<SendPart & ApiPart & SandboxPart> = {
    ctx,
    redis,
    queues,
    async close() {
      for (const close of closers.splice(0).reverse()) await close();
    },
  };
  try {
    if (options.sandbox) {
      const sandbox = await startSandboxServer(options.sandbox === true ? {} : options.sandbox);
      closers.push(() => sandbox.close());
      engine.sandbox = sandbox;
    }
    if (options.api) {
      const app = await buildApp({ config: ctx.config, db: ctx.db, redis, logger: ctx.logger });
      closers.push(() => app.close());
      const tenant = await createTenant(ctx.db, 'tenant A');
      Object.assign(engine, {
        app,
        tenant,
        api: apiClient(app, tenant.apiKey),
        async newTenant(name: string) {
          const other = await createTenant(ctx.db, name);
          return { tenant: other, api: apiClient(app, other.apiKey) };
        },
      });
    }
    if (options.sendWorkers) {
      const host = new WorkerHost(ctx.config, ctx.db, ctx.logger);
      closers.push(() => host.stop());
      await host.start();
      engine.host = host;
    }
  } catch (error) {
    await engine.close();
    throw error;
  }
  // The parts asked for are set above; the type says which.
  return engine as Engine<O>;
}

/**
 * The file's engine, started before its tests and closed after them: returned empty now and
 * filled by a beforeAll, which then calls `ready` (to set the file's `ctx`, `sandbox`, ...).
 */
export function engineForFile<const O extends EngineOptions>(options: O, ready: (engine: Engine<O>) => void = () => undefined): Engine<O> {
  const engine = {} as Engine<O>;
  beforeAll(async () => {
    Object.assign(engine, await startEngine(options));
    ready(engine);
  });
  afterAll(async () => {
    await (engine as Partial<EngineBase>).close?.();
  });
  return engine;
}
