/** What the smaller resources answer: API keys, templates, settings, health, event endpoints. */
import { z } from 'zod';
import { TemplateCategory, TemplateStatus } from '../../../generated/prisma/enums.js';
import { API_KEY_SCOPES } from '../../../tenants/api-keys.js';
import { TEMPLATE_HEADER_TYPES } from '../../../providers/types.js';
import { EVENT_TYPES } from '../../../events/catalog.js';
import { dateTime, EXAMPLE_ACCOUNT_ID, EXAMPLE_API_KEY_ID, EXAMPLE_ENDPOINT_ID, EXAMPLE_LATER, EXAMPLE_TEMPLATE_ID, EXAMPLE_TIME, uuid } from '../examples.js';

export const apiKey = z.object({
  id: uuid,
  name: z.string(),
  prefix: z.string().describe('The first characters of the key, to tell keys apart.'),
  scope: z.enum(API_KEY_SCOPES),
  state: z.enum(['active', 'expired', 'revoked']),
  createdAt: dateTime,
  lastUsedAt: dateTime.nullable(),
  expiresAt: dateTime.nullable(),
  revokedAt: dateTime.nullable(),
});
export const apiKeyExample: z.output<typeof apiKey> = {
  id: EXAMPLE_API_KEY_ID,
  name: 'nightly batch',
  prefix: 'wce_7Hq2',
  scope: 'full',
  state: 'active',
  createdAt: EXAMPLE_TIME,
  lastUsedAt: EXAMPLE_LATER,
  expiresAt: null,
  revokedAt: null,
};
export const apiKeyList = z.object({ apiKeys: z.array(apiKey) });
export const createdApiKey = apiKey.extend({ key: z.string().describe('The key itself, shown only in this answer.') });
export const createdApiKeyExample: z.output<typeof createdApiKey> = { ...apiKeyExample, key: 'wce_7Hq2xV9mR4tK8pL1nB6cJ3wZ5yF0dS2a' };
export const rotatedApiKey = createdApiKey.extend({ replaced: apiKey });
export const rotatedApiKeyExample: z.output<typeof rotatedApiKey> = {
  ...createdApiKeyExample,
  id: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
  replaced: { ...apiKeyExample, expiresAt: EXAMPLE_LATER },
};

export const template = z.object({
  id: uuid,
  accountId: uuid,
  name: z.string(),
  externalId: z.string().nullable(),
  language: z.string(),
  category: z.enum(Object.values(TemplateCategory)),
  body: z.string(),
  paramCount: z.number().int(),
  paramNames: z.array(z.string()),
  headerType: z.enum(TEMPLATE_HEADER_TYPES),
  buttons: z.unknown().describe('The buttons in their approved order, as stored.'),
  status: z.enum(Object.values(TemplateStatus)),
  createdAt: dateTime,
  updatedAt: dateTime,
});
export const templateExample: z.output<typeof template> = {
  id: EXAMPLE_TEMPLATE_ID,
  accountId: EXAMPLE_ACCOUNT_ID,
  name: 'recordatorio_pago',
  externalId: null,
  language: 'es',
  category: 'UTILITY',
  body: 'Hola {{1}}, te recordamos tu saldo pendiente de {{2}}.',
  paramCount: 2,
  paramNames: [],
  headerType: 'none',
  buttons: [],
  status: 'approved',
  createdAt: EXAMPLE_TIME,
  updatedAt: EXAMPLE_TIME,
};
export const templateList = z.object({ templates: z.array(template) });

export const syncResult = z.object({
  accountId: uuid,
  provider: z.string(),
  created: z.number().int(),
  updated: z.number().int(),
  unchanged: z.number().int(),
  disabled: z.number().int(),
  skipped: z.array(z.object({ name: z.string(), problem: z.string() })),
});
export const syncResultExample: z.output<typeof syncResult> = {
  accountId: EXAMPLE_ACCOUNT_ID,
  provider: 'meta',
  created: 3,
  updated: 1,
  unchanged: 12,
  disabled: 0,
  skipped: [{ name: 'promo_video', problem: 'its header is a video, which the engine does not send' }],
};

export const stopWords = z.object({ stopWords: z.array(z.string()), usingDefaults: z.boolean(), defaults: z.array(z.string()) });
export const stopWordsExample: z.output<typeof stopWords> = { stopWords: ['BAJA', 'no más'], usingDefaults: false, defaults: ['baja', 'stop', 'parar'] };

export const health = z.object({ status: z.enum(['ok', 'degraded']), postgres: z.enum(['ok', 'down']), redis: z.enum(['ok', 'down']) });

export const eventEndpoint = z.object({
  id: uuid,
  url: z.string(),
  description: z.string().nullable(),
  events: z.array(z.enum(EVENT_TYPES)),
  format: z.enum(['json', 'slack']),
  enabled: z.boolean(),
  createdAt: dateTime,
  updatedAt: dateTime,
});
export const eventEndpointExample: z.output<typeof eventEndpoint> = {
  id: EXAMPLE_ENDPOINT_ID,
  url: 'https://hooks.example.com/wce',
  description: 'ERP integration',
  events: ['campaign.completed', 'campaign.paused'],
  format: 'json',
  enabled: true,
  createdAt: EXAMPLE_TIME,
  updatedAt: EXAMPLE_TIME,
};
export const secret = z.object({ secret: z.string().describe('The signing secret, shown only in this answer.') });
export const createdEndpoint = z.object({ endpoint: eventEndpoint, secret: secret.shape.secret });
export const SECRET_EXAMPLE = 'whsec_3q8Zk1vN5bR7tY2mW9xC4pL6';
export const endpointList = z.object({ endpoints: z.array(eventEndpoint) });
export const eventTypes = z.object({ types: z.array(z.object({ type: z.enum(EVENT_TYPES), description: z.string() })) });

export const deliveries = z.object({
  deliveries: z.array(
    z.object({
      id: z.string(),
      eventId: z.string(),
      type: z.string(),
      status: z.string(),
      attempts: z.number().int(),
      lastStatusCode: z.number().int().nullable(),
      lastError: z.string().nullable(),
      nextAttemptAt: dateTime.nullable(),
      deliveredAt: dateTime.nullable(),
      createdAt: dateTime,
      data: z.unknown(),
      tries: z.array(z.object({ at: z.string(), statusCode: z.number().int().nullable(), error: z.string().nullable(), durationMs: z.number() })),
    }),
  ),
  next: z.string().nullable().describe('Pass as `before` for the next page; null on the last page.'),
});
export const deliveriesExample: z.output<typeof deliveries> = {
  deliveries: [
    {
      id: '812',
      eventId: '5511',
      type: 'campaign.completed',
      status: 'delivered',
      attempts: 2,
      lastStatusCode: 200,
      lastError: null,
      nextAttemptAt: null,
      deliveredAt: EXAMPLE_LATER,
      createdAt: EXAMPLE_TIME,
      data: { campaignId: 'c2d3e4f5-a6b7-4c8d-9e0f-1a2b3c4d5e6f', status: 'completed' },
      tries: [
        { at: EXAMPLE_TIME, statusCode: 503, error: 'the endpoint answered 503', durationMs: 120 },
        { at: EXAMPLE_LATER, statusCode: 200, error: null, durationMs: 85 },
      ],
    },
  ],
  next: null,
};
