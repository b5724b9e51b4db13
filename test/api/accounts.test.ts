/** Provider accounts: validated by the adapter's schemas; credentials are write-only. */
import { describe, expect, it } from 'vitest';
import { SendQueues } from '../../src/queue/queues.js';
import { accountCredentials } from '../../src/security/security-settings.js';
import { apiForFile, createAccount, expectError, expectStatus, SANDBOX_TOKEN, type PublicAccount } from './api-harness.js';

const h = apiForFile();

// Stored sealed (src/security/credential-vault.ts): read back the way the engine reads them.
const storedCredentials = async (id: string) => accountCredentials(await h.ctx.db.prisma.providerAccount.findUniqueOrThrow({ where: { id } }));

describe('create', () => {
  it('creates a sandbox account and shows which credentials are set, never their values', async () => {
    const response = await h.api.post('/v1/accounts', {
      provider: 'sandbox',
      name: 'Sandbox Chile',
      config: { baseUrl: 'http://127.0.0.1:9/' },
      credentials: { token: SANDBOX_TOKEN },
      ratePerSecond: 20,
    });
    const account = expectStatus<PublicAccount>(response, 201);
    expect(account).toMatchObject({
      provider: 'sandbox',
      name: 'Sandbox Chile',
      config: { baseUrl: 'http://127.0.0.1:9/' },
      credentialsSet: ['token'],
      ratePerSecond: 20,
      status: 'active',
    });
    expect(account).not.toHaveProperty('credentials');
    expect(response.body).not.toContain(SANDBOX_TOKEN);
    expect(await storedCredentials(account.id)).toEqual({ token: SANDBOX_TOKEN });
  });

  it('defaults ratePerSecond to 80, Meta\'s default', async () => {
    const response = await h.api.post('/v1/accounts', { provider: 'sandbox', name: 'default rate', config: { baseUrl: 'http://127.0.0.1:9' }, credentials: { token: 't' } });
    expect(expectStatus<PublicAccount>(response, 201).ratePerSecond).toBe(80);
  });

  it('refuses invalid settings with 400 INVALID_ACCOUNT_CONFIG, naming each field and echoing no credential', async () => {
    const secret = { nested: 'do-not-echo-this-secret-91c2' };
    const response = await h.api.post('/v1/accounts', {
      provider: 'sandbox',
      name: 'broken',
      config: { baseUrl: 'not a url' },
      credentials: { token: secret },
    });
    const error = expectError(response, 400, 'INVALID_ACCOUNT_CONFIG');
    expect(error.details?.problems).toEqual([expect.stringMatching(/^config\.baseUrl: /), 'credentials.token: missing or wrong type']);
    expect(error.message).toContain('sandbox');
    expect(response.body).not.toContain('do-not-echo-this-secret-91c2');
    expect(await h.ctx.db.prisma.providerAccount.count({ where: { name: 'broken' } })).toBe(0);
  });

  it('names a missing credential without inventing a value', async () => {
    const response = await h.api.post('/v1/accounts', { provider: 'sandbox', name: 'no token', config: { baseUrl: 'http://127.0.0.1:9' } });
    const error = expectError(response, 400, 'INVALID_ACCOUNT_CONFIG');
    expect(error.details?.problems).toEqual(['credentials.token: missing or wrong type']);
  });

  it('refuses an empty credential as invalid without echoing anything of it', async () => {
    const response = await h.api.post('/v1/accounts', { provider: 'sandbox', name: 'empty', config: { baseUrl: 'http://127.0.0.1:9' }, credentials: { token: '' } });
    expect(expectError(response, 400, 'INVALID_ACCOUNT_CONFIG').details?.problems).toEqual(['credentials.token: invalid']);
  });

  it('refuses an unknown provider and a malformed body with 400 VALIDATION_FAILED', async () => {
    const unknown = await h.api.post('/v1/accounts', { provider: 'carrier-pigeon', name: 'x', credentials: { token: SANDBOX_TOKEN } });
    const error = expectError(unknown, 400, 'VALIDATION_FAILED');
    expect(error.details?.problems).toEqual([expect.stringMatching(/^provider: /)]);
    expect(unknown.body).not.toContain(SANDBOX_TOKEN);

    const shape = await h.api.post('/v1/accounts', { provider: 'sandbox', name: '', ratePerSecond: 0, credentials: 'bare-secret-string-55' });
    const problems = expectError(shape, 400, 'VALIDATION_FAILED').details?.problems;
    expect(problems).toEqual(
      expect.arrayContaining([expect.stringMatching(/^name: /), expect.stringMatching(/^ratePerSecond: /), expect.stringMatching(/^credentials: /)]),
    );
    expect(shape.body).not.toContain('bare-secret-string-55');
  });
});

