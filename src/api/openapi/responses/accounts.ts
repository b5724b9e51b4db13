/** What the account routes answer (src/api/routes/accounts.ts, console-campaigns.ts). */
import { z } from 'zod';
import { AccountStatus } from '../../../generated/prisma/enums.js';
import { messagePricesSchema } from '../../../campaigns/message-prices.js';
import { PROVIDERS } from '../../../providers/types.js';
import { dateTime, EXAMPLE_ACCOUNT_ID, EXAMPLE_TIME, uuid } from '../examples.js';

export const account = z.object({
  id: uuid,
  provider: z.enum(PROVIDERS),
  name: z.string(),
  config: z.record(z.string(), z.unknown()).describe('Non-secret settings, as the provider adapter read them.'),
  credentialsSet: z.array(z.string()).describe('Names of the credential fields that are set; values are never returned.'),
  ratePerSecond: z.number().int(),
  status: z.enum(Object.values(AccountStatus)),
  statusCode: z.string().nullable(),
  statusReason: z.string().nullable(),
  statusAt: dateTime.nullable(),
  messagingLimit: z.number().int().nullable(),
  portfolioId: uuid.nullable().describe('The business portfolio whose messaging limit this account shares; null: none.'),
  pairGapSeconds: z.number().int(),
  nextProbeAt: dateTime.nullable(),
  quality: z
    .object({
      rating: z.string().nullable().describe("The provider's quality rating of the number (GREEN, YELLOW, RED); null: not reported."),
      flagged: z.boolean().describe('The provider flagged the number for low quality.'),
      tier: z.string().nullable().describe("The provider's messaging tier (Meta TIER_1K ...)."),
      restriction: z.object({ code: z.string(), until: dateTime.nullable() }).nullable().describe('A provider restriction on sending; null: none.'),
      updatedAt: dateTime.nullable(),
    })
    .describe("What the provider's account-level webhooks last said (the quality guard)."),
  messagePrices: messagePricesSchema.nullable().describe("Price per message by category and country, for the launch planner's cost estimate; null: none."),
  webhookConfigured: z.boolean(),
  createdAt: dateTime,
  updatedAt: dateTime,
});

export const accountExample: z.output<typeof account> = {
  id: EXAMPLE_ACCOUNT_ID,
  provider: 'meta',
  name: 'Tienda CL',
  config: { phoneNumberId: '1234567890', wabaId: '987654321' },
  credentialsSet: ['accessToken', 'appSecret'],
  ratePerSecond: 80,
  status: 'active',
  statusCode: null,
  statusReason: null,
  statusAt: null,
  messagingLimit: 2000,
  portfolioId: null,
  pairGapSeconds: 6,
  nextProbeAt: null,
  quality: { rating: 'GREEN', flagged: false, tier: 'TIER_2K', restriction: null, updatedAt: EXAMPLE_TIME },
  messagePrices: { MARKETING: { CL: 0.0889, '*': 0.0625 }, UTILITY: { '*': 0.02 } },
  webhookConfigured: true,
  createdAt: EXAMPLE_TIME,
  updatedAt: EXAMPLE_TIME,
};

const webhook = z.object({
  url: z.string().describe('Shown only in this answer; only its hash is stored.'),
  supported: z.boolean(),
  note: z.string(),
});

export const accountWithWebhook = account.extend({ webhook });
export const accountWithWebhookExample: z.output<typeof accountWithWebhook> = {
  ...accountExample,
  webhook: {
    url: `https://wce.example.com/webhooks/${EXAMPLE_ACCOUNT_ID}/whs_4kq9...`,
    supported: true,
    note: 'Configure this URL in the provider as the status and inbound-message webhook. It is shown only now; rotate it with POST /v1/accounts/:id/webhook-secret.',
  },
};

export const accountList = z.object({ accounts: z.array(account) });

export const accountQueue = z.object({
  accountId: uuid,
  status: z.enum(Object.values(AccountStatus)),
  statusCode: z.string().nullable(),
  statusReason: z.string().nullable(),
  paused: z.boolean(),
  jobs: z.object({ wait: z.number().int(), prioritized: z.number().int(), active: z.number().int(), delayed: z.number().int(), failed: z.number().int() }),
});
export const accountQueueExample: z.output<typeof accountQueue> = {
  accountId: EXAMPLE_ACCOUNT_ID,
  status: 'active',
  statusCode: null,
  statusReason: null,
  paused: false,
  jobs: { wait: 120, prioritized: 0, active: 8, delayed: 3, failed: 0 },
};

const flowState = z
  .object({
    kind: z.enum(['sending', 'slowed', 'circuit_open', 'messaging_limit', 'quiet_hours', 'scheduled', 'paused', 'account_limited', 'account_paused', 'idle']),
  })
  .loose()
  .describe('The account in one word (`kind`), with what that word needs: rate, until, code and reason.');

export const accountState = z.object({
  accountId: uuid,
  state: flowState,
  breaker: z
    .object({ state: z.enum(['closed', 'open', 'half_open']), failures: z.number().int() })
    .loose()
    .describe('The circuit breaker: its state and the counts of its window (times in epoch ms).'),
  messagingLimit: z.object({ limit: z.number().int(), used: z.number().int(), remaining: z.number().int(), nextFreeAt: dateTime.nullable() }).nullable(),
  lastWebhookAt: dateTime.nullable(),
  balance: z.object({ value: z.number().nullable(), warning: z.string().nullable() }).nullable(),
});
export const accountStateExample: z.output<typeof accountState> = {
  accountId: EXAMPLE_ACCOUNT_ID,
  state: { kind: 'sending', rate: 78.4, configuredRate: 80 },
  breaker: { state: 'closed', failures: 0, calls: 412 },
  messagingLimit: { limit: 2000, used: 640, remaining: 1360, nextFreeAt: null },
  lastWebhookAt: EXAMPLE_TIME,
  balance: null,
};
