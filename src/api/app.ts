/**
 * The HTTP API (Fastify). Routes live in ./routes, one file per resource; every error leaves
 * through the one handler below, as { error: { code, message, details? } }, including what
 * Node's HTTP parser refuses before Fastify sees a request (clientErrorHandler) and what the
 * router refuses (frameworkErrors). Input no route can store is refused once, centrally, before
 * validation (checkInputValue).
 */
import type { Socket } from 'node:net';
import multipart from '@fastify/multipart';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { RedisClient } from '../redis-client.js';
import type { Config } from '../config.js';
import type { Db } from '../db/database.js';
import { AppError, errors } from '../errors.js';
import type { Logger } from '../logger.js';
import { registry } from '../metrics.js';
import { installApiMetrics } from '../observability/install.js';
import { SendQueues } from '../queue/queues.js';
import { registerAuth } from './auth.js';
import { apiKeyRoutes } from './routes/api-keys.js';
import { accountRoutes } from './routes/accounts.js';
import { aderesoMessageRoutes } from './routes/adereso-messages.js';
import { campaignRoutes } from './routes/campaigns.js';
import { senderPoolRoutes } from './routes/sender-pools.js';
import { campaignPlanRoutes } from './routes/campaign-plan.js';
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
import { FunnelCache } from '../campaigns/funnel-cache.js';
import { checkInputValue } from '../validate.js';
import { registerApiDocs } from './openapi/register-docs.js';

export type ApiDeps = { config: Config; db: Db; redis: RedisClient; logger: Logger };
/** `funnels`: the campaign funnels this process serves, shared with the other API instances (src/campaigns/funnel-cache.ts). */
export type AppContext = ApiDeps & { queues: SendQueues; funnels: FunnelCache };
/** One registered route, as the onRoute hook saw it (tests enumerate every route with it). */
export type RegisteredRoute = { method: string; url: string };

declare module 'fastify' {
  interface FastifyInstance {
    registeredRoutes: RegisteredRoute[];
  }
}

/** Ordinary JSON bodies are small; POST /v1/campaigns raises its own limit, and uploads stream with theirs. */
const DEFAULT_BODY_LIMIT = 1_048_576;

export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: DEFAULT_BODY_LIMIT,
    // Slow clients: the whole request must arrive within requestTimeout, its headers much sooner.
    requestTimeout: config.requestTimeoutMs,
    http: {
      headersTimeout: config.headersTimeoutMs,
      // How often Node looks for requests past those timeouts (its default is 30 s).
      connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(Math.min(config.requestTimeoutMs || 30_000, config.headersTimeoutMs) / 4))),
    },
    clientErrorHandler: writeClientError,
    frameworkErrors: (error, _request, reply) => {
      const appError = errors.badRequest(error.code === 'FST_ERR_BAD_URL' ? 'the URL is not validly percent-encoded' : error.message);
      void (reply as unknown as FastifyReply).code(appError.statusCode).send(appError.toJSON());
    },
  });
  const ctx: AppContext = { ...deps, queues: new SendQueues(deps.redis, config.queuePrefix), funnels: new FunnelCache(deps.db, deps.redis, config.queuePrefix) };
  app.addHook('onClose', async () => ctx.queues.close());
  app.addHook('onClose', installApiMetrics(registry, { pool: deps.db.pool, redis: deps.redis, queues: ctx.queues, config: deps.config }));
  // How long the API itself spent on each request, from its first byte read to the answer handed
  // to Node, and of that how long its API key took (W3C Server-Timing): a client that measures
  // more than `app` waited on the network, or on its own process being scheduled.
  app.addHook('onSend', async (request, reply) => {
    const auth = request.authMs > 0 ? `, auth;dur=${request.authMs.toFixed(1)}` : '';
    void reply.header('server-timing', `app;dur=${reply.elapsedTime.toFixed(1)}${auth}`);
  });
  const routes: RegisteredRoute[] = [];
  app.decorate('registeredRoutes', routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });

  app.setErrorHandler((error: FastifyError | AppError, request, reply) => {
    const appError = toAppError(error, request, config.uploadMaxBytes);
    if (appError.statusCode >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: appError.code }, 'request rejected');
    const retryAfter = appError.details?.retryAfterSeconds;
    if (typeof retryAfter === 'number') void reply.header('retry-after', String(retryAfter));
    void reply.status(appError.statusCode).send(appError.toJSON());
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send(new AppError('ROUTE_NOT_FOUND', 404, `No route ${request.method} ${request.url.split('?')[0]}.`).toJSON());
  });
  // Before any route reads its input: text Postgres cannot store, and nesting no route needs.
  // Answered here rather than thrown: a plugin with its own error handler (Bull Board) would
  // reshape a thrown error.
  app.addHook('preValidation', async (request, reply) => {
    try {
      checkInputValue(request.params, 'path');
      checkInputValue(request.query, 'query');
      checkInputValue(request.body, 'body');
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      request.log.info({ code: error.code }, 'request rejected');
      return reply.status(error.statusCode).send(error.toJSON());
    }
  });

  // Before any route: it collects each route's declaration for /openapi.json and /docs.
  await registerApiDocs(app);
  // One byte over our limit, so the upload's own limiter (which answers 413) trips rather than a silent truncation.
  await app.register(multipart, { limits: { fileSize: config.uploadMaxBytes + 1, files: 1 } });
  const consoleParts = registerConsole(app, ctx);
  const keyCache = registerAuth(app, deps);
  await app.register(healthRoutes(ctx));
  await app.register(apiKeyRoutes(ctx, keyCache));
  await app.register(accountRoutes(ctx));
  await app.register(templateRoutes(ctx));
  await app.register(providerTemplateRoutes(ctx));
  await app.register(campaignRoutes(ctx));
  await app.register(senderPoolRoutes(ctx));
  await app.register(campaignPlanRoutes(ctx));
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

