/**
 * A per-URL limit on webhook receivers, counted in Redis: past it a provider gets 429
 * WEBHOOK_RATE_LIMITED with Retry-After (providers retry), and another account's URL is untouched.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MULTICHAT_FAILED } from './payloads.js';
import { createWebhookAccount, postWebhook, startWebhookWorld, type WebhookWorld } from './support/webhook-world.js';

let world: WebhookWorld;

beforeAll(async () => {
  world = await startWebhookWorld({ webhookRateLimit: 3, webhookRateWindowSeconds: 60 });
});

afterAll(async () => {
  await world?.close();
});

it('refuses a webhook URL past its limit with 429 and Retry-After, and leaves other URLs alone', async () => {
  const flooded = await createWebhookAccount(world, 'multichat');
  const other = await createWebhookAccount(world, 'multichat');
  const statuses: number[] = [];
  for (let i = 0; i < 3; i += 1) statuses.push((await postWebhook(world, flooded.path, MULTICHAT_FAILED)).statusCode);
  expect(statuses).toEqual([200, 200, 200]);

  const refused = await postWebhook(world, flooded.path, MULTICHAT_FAILED);
  expect(refused.statusCode).toBe(429);
  expect(refused.json()).toMatchObject({ error: { code: 'WEBHOOK_RATE_LIMITED' } });
  expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);

  expect((await postWebhook(world, other.path, MULTICHAT_FAILED)).statusCode).toBe(200);
  // An unknown URL is still a 404, not a 429: the limit is per known URL, after its secret is checked.
  expect((await postWebhook(world, `${flooded.path}x`, MULTICHAT_FAILED)).statusCode).toBe(404);
});
