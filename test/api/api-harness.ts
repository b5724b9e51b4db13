/**
 * The API under test, as a user meets it: the real app (buildApp) on this file's own database
 * and queue prefix, a tenant with an API key, and a small client that speaks through
 * app.inject() (no socket). Helpers create accounts, templates and campaigns through the API
 * itself, so every test exercises the same routes a user calls.
 */
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, expect } from 'vitest';
import type { Config } from '../../src/config.js';
import type { ApiClient } from '../support/api-client.js';
import { startEngine, type Engine } from '../support/engine-harness.js';
import type { TestContext } from '../support/test-context.js';

export { apiClient, type ApiClient, type ApiTenant, type Headers } from '../support/api-client.js';

/** The API alone (no send workers): the engine harness with its `api` part. */
export type ApiHarness = Engine<{ api: true }>;

export function startApi(overrides: Partial<Config> = {}): Promise<ApiHarness> {
  return startEngine({ config: overrides, api: true });
}

/**
 * An object made once before the file's tests: returned empty now, filled by a beforeAll, so a
 * file declares `const x = beforeAllValue(...)` instead of a `let` and its hook.
 */
export function beforeAllValue<T extends object>(make: () => Promise<T>): T {
  const value = {} as T;
  beforeAll(async () => {
    Object.assign(value, await make());
  });
  return value;
}

/** The file's API (startApi), started before its tests and closed after them. */
export function apiForFile(overrides: Partial<Config> = {}): ApiHarness {
  const h = beforeAllValue(() => startApi(overrides));
  afterAll(async () => {
    await (h as Partial<ApiHarness>).close?.();
  });
  return h;
}

export type ErrorBody = { error: { code: string; message: string; details?: Record<string, unknown> } };

/** Asserts the one error shape every route uses, and returns it for further checks. */
export function expectError(response: LightMyRequestResponse, statusCode: number, code: string): ErrorBody['error'] {
  const body = response.json<ErrorBody>();
  expect({ statusCode: response.statusCode, code: body.error?.code }).toEqual({ statusCode, code });
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.message).toMatch(/^[A-Z].*\.$/s);
  return body.error;
}

/** Asserts a status code, showing the body when it differs, and returns the parsed body. */
export function expectStatus<T>(response: LightMyRequestResponse, statusCode: number): T {
  expectStatusCode(response, statusCode);
  return response.json<T>();
}

/** Asserts a status code, showing the body when it differs (for bodies that are not JSON). */
export function expectStatusCode(response: LightMyRequestResponse, statusCode: number): void {
  expect({ statusCode: response.statusCode, body: response.statusCode === statusCode ? null : response.body }).toEqual({ statusCode, body: null });
}

export type PublicAccount = {
  id: string;
  provider: string;
  name: string;
  config: Record<string, unknown>;
  credentialsSet: string[];
  ratePerSecond: number;
  status: string;
};

export type PublicTemplate = {
  id: string;
  accountId: string;
  name: string;
  language: string;
  body: string;
  paramCount: number;
  paramNames: string[];
  status: string;
};

export type PublicCampaign = { id: string; name: string; accountId: string; templateId: string; status: string; startedAt: string | null };

export type UploadSummary = {
  uploadId: string;
  totalRows: number;
  accepted: number;
  rejected: number;
  duplicates: number;
  encoding: string;
  delimiter: string | null;
  rejectedByReason: Record<string, number>;
};

export type CreateCampaignResponse = { campaign: PublicCampaign; upload: UploadSummary | null; replayed: boolean };
export type UploadResponse = { upload: UploadSummary & { rejectedReportUrl: string } };

export const SANDBOX_TOKEN = 'sandbox-secret-token-7f3a9c';

export async function createAccount(api: ApiClient, name = 'sandbox account'): Promise<PublicAccount> {
  const response = await api.post('/v1/accounts', {
    provider: 'sandbox',
    name,
    config: { baseUrl: 'http://127.0.0.1:9' },
    credentials: { token: SANDBOX_TOKEN },
    ratePerSecond: 50,
  });
  return expectStatus<PublicAccount>(response, 201);
}

export async function createTemplate(
  api: ApiClient,
  accountId: string,
  options: { name?: string; body?: string; status?: string; paramNames?: string[] } = {},
): Promise<PublicTemplate> {
  const response = await api.post('/v1/templates', {
    accountId,
    name: options.name ?? 'greeting',
    body: options.body ?? 'Hola {{1}}, tu saldo es {{2}}.',
    ...(options.status ? { status: options.status } : {}),
    ...(options.paramNames ? { paramNames: options.paramNames } : {}),
  });
  return expectStatus<PublicTemplate>(response, 201);
}

/** An account and an approved two-placeholder template, ready for campaigns. */
export async function createSender(api: ApiClient): Promise<{ account: PublicAccount; template: PublicTemplate }> {
  const account = await createAccount(api);
  const template = await createTemplate(api, account.id);
  return { account, template };
}

export async function createDraftCampaign(
  api: ApiClient,
  sender: { account: PublicAccount; template: PublicTemplate },
  extra: Record<string, unknown> = {},
): Promise<CreateCampaignResponse> {
  const response = await api.post('/v1/campaigns', { name: 'campaign', accountId: sender.account.id, templateId: sender.template.id, ...extra });
  return expectStatus<CreateCampaignResponse>(response, 201);
}

/** Distinct valid Chilean mobiles, +56 98 XXX XXXX, starting at `offset`. */
export function phones(count: number, offset = 0): string[] {
  return Array.from({ length: count }, (_, i) => `+5698${String(offset + i).padStart(7, '0')}`);
}

/** Recipients for a two-placeholder template, as inline JSON objects. */
export function recipientObjects(count: number, offset = 0): { phone: string; nombre: string; saldo: string }[] {
  return phones(count, offset).map((phone, i) => ({ phone, nombre: `Cliente ${offset + i}`, saldo: String(1000 + i) }));
}

export async function recipientCount(ctx: TestContext, campaignId: string): Promise<number> {
  const { rows } = await ctx.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM recipients WHERE campaign_id = $1', [campaignId]);
  return Number(rows[0]?.n ?? 0);
}
