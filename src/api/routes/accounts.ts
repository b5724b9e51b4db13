/**
 * Provider accounts. Config and credentials are validated by the provider's adapter schemas;
 * credentials are write-only: responses show which credential fields are set, never values.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { resumeAccount } from '../../accounts/account-actions.js';
import { AccountStates } from '../../accounts/account-state.js';
import type { ProviderAccount } from '../../db/database.js';
import { errors } from '../../errors.js';
import { checkAccountSettings } from '../../providers/account-settings.js';
import { adapterFor, providerLabel } from '../../providers/registry.js';
import { PROVIDERS, type ProviderName } from '../../providers/types.js';
import { accountCredentials, assertProviderEnabled, sealedCredentials, securitySettings } from '../../security/security-settings.js';
import { outboundHostProblem } from '../../security/outbound-guard.js';
import { hasWebhooks } from '../../webhooks/parse-webhook.js';
import { newWebhookSecret, webhookPath } from '../../webhooks/webhook-secrets.js';
import type { AppContext } from '../app.js';
import { parseInput } from '../../validate.js';
import { messagePricesSchema, readMessagePrices } from '../../campaigns/message-prices.js';
import { Prisma } from '../../generated/prisma/client.js';
import { doc, json, jsonBody } from '../openapi/route-doc.js';
import { EXAMPLE_ACCOUNT_ID } from '../openapi/examples.js';
import { account, accountExample, accountList, accountQueue, accountQueueExample, accountWithWebhook, accountWithWebhookExample } from '../openapi/responses/accounts.js';

const createBody = z.object({
  provider: z.enum(PROVIDERS),
  name: z.string().min(1).max(200),
  config: z.record(z.string(), z.unknown()).default({}),
  credentials: z.record(z.string(), z.unknown()).default({}),
  /** Messages per second across every worker; Meta's default is 80. */
  ratePerSecond: z.number().int().min(1).max(1000).default(80),
  /** Unique recipients per rolling 24 h (Meta messaging-limit tier); null or absent: unlimited. */
  messagingLimit: z.number().int().min(1).nullable().default(null),
  /** Least seconds between two messages to one phone (Meta pair rate); 0 turns it off. */
  pairGapSeconds: z.number().int().min(0).max(86_400).default(6),
  /** Price per message by category and country, for the launch planner's cost estimate; null: none. */
  messagePrices: messagePricesSchema.nullable().default(null),
});
// No defaults here: a field left out of a PATCH keeps its stored value.
const updateBody = z
  .object({
    name: z.string().min(1).max(200),
    config: z.record(z.string(), z.unknown()),
    credentials: z.record(z.string(), z.unknown()),
    ratePerSecond: z.number().int().min(1).max(1000),
    messagingLimit: z.number().int().min(1).nullable(),
    pairGapSeconds: z.number().int().min(0).max(86_400),
    messagePrices: messagePricesSchema.nullable(),
  })
  .partial();
const idParams = z.object({ id: z.string().uuid() });

export function publicAccount(a: ProviderAccount) {
  return {
    id: a.id,
    provider: a.provider,
    name: a.name,
    config: a.config,
    credentialsSet: credentialFields(a),
    ratePerSecond: a.ratePerSecond,
    status: a.status,
    statusCode: a.statusCode,
    statusReason: a.statusReason,
    statusAt: a.statusAt,
    messagingLimit: a.messagingLimit,
    portfolioId: a.portfolioId,
    pairGapSeconds: a.pairGapSeconds,
    nextProbeAt: a.nextProbeAt,
    // What the provider's account-level webhooks last said (the quality guard, src/accounts/account-quality.ts).
    quality: {
      rating: a.qualityRating,
      flagged: a.qualityFlagged,
      tier: a.messagingTier,
      restriction: a.restrictionCode ? { code: a.restrictionCode, until: a.restrictionUntil } : null,
      updatedAt: a.qualityUpdatedAt,
    },
    messagePrices: readMessagePrices(a.messagePrices),
    webhookConfigured: a.webhookSecretHash !== null,
    createdAt: a.createdAt,
    updatedAt: a.updatedAt,
  };
}

/** The names of the credential fields set (never values); none when the stored value cannot be decrypted. */
function credentialFields(a: ProviderAccount): string[] {
  try {
    return Object.keys(accountCredentials(a)).sort();
  } catch {
    return [];
  }
}