/** Busboy's own errors (a multipart body it cannot read) are plain Errors with these messages. */
const MULTIPART_PROBLEM = /^(Multipart: |Unexpected end of (form|multipart data)|Malformed part header|.* terminated early due to unexpected end of multipart data)/;

function toAppError(error: FastifyError | AppError, request: FastifyRequest, uploadMaxBytes: number): AppError {
  if (error instanceof AppError) return error;
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': {
      // Name the limit of the route that refused it (its own bodyLimit, else the app's).
      const limit = request.routeOptions.bodyLimit ?? DEFAULT_BODY_LIMIT;
      const hint =
        request.method === 'POST' && request.routeOptions.url === '/v1/campaigns'
          ? 'send larger recipient lists as a file to POST /v1/campaigns/:id/recipients, which streams them'
          : 'send a smaller body';
      return errors.bodyTooLarge(limit, hint);
    }
    case 'FST_REQ_FILE_TOO_LARGE':
      return errors.uploadTooLarge(uploadMaxBytes);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return errors.unsupportedMediaType(request.headers['content-type'] ?? 'none');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return errors.malformedJson();
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
    case 'FST_MP_PREMATURE_CLOSE':
    case 'FST_PARTS_LIMIT':
    case 'FST_FILES_LIMIT':
    case 'FST_FIELDS_LIMIT':
    case 'FST_PROTO_VIOLATION':
    case 'FST_INVALID_JSON_FIELD_ERROR':
      return errors.malformedInput(`the multipart body is not one file with its fields (${error.message})`);
    default:
      if (!error.code && MULTIPART_PROBLEM.test(error.message)) return errors.malformedInput(`the multipart body is malformed (${error.message})`);
      if (error.validation) return errors.validation([error.message]);
      if (error.statusCode && error.statusCode < 500) return errors.badRequest(error.message);
      return errors.internal();
  }
}

/** What Node's HTTP parser refuses (oversized headers, bad framing, timeouts), in the engine's error format. */
function writeClientError(this: FastifyInstance, error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const appError =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? errors.requestTimeout()
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? errors.headersTooLarge()
        : errors.badRequest('it is not valid HTTP/1.1');
  this.log.debug({ code: error.code }, 'client error');
  if (socket.writable) {
    const body = JSON.stringify(appError.toJSON());
    socket.write(
      `HTTP/1.1 ${appError.statusCode} ${STATUS_TEXT[appError.statusCode] ?? 'Error'}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

