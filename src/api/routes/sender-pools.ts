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
import { errors } from '../../errors.js';
import type { AppContext } from '../app.js';
import { parseInput } from '../../validate.js';
import { EXAMPLE_ACCOUNT_ID, EXAMPLE_POOL_ID, EXAMPLE_PORTFOLIO_ID, EXAMPLE_TEMPLATE_ID } from '../openapi/examples.js';
import {
  poolAnswer,
  poolAnswerExample,
  poolList,
  poolListExample,
  portfolioAnswer,
  portfolioAnswerExample,
  portfolioList,
  portfolioListExample,
} from '../openapi/responses/pools.js';
import { doc, empty, json, jsonBody } from '../openapi/route-doc.js';

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

const poolNotFound = errors.poolNotFound(EXAMPLE_POOL_ID);
const portfolioNotFound = errors.portfolioNotFound(EXAMPLE_PORTFOLIO_ID);
const accountNotFound = errors.accountNotFound(EXAMPLE_ACCOUNT_ID);
/** What adding an account to a pool can refuse (src/pools/sender-pools.ts checkMember). */
const memberErrors = [accountNotFound, errors.templateNotFound(EXAMPLE_TEMPLATE_ID), errors.templateAccountMismatch('recordatorio_pago')];
const memberExample = { weight: 2, templateName: 'recordatorio_pago', templateLanguage: 'es' };

const docs = {
  createPool: doc({
    summary: 'Create a sender pool: accounts, across providers, that share a campaign\'s sending',
    body: jsonBody(createPoolBody, { name: 'Cobranza CL', sticky: true, members: [{ accountId: EXAMPLE_ACCOUNT_ID, ...memberExample }] }),
    responses: { 201: json(poolAnswer, poolAnswerExample, 'Created') },
    errors: [...memberErrors, errors.poolNameTaken('Cobranza CL')],
  }),
  listPools: doc({ summary: "The tenant's sender pools, oldest first", responses: { 200: json(poolList, poolListExample) } }),
  getPool: doc({ summary: 'One sender pool with its accounts', params: idParams, responses: { 200: json(poolAnswer, poolAnswerExample) }, errors: [poolNotFound] }),
  updatePool: doc({
    summary: 'Rename a sender pool or change whether a recipient keeps its account (sticky)',
    params: idParams,
    body: jsonBody(updatePoolBody, { sticky: false }),
    responses: { 200: json(poolAnswer, poolAnswerExample) },
    errors: [poolNotFound, errors.poolNameTaken('Cobranza CL')],
  }),
  deletePool: doc({ summary: 'Delete a sender pool no campaign uses', params: idParams, responses: { 204: empty('Deleted') }, errors: [poolNotFound, errors.poolInUse(EXAMPLE_POOL_ID)] }),
  putMember: doc({
    summary: "Add an account to a sender pool, or change its weight and template mapping",
    params: memberParams,
    body: { ...jsonBody(memberFields, memberExample), required: false },
    responses: { 200: json(poolAnswer, poolAnswerExample) },
    errors: [poolNotFound, ...memberErrors],
  }),
  removeMember: doc({
    summary: 'Take an account out of a sender pool',
    params: memberParams,
    responses: { 200: json(poolAnswer, { pool: { ...poolAnswerExample.pool, members: [] } }) },
    errors: [poolNotFound, accountNotFound],
  }),
  createPortfolio: doc({
    summary: 'Create a business portfolio: accounts sharing one messaging limit',
    body: jsonBody(portfolioBody, { name: 'Tienda SpA', messagingLimit: 10000 }),
    responses: { 201: json(portfolioAnswer, { portfolio: { ...portfolioAnswerExample.portfolio, accounts: [] } }, 'Created') },
    errors: [errors.portfolioNameTaken('Tienda SpA')],
  }),
  listPortfolios: doc({ summary: "The tenant's business portfolios, oldest first", responses: { 200: json(portfolioList, portfolioListExample) } }),
  getPortfolio: doc({ summary: 'One business portfolio with its accounts', params: idParams, responses: { 200: json(portfolioAnswer, portfolioAnswerExample) }, errors: [portfolioNotFound] }),
  updatePortfolio: doc({
    summary: "Rename a business portfolio or change its shared messaging limit",
    params: idParams,
    body: jsonBody(updatePortfolioBody, { messagingLimit: 100000 }),
    responses: { 200: json(portfolioAnswer, portfolioAnswerExample) },
    errors: [portfolioNotFound, errors.portfolioNameTaken('Tienda SpA')],
  }),
  deletePortfolio: doc({ summary: 'Delete a business portfolio (its accounts leave it)', params: idParams, responses: { 204: empty('Deleted') }, errors: [portfolioNotFound] }),
  addAccount: doc({
    summary: 'Put an account in a business portfolio (an account is in at most one)',
    params: memberParams,
    responses: { 200: json(portfolioAnswer, portfolioAnswerExample) },
    errors: [portfolioNotFound, accountNotFound],
  }),
  removeAccount: doc({
    summary: 'Take an account out of a business portfolio',
    params: memberParams,
    responses: { 200: json(portfolioAnswer, { portfolio: { ...portfolioAnswerExample.portfolio, accounts: [] } }) },
    errors: [portfolioNotFound, accountNotFound],
  }),
};

