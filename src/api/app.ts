/**
 * The HTTP API (Fastify). Routes live in ./routes, one file per resource; every error leaves
 * through the one handler below, as { error: { code, message, details? } }.
 */
import multipart from '@fastify/multipart';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import type { Db } from '../db/database.js';
import { AppError, errors } from '../errors.js';
import type { Logger } from '../logger.js';
import { registry } from '../metrics.js';
import { installApiMetrics } from '../observability/install.js';
import { SendQueues } from '../queue/queues.js';
import { registerAuth } from './auth.js';
import { accountRoutes } from './routes/accounts.js';
import { aderesoMessageRoutes } from './routes/adereso-messages.js';
import { campaignRoutes } from './routes/campaigns.js';
import { eventEndpointRoutes } from './routes/event-endpoints.js';
import { healthRoutes } from './routes/health.js';
import { messageRoutes } from './routes/messages.js';
import { metricsRoutes } from './routes/metrics.js';
import { providerTemplateRoutes } from './routes/provider-templates.js';
import { settingsRoutes } from './routes/settings.js';
import { suppressionRoutes } from './routes/suppressions.js';
import { templateRoutes } from './routes/templates.js';
import { uploadRoutes } from './routes/uploads.js';
import { webhookRoutes } from './routes/webhooks.js';
import { consoleCampaignRoutes } from './routes/console-campaigns.js';
import { consoleLiveRoutes } from './routes/console-live.js';
import { consoleUploadRoutes } from './routes/console-uploads.js';
import { registerConsole } from '../console/register-console.js';

export type ApiDeps = { config: Config; db: Db; redis: Redis; logger: Logger };
export type AppContext = ApiDeps & { queues: SendQueues };

export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Ordinary JSON bodies are small; POST /v1/campaigns (inline recipient lists) raises its own
    // limit, and uploads stream with theirs.
    bodyLimit: 1_048_576,
  });
  const ctx: AppContext = { ...deps, queues: new SendQueues(deps.redis, deps.config.queuePrefix) };
  app.addHook('onClose', async () => ctx.queues.close());
  app.addHook('onClose', installApiMetrics(registry, { pool: deps.db.pool, redis: deps.redis, queues: ctx.queues, config: deps.config }));

  app.setErrorHandler((error: FastifyError | AppError, request, reply) => {
    const appError = toAppError(error, deps.config.uploadMaxBytes, request.headers['content-type']);
    if (appError.statusCode >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: appError.code }, 'request rejected');
    void reply.status(appError.statusCode).send(appError.toJSON());
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send(new AppError('ROUTE_NOT_FOUND', 404, `No route ${request.method} ${request.url.split('?')[0]}.`).toJSON());
  });

  // One byte over our limit, so the upload's own limiter (which answers 413) trips rather than a silent truncation.
  await app.register(multipart, { limits: { fileSize: deps.config.uploadMaxBytes + 1, files: 1 } });
  const consoleParts = registerConsole(app, ctx);
  registerAuth(app, deps.db);
  await app.register(healthRoutes(ctx));
  await app.register(accountRoutes(ctx));
  await app.register(templateRoutes(ctx));
  await app.register(providerTemplateRoutes(ctx));
  await app.register(campaignRoutes(ctx));
  await app.register(messageRoutes(ctx));
  await app.register(aderesoMessageRoutes(ctx));
  await app.register(uploadRoutes(ctx));
  await app.register(suppressionRoutes(ctx));
  await app.register(settingsRoutes(ctx));
  await app.register(webhookRoutes(ctx));
  await app.register(metricsRoutes(ctx));
  await app.register(consoleCampaignRoutes(ctx));
  await app.register(consoleLiveRoutes(ctx, consoleParts.hub));
  await app.register(consoleUploadRoutes(ctx));
  await consoleParts.registerPages();
  await app.register(eventEndpointRoutes(ctx));
  return app;
}

function toAppError(error: FastifyError | AppError, uploadMaxBytes: number, contentType: string | undefined): AppError {
  if (error instanceof AppError) return error;
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
      return errors.uploadTooLarge(uploadMaxBytes);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return errors.unsupportedMediaType(contentType ?? 'none');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return errors.malformedJson();
    default:
      if (error.validation) return errors.validation([error.message]);
      if (error.statusCode && error.statusCode < 500) return new AppError('BAD_REQUEST', error.statusCode, error.message);
      return errors.internal();
  }
}
