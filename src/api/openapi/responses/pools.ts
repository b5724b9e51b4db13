/** What the sender pool and business portfolio routes answer (src/api/routes/sender-pools.ts). */
import { z } from 'zod';
import { AccountStatus } from '../../../generated/prisma/enums.js';
import { PROVIDERS } from '../../../providers/types.js';
import { dateTime, EXAMPLE_ACCOUNT_ID, EXAMPLE_POOL_ID, EXAMPLE_PORTFOLIO_ID, EXAMPLE_TIME, uuid } from '../examples.js';

const poolMember = z.object({
  accountId: uuid,
  name: z.string(),
  provider: z.enum(PROVIDERS),
  status: z.enum(Object.values(AccountStatus)),
  statusCode: z.string().nullable(),
  ratePerSecond: z.number().int(),
  weight: z.number().int().describe('Relative share among the pool\'s accounts; 0 takes the account out of the split.'),
  templateId: uuid.nullable(),
  templateName: z.string().nullable(),
  templateLanguage: z.string().nullable(),
});
export const pool = z.object({ id: uuid, name: z.string(), sticky: z.boolean(), createdAt: dateTime, members: z.array(poolMember) });
/** A sending account as pools and campaigns' per-account shares show it. */
export const sendingAccountExample = { accountId: EXAMPLE_ACCOUNT_ID, name: 'Tienda CL', provider: 'meta', status: 'active', statusCode: null, ratePerSecond: 80 } as const;
export const poolExample: z.output<typeof pool> = {
  id: EXAMPLE_POOL_ID,
  name: 'Cobranza CL',
  sticky: true,
  createdAt: EXAMPLE_TIME,
  members: [{ ...sendingAccountExample, weight: 2, templateId: null, templateName: null, templateLanguage: null }],
};
export const poolAnswer = z.object({ pool });
export const poolAnswerExample: z.output<typeof poolAnswer> = { pool: poolExample };
export const poolList = z.object({ pools: z.array(pool) });
export const poolListExample: z.output<typeof poolList> = { pools: [poolExample] };

export const portfolio = z.object({
  id: uuid,
  name: z.string(),
  messagingLimit: z.number().int().nullable().describe('Unique recipients per rolling 24 h across its accounts; null: unlimited.'),
  createdAt: dateTime,
  accounts: z.array(z.object({ id: uuid, name: z.string(), provider: z.enum(PROVIDERS) })),
});
export const portfolioExample: z.output<typeof portfolio> = {
  id: EXAMPLE_PORTFOLIO_ID,
  name: 'Tienda SpA',
  messagingLimit: 10000,
  createdAt: EXAMPLE_TIME,
  accounts: [{ id: EXAMPLE_ACCOUNT_ID, name: 'Tienda CL', provider: 'meta' }],
};
export const portfolioAnswer = z.object({ portfolio });
export const portfolioAnswerExample: z.output<typeof portfolioAnswer> = { portfolio: portfolioExample };
export const portfolioList = z.object({ portfolios: z.array(portfolio) });
export const portfolioListExample: z.output<typeof portfolioList> = { portfolios: [portfolioExample] };