export function senderPoolRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    app.post('/v1/pools', docs.createPool, async (request, reply) => {
      const body = parseInput(createPoolBody, request.body);
      return reply.status(201).send({ pool: publicPool(await createPool(ctx.db, request.tenantId, body)) });
    });
    app.get('/v1/pools', docs.listPools, async (request) => ({ pools: (await listPools(ctx.db, request.tenantId)).map(publicPool) }));
    app.get('/v1/pools/:id', docs.getPool, async (request) => {
      const { id } = parseInput(idParams, request.params);
      return { pool: publicPool(await getPool(ctx.db, request.tenantId, id)) };
    });
    app.patch('/v1/pools/:id', docs.updatePool, async (request) => {
      const { id } = parseInput(idParams, request.params);
      return { pool: publicPool(await updatePool(ctx.db, request.tenantId, id, parseInput(updatePoolBody, request.body))) };
    });
    app.delete('/v1/pools/:id', docs.deletePool, async (request, reply) => {
      const { id } = parseInput(idParams, request.params);
      await deletePool(ctx.db, request.tenantId, id);
      return reply.status(204).send();
    });
    app.put('/v1/pools/:id/members/:accountId', docs.putMember, async (request) => {
      const { id, accountId } = parseInput(memberParams, request.params);
      return { pool: publicPool(await putMember(ctx.db, request.tenantId, id, accountId, parseInput(memberFields, request.body ?? {}))) };
    });
    app.delete('/v1/pools/:id/members/:accountId', docs.removeMember, async (request) => {
      const { id, accountId } = parseInput(memberParams, request.params);
      return { pool: publicPool(await removeMember(ctx.db, request.tenantId, id, accountId)) };
    });

    app.post('/v1/portfolios', docs.createPortfolio, async (request, reply) => {
      const body = parseInput(portfolioBody, request.body);
      return reply.status(201).send({ portfolio: publicPortfolio(await savePortfolio(ctx.db, request.tenantId, null, body)) });
    });
    app.get('/v1/portfolios', docs.listPortfolios, async (request) => ({ portfolios: (await listPortfolios(ctx.db, request.tenantId)).map(publicPortfolio) }));
    app.get('/v1/portfolios/:id', docs.getPortfolio, async (request) => {
      const { id } = parseInput(idParams, request.params);
      return { portfolio: publicPortfolio(await getPortfolio(ctx.db, request.tenantId, id)) };
    });
    app.patch('/v1/portfolios/:id', docs.updatePortfolio, async (request) => {
      const { id } = parseInput(idParams, request.params);
      return { portfolio: publicPortfolio(await savePortfolio(ctx.db, request.tenantId, id, parseInput(updatePortfolioBody, request.body))) };
    });
    app.delete('/v1/portfolios/:id', docs.deletePortfolio, async (request, reply) => {
      const { id } = parseInput(idParams, request.params);
      await deletePortfolio(ctx.db, request.tenantId, id);
      return reply.status(204).send();
    });
    app.put('/v1/portfolios/:id/accounts/:accountId', docs.addAccount, async (request) => {
      const { id, accountId } = parseInput(memberParams, request.params);
      return { portfolio: publicPortfolio(await setAccountPortfolio(ctx.db, request.tenantId, id, accountId, true)) };
    });
    app.delete('/v1/portfolios/:id/accounts/:accountId', docs.removeAccount, async (request) => {
      const { id, accountId } = parseInput(memberParams, request.params);
      return { portfolio: publicPortfolio(await setAccountPortfolio(ctx.db, request.tenantId, id, accountId, false)) };
    });
  };
}