/** Refuses config URLs the engine would not call (plain http, private or reserved hosts) with a clear 422, before anything is stored. */
async function checkProviderUrls(provider: ProviderName, config: object): Promise<void> {
  for (const [field, value] of Object.entries(config)) {
    if (!/url$/i.test(field) || typeof value !== 'string') continue;
    const problem = await outboundHostProblem(value, securitySettings().outbound);
    if (problem) throw errors.providerUrlRefused(provider, `config.${field}`, problem);
  }
}

/** The account's webhook URL, shown once: only its hash is stored. */
function webhookInfo(publicUrl: string | null, account: ProviderAccount, secret: string) {
  const path = webhookPath(account.id, secret);
  return {
    url: `${publicUrl ?? ''}${path}`,
    supported: hasWebhooks(account.provider),
    note: hasWebhooks(account.provider)
      ? 'Configure this URL in the provider as the status and inbound-message webhook. It is shown only now; rotate it with POST /v1/accounts/:id/webhook-secret.'
      : `${providerLabel(account.provider)} sends no webhooks the engine reads; keep the URL in case it does later.`,
  };
}

/** The stored credentials to merge a PATCH into; when they cannot be decrypted, a PATCH must bring all of them. */
function credentialsOrRefuse(account: ProviderAccount, replacing: boolean): Record<string, unknown> {
  try {
    return accountCredentials(account);
  } catch {
    if (replacing) return {};
    throw errors.credentialsUnreadable(account.id);
  }
}

/** The settings as the provider's adapter reads them (src/providers/account-settings.ts), or a 400 naming each problem. */
function validateSettings(provider: ProviderName, config: unknown, credentials: unknown): { config: object; credentials: Record<string, unknown> } {
  const checked = checkAccountSettings(provider, '', config, credentials);
  if (!checked.ok) throw errors.invalidAccountConfig(provider, checked.problems);
  return { config: checked.settings.config as object, credentials: checked.settings.credentials as Record<string, unknown> };
}

const notFound = errors.accountNotFound(EXAMPLE_ACCOUNT_ID);
const settingsRefused = [
  errors.invalidAccountConfig('meta', ['config.phoneNumberId: Required']),
  errors.providerUrlRefused('optiwe', 'config.baseUrl', 'is plain http'),
  errors.sandboxProviderDisabled(),
];