describe('read and update', () => {
  it('lists the tenant\'s accounts oldest first and gets one by id, without credential values', async () => {
    const { accounts: before } = expectStatus<{ accounts: PublicAccount[] }>(await h.api.get('/v1/accounts'), 200);
    const first = await createAccount(h.api, 'listed one');
    const second = await createAccount(h.api, 'listed two');
    const list = await h.api.get('/v1/accounts');
    const { accounts } = expectStatus<{ accounts: PublicAccount[] }>(list, 200);
    expect(accounts.map((a) => a.id)).toEqual([...before.map((a) => a.id), first.id, second.id]);
    expect(list.body).not.toContain(SANDBOX_TOKEN);

    const one = await h.api.get(`/v1/accounts/${second.id}`);
    expect(expectStatus<PublicAccount>(one, 200)).toMatchObject({ id: second.id, name: 'listed two', credentialsSet: ['token'] });
    expect(one.body).not.toContain(SANDBOX_TOKEN);
  });

  it('an unknown id is 404 ACCOUNT_NOT_FOUND; an id that is not a UUID is 400 VALIDATION_FAILED', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    expect(expectError(await h.api.get(`/v1/accounts/${id}`), 404, 'ACCOUNT_NOT_FOUND').details).toEqual({ accountId: id });
    expectError(await h.api.get('/v1/accounts/42'), 400, 'VALIDATION_FAILED');
  });

  // PATCH sends config in both tests below: a PATCH without config is refused today (see the report:
  // updateBody inherits createBody's defaults, so a missing config becomes {}).
  it('PATCH without credentials keeps the stored ones', async () => {
    const account = await createAccount(h.api, 'to rename');
    const response = await h.api.patch(`/v1/accounts/${account.id}`, { name: 'renamed', ratePerSecond: 7, config: { baseUrl: 'http://127.0.0.1:10' } });
    expect(expectStatus<PublicAccount>(response, 200)).toMatchObject({
      name: 'renamed',
      ratePerSecond: 7,
      config: { baseUrl: 'http://127.0.0.1:10' },
      credentialsSet: ['token'],
    });
    expect(response.body).not.toContain(SANDBOX_TOKEN);
    expect(await storedCredentials(account.id)).toEqual({ token: SANDBOX_TOKEN });
  });

  it('PATCH with a new credential replaces it and still does not show it', async () => {
    const account = await createAccount(h.api, 'rotate token');
    const response = await h.api.patch(`/v1/accounts/${account.id}`, { config: account.config, ratePerSecond: account.ratePerSecond, credentials: { token: 'rotated-token-0b1d' } });
    expect(expectStatus<PublicAccount>(response, 200).credentialsSet).toEqual(['token']);
    expect(response.body).not.toContain('rotated-token-0b1d');
    expect(await storedCredentials(account.id)).toEqual({ token: 'rotated-token-0b1d' });
  });

  it('PATCH with invalid settings is 400 INVALID_ACCOUNT_CONFIG and changes nothing', async () => {
    const account = await createAccount(h.api, 'stays put');
    const response = await h.api.patch(`/v1/accounts/${account.id}`, { name: 'changed?', config: { baseUrl: 'not a url' }, credentials: { token: 123456789 } });
    const error = expectError(response, 400, 'INVALID_ACCOUNT_CONFIG');
    expect(error.details?.problems).toEqual([expect.stringMatching(/^config\.baseUrl: /), 'credentials.token: missing or wrong type']);
    expect(response.body).not.toContain('123456789');
    const stored = await h.ctx.db.prisma.providerAccount.findUniqueOrThrow({ where: { id: account.id } });
    expect({ name: stored.name, config: stored.config, credentials: accountCredentials(stored) }).toEqual({
      name: 'stays put',
      config: { baseUrl: 'http://127.0.0.1:9' },
      credentials: { token: SANDBOX_TOKEN },
    });
  });

  it('resume sets a stopped account active again and resumes its queue', async () => {
    const account = await createAccount(h.api, 'limited');
    await h.ctx.db.prisma.providerAccount.update({
      where: { id: account.id },
      data: { status: 'limited', statusCode: 'ACCOUNT_TIER_LIMIT', statusReason: 'tier reached', statusAt: new Date() },
    });
    const queues = new SendQueues(h.redis, h.ctx.config.queuePrefix);
    try {
      await queues.forAccount(account.id).pause();
      expect(await queues.forAccount(account.id).isPaused()).toBe(true);
      const queue = expectStatus<{ paused: boolean; status: string; statusCode: string; jobs: Record<string, number> }>(
        await h.api.get(`/v1/accounts/${account.id}/queue`),
        200,
      );
      expect(queue).toMatchObject({ paused: true, status: 'limited', statusCode: 'ACCOUNT_TIER_LIMIT', jobs: { wait: 0, active: 0, delayed: 0 } });
      const response = await h.api.post(`/v1/accounts/${account.id}/resume`);
      expect(expectStatus<PublicAccount>(response, 200)).toMatchObject({ id: account.id, status: 'active', statusCode: null, statusReason: null });
      expect(await queues.forAccount(account.id).isPaused()).toBe(false);
      expect(expectStatus<{ paused: boolean }>(await h.api.get(`/v1/accounts/${account.id}/queue`), 200).paused).toBe(false);
    } finally {
      await queues.close();
    }
  });
});
