/**
 * Wires the console into the API app: sessions (decorated before the API-key hook, which
 * accepts a session cookie in place of a key), the shared live hub, and later its pages, static
 * files and Bull Board.
 */
import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../api/app.js';
import { registerBullBoard } from './bull-board.js';
import { consoleRoutes } from './console-routes.js';
import { CampaignLiveHub } from './live-hub.js';
import { decorateSessions } from './session-auth.js';
import { SessionStore } from './session-store.js';

declare module 'fastify' {
  interface FastifyInstance {
    consoleHub: CampaignLiveHub;
  }
}

export type ConsoleParts = { hub: CampaignLiveHub; registerPages(): Promise<void> };

export function registerConsole(app: FastifyInstance, ctx: AppContext): ConsoleParts {
  const sessions = new SessionStore(ctx.redis, ctx.config.queuePrefix, ctx.config.consoleSessionTtlSeconds);
  decorateSessions(app, sessions, ctx.db);
  const hub = new CampaignLiveHub(ctx.db, ctx.redis, ctx.config.queuePrefix, ctx.config.consoleLiveIntervalMs, ctx.logger.child({ module: 'console-live' }), ctx.funnels);
  app.addHook('preClose', async () => hub.close());
  // Tests and the bench read the hub's tick count through the app.
  app.decorate('consoleHub', hub);
  return {
    hub,
    async registerPages() {
      await app.register(consoleRoutes({ config: ctx.config, db: ctx.db, sessions }));
      await registerBullBoard(app, { config: ctx.config, db: ctx.db, queues: ctx.queues });
    },
  };
}