export function accountRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    const createDoc = doc({
      summary: 'Create a provider account',
      description: 'Config and credentials are checked by the provider adapter; credentials are write-only. The answer carries the webhook URL, once.',
      body: jsonBody(createBody, { provider: 'meta', name: 'Tienda CL', ratePerSecond: 80, config: { phoneNumberId: '1234567890', wabaId: '987654321' }, credentials: { accessToken: 'EAAG...', appSecret: 'app-secret' } }),
      responses: { 201: json(accountWithWebhook, accountWithWebhookExample, 'Created') },
      errors: settingsRefused,
    });
    app.post('/v1/accounts', createDoc, async (request, reply) => {
      const body = parseInput(createBody, request.body);
      assertProviderEnabled(adapterFor(body.provider));
      const settings = validateSettings(body.provider, body.config, body.credentials);
      await checkProviderUrls(body.provider, settings.config);
      const webhook = newWebhookSecret();
      // The id is chosen here: it is bound into the sealed credentials.
      const id = randomUUID();
      const account = await ctx.db.prisma.providerAccount.create({
        data: {
          id,
          tenantId: request.tenantId,
          provider: body.provider,
          name: body.name,
          ratePerSecond: body.ratePerSecond,
          messagingLimit: body.messagingLimit,
          pairGapSeconds: body.pairGapSeconds,
          ...(body.messagePrices === null ? {} : { messagePrices: body.messagePrices }),
          webhookSecretHash: webhook.hash,
          config: settings.config,
          ...sealedCredentials(id, settings.credentials),
        },
      });
      return reply.status(201).send({ ...publicAccount(account), webhook: webhookInfo(ctx.config.publicUrl, account, webhook.secret) });
    });

    app.get('/v1/accounts', doc({ summary: "The tenant's provider accounts", responses: { 200: json(accountList, { accounts: [accountExample] }) } }), async (request) => {
      const accounts = await ctx.db.prisma.providerAccount.findMany({ where: { tenantId: request.tenantId }, orderBy: { createdAt: 'asc' } });
      return { accounts: accounts.map(publicAccount) };
    });

    app.get('/v1/accounts/:id', doc({ summary: 'One provider account', params: idParams, responses: { 200: json(account, accountExample) }, errors: [notFound] }), async (request) => {
      const { id } = parseInput(idParams, request.params);
      const account = await ctx.db.prisma.providerAccount.findFirst({ where: { id, tenantId: request.tenantId } });
      if (!account) throw errors.accountNotFound(id);
      return publicAccount(account);
    });

    const updateDoc = doc({
      summary: 'Change a provider account',
      description: 'Fields left out keep their value; credentials sent replace the stored fields one by one.',
      params: idParams,
      body: jsonBody(updateBody, { messagingLimit: 2000, pairGapSeconds: 6, credentials: { appSecret: 'app-secret' } }),
      responses: { 200: json(account, accountExample) },
      errors: [notFound, errors.credentialsUnreadable(EXAMPLE_ACCOUNT_ID), ...settingsRefused],
    });
    app.patch('/v1/accounts/:id', updateDoc, async (request) => {
      const { id } = parseInput(idParams, request.params);
      const body = parseInput(updateBody, request.body);
      const account = await ctx.db.prisma.providerAccount.findFirst({ where: { id, tenantId: request.tenantId } });
      if (!account) throw errors.accountNotFound(id);
      // Credentials not sent are kept; sent ones replace the stored fields one by one.
      const settings = validateSettings(account.provider, body.config ?? account.config, { ...credentialsOrRefuse(account, body.credentials !== undefined), ...(body.credentials ?? {}) });
      await checkProviderUrls(account.provider, settings.config);
      const updated = await ctx.db.prisma.providerAccount.update({
        where: { id },
        data: {
          ...(body.name ? { name: body.name } : {}),
          ...(body.ratePerSecond ? { ratePerSecond: body.ratePerSecond } : {}),
          ...(body.messagingLimit === undefined ? {} : { messagingLimit: body.messagingLimit }),
          ...(body.pairGapSeconds === undefined ? {} : { pairGapSeconds: body.pairGapSeconds }),
          ...(body.messagePrices === undefined ? {} : { messagePrices: body.messagePrices ?? Prisma.DbNull }),
          config: settings.config,
          ...sealedCredentials(id, settings.credentials),
        },
      });
      // Sends made with the old settings or credentials must not stop the account once they answer.
      if (body.config !== undefined || body.credentials !== undefined) await new AccountStates(ctx.queues.connection, ctx.queues.prefix).bumpGeneration(id);
      return publicAccount(updated);
    });

    /** The account's send queue as Redis holds it: jobs by state, and whether it is paused. */
    app.get('/v1/accounts/:id/queue', doc({ summary: "The account's send queue: jobs by state, paused or not", params: idParams, responses: { 200: json(accountQueue, accountQueueExample) }, errors: [notFound] }), async (request) => {
      const { id } = parseInput(idParams, request.params);
      const account = await ctx.db.prisma.providerAccount.findFirst({ where: { id, tenantId: request.tenantId } });
      if (!account) throw errors.accountNotFound(id);
      const queue = ctx.queues.forAccount(id);
      const [counts, paused] = await Promise.all([
        queue.getJobCounts('wait', 'prioritized', 'active', 'delayed', 'failed'),
        queue.isPaused(),
      ]);
      return { accountId: id, status: account.status, statusCode: account.statusCode, statusReason: account.statusReason, paused, jobs: counts };
    });

    /** A new webhook URL; the old one stops working at once (within a few seconds on other API processes). */
    const rotateDoc = doc({ summary: 'A new webhook URL for the account (the old one stops)', params: idParams, responses: { 200: json(accountWithWebhook, accountWithWebhookExample) }, errors: [notFound] });
    app.post('/v1/accounts/:id/webhook-secret', rotateDoc, async (request) => {
      const { id } = parseInput(idParams, request.params);
      const account = await ctx.db.prisma.providerAccount.findFirst({ where: { id, tenantId: request.tenantId } });
      if (!account) throw errors.accountNotFound(id);
      const webhook = newWebhookSecret();
      const updated = await ctx.db.prisma.providerAccount.update({ where: { id }, data: { webhookSecretHash: webhook.hash } });
      return { ...publicAccount(updated), webhook: webhookInfo(ctx.config.publicUrl, updated, webhook.secret) };
    });

    /** The operator says the limit cleared or the credentials are fixed: send again. */
    const resumeDoc = doc({ summary: 'Send again on an account the engine stopped (limit cleared, credentials fixed)', params: idParams, responses: { 200: json(account, accountExample) }, errors: [notFound] });
    app.post('/v1/accounts/:id/resume', resumeDoc, async (request) => {
      const { id } = parseInput(idParams, request.params);
      await resumeAccount(ctx.db, ctx.queues, request.tenantId, id);
      const account = await ctx.db.prisma.providerAccount.findFirstOrThrow({ where: { id, tenantId: request.tenantId } });
      return publicAccount(account);
    });
  };
}
