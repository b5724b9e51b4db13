/**
 * Sender pools (a campaign sent through several accounts, across providers) and business
 * portfolios (accounts sharing one messaging limit). The rules live in src/pools/sender-pools.ts.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import {
  createPool,
  deletePool,
  deletePortfolio,
  getPool,
  getPortfolio,
  listPools,
  listPortfolios,
  publicPool,
  publicPortfolio,
  putMember,
  removeMember,
  savePortfolio,
  setAccountPortfolio,
  updatePool,
} from '../../pools/sender-pools.js';
import type { AppContext } from '../app.js';
import { parseInput } from '../../validate.js';

const memberFields = z.object({
  /** Relative share among the pool's accounts (0 takes the account out of the split). */
  weight: z.number().int().min(0).max(1000).optional(),
  /** This account's template for the pool's campaigns; or templateName (+ templateLanguage); else matched by the campaign template's name and language. */
  templateId: z.string().uuid().nullable().optional(),
  templateName: z.string().min(1).max(512).nullable().optional(),
  templateLanguage: z.string().min(2).max(15).nullable().optional(),
});
const createPoolBody = z.object({
  name: z.string().min(1).max(200),
  sticky: z.boolean().default(false),
  members: z.array(memberFields.extend({ accountId: z.string().uuid() })).max(100).default([]),
});
const updatePoolBody = z.object({ name: z.string().min(1).max(200), sticky: z.boolean() }).partial();
const portfolioBody = z.object({
  name: z.string().min(1).max(200),
  /** Unique recipients per rolling 24 h across the portfolio's accounts; null: unlimited. */
  messagingLimit: z.number().int().min(1).nullable().default(null),
});
const updatePortfolioBody = z.object({ name: z.string().min(1).max(200), messagingLimit: z.number().int().min(1).nullable() }).partial();
const idParams = z.object({ id: z.string().uuid() });
const memberParams = z.object({ id: z.string().uuid(), accountId: z.string().uuid() });

export function senderPoolRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    app.post('/v1/pools', async (request, reply) => {
      const body = parseInput(createPoolBody, request.body);
      return reply.status(201).send({ pool: publicPool(await createPool(ctx.db, request.tenantId, body)) });
    });
    app.get('/v1/pools', async (request) => ({ pools: (await listPools(ctx.db, request.tenantId)).map(publicPool) }));
    app.get('/v1/pools/:id', async (request) => {
      const { id } = parseInput(idParams, request.params);
      return { pool: publicPool(await getPool(ctx.db, request.tenantId, id)) };
    });
    app.patch('/v1/pools/:id', async (request) => {
      const { id } = parseInput(idParams, request.params);
      return { pool: publicPool(await updatePool(ctx.db, request.tenantId, id, parseInput(updatePoolBody, request.body))) };
    });
    app.delete('/v1/pools/:id', async (request, reply) => {
      const { id } = parseInput(idParams, request.params);
      await deletePool(ctx.db, request.tenantId, id);
      return reply.status(204).send();
    });
    app.put('/v1/pools/:id/members/:accountId', async (request) => {
      const { id, accountId } = parseInput(memberParams, request.params);
      return { pool: publicPool(await putMember(ctx.db, request.tenantId, id, accountId, parseInput(memberFields, request.body ?? {}))) };
    });
    app.delete('/v1/pools/:id/members/:accountId', async (request) => {
      const { id, accountId } = parseInput(memberParams, request.params);
      return { pool: publicPool(await removeMember(ctx.db, request.tenantId, id, accountId)) };
    });

    app.post('/v1/portfolios', async (request, reply) => {
      const body = parseInput(portfolioBody, request.body);
      return reply.status(201).send({ portfolio: publicPortfolio(await savePortfolio(ctx.db, request.tenantId, null, body)) });
    });
    app.get('/v1/portfolios', async (request) => ({ portfolios: (await listPortfolios(ctx.db, request.tenantId)).map(publicPortfolio) }));
    app.get('/v1/portfolios/:id', async (request) => {
      const { id } = parseInput(idParams, request.params);
      return { portfolio: publicPortfolio(await getPortfolio(ctx.db, request.tenantId, id)) };
    });
    app.patch('/v1/portfolios/:id', async (request) => {
      const { id } = parseInput(idParams, request.params);
      return { portfolio: publicPortfolio(await savePortfolio(ctx.db, request.tenantId, id, parseInput(updatePortfolioBody, request.body))) };
    });
    app.delete('/v1/portfolios/:id', async (request, reply) => {
      const { id } = parseInput(idParams, request.params);
      await deletePortfolio(ctx.db, request.tenantId, id);
      return reply.status(204).send();
    });
    app.put('/v1/portfolios/:id/accounts/:accountId', async (request) => {
      const { id, accountId } = parseInput(memberParams, request.params);
      return { portfolio: publicPortfolio(await setAccountPortfolio(ctx.db, request.tenantId, id, accountId, true)) };
    });
    app.delete('/v1/portfolios/:id/accounts/:accountId', async (request) => {
      const { id, accountId } = parseInput(memberParams, request.params);
      return { portfolio: publicPortfolio(await setAccountPortfolio(ctx.db, request.tenantId, id, accountId, false)) };
    });
  };
}
