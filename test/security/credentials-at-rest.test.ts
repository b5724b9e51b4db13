/**
 * Provider credentials at rest: a raw pg_dump of a database with accounts of every provider
 * holds none of their values; rows stored in plaintext by an older version are sealed by the
 * migrate command; a rotation re-encrypts every row to a new key while a campaign is sending;
 * and the engine refuses to start in production without a key.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyCampaignAction } from '../../src/campaigns/campaign-actions.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { startSandboxServer } from '../../src/providers/sandbox/sandbox-server.js';
import { WorkerHost } from '../../src/queue/worker-host.js';
import { resealCredentials } from '../../src/security/credential-rotation.js';
import { CredentialVault } from '../../src/security/credential-vault.js';
import { accountCredentials, sealedCredentials, securitySettingsFrom, useSecuritySettings } from '../../src/security/security-settings.js';
import { expectError, expectStatus, startApi, type ApiHarness } from '../api/api-harness.js';
import { createSandboxCampaign, insertRecipients, waitFor } from '../support/fixtures.js';
import { TEST_CREDENTIALS_KEY } from '../support/test-env.js';

const NEXT_KEY = Buffer.alloc(32, 0x21).toString('base64');
const BOTH_KEYS = `test:${TEST_CREDENTIALS_KEY},next:${NEXT_KEY}`;

/** Accounts of every provider, each with credential values found nowhere else. */
const ACCOUNTS = [
  { provider: 'sandbox', config: { baseUrl: 'http://127.0.0.1:9/' }, credentials: { token: 'sbx-7Qm2vX9pL4kR8sT1wZ6y' } },
  { provider: 'adereso', config: { account: '56900000000' }, credentials: { token: 'adr-Hn3bV8cX1zQ5mK9pL2wE' } },
  { provider: 'multichat', config: {}, credentials: { login: 'empresa-login-Gt4Yh7Uj', token: 'mch-Rf5Tg8Yh2Uj6Ik9Ol3Pa' } },
  { provider: 'optiwe', config: {}, credentials: { token: 'opt-Zx1Cv4Bn7Mq2We5Rt8Ya' } },
  { provider: 'atomchat', config: {}, credentials: { publicToken: 'atc-Lk9Jh6Gf3Ds1Ap4So7Di' } },
  { provider: 'meta', config: { phoneNumberId: '106540352242922' }, credentials: { accessToken: 'EAAGmetaTok-Qw3Er6Ty9Ui2Op5As8', appSecret: 'metaAppSecret-Df4Gh7Jk1Lz', webhookVerifyToken: 'verify-Xc5Vb8Nm2Qa' } },
] as const;
const PATCHED_TOKEN = 'adr-patched-Mn8Bv5Cx2Za7Sd4Fg1';

function pgDump(databaseUrl: string): string {
  const result = spawnSync('pg_dump', ['--no-owner', databaseUrl], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`pg_dump failed: ${result.stderr}`);
  return result.stdout;
}

/** The value and the forms a careless encoder would write it in. */
function formsOf(value: string): string[] {
  return [value, Buffer.from(value).toString('base64').slice(0, 16), Buffer.from(value).toString('hex').slice(0, 16)];
}

let h: ApiHarness;
beforeAll(async () => {
  h = await startApi();
});
afterAll(async () => {
  await h?.close();
});

describe('at rest', () => {
  it('a raw pg_dump of a database with accounts of every provider contains no credential value', async () => {
    const ids: string[] = [];
    for (const account of ACCOUNTS) {
      const response = await h.api.post('/v1/accounts', { ...account, name: `${account.provider} at rest` });
      ids.push(expectStatus<{ id: string; credentialsSet: string[] }>(response, 201).id);
    }
    // An update re-seals the merged credentials.
    const adereso = ids[1] as string;
    expectStatus(await h.api.patch(`/v1/accounts/${adereso}`, { credentials: { token: PATCHED_TOKEN } }), 200);

    const dump = pgDump(h.ctx.databaseUrl);
    for (const account of ACCOUNTS) expect(dump, `${account.provider} row dumped`).toContain(`${account.provider} at rest`);
    const values = [...ACCOUNTS.flatMap((a) => Object.values(a.credentials)), PATCHED_TOKEN];
    for (const value of values) for (const form of formsOf(value)) expect(dump.includes(form), `${value} (${form}) in pg_dump`).toBe(false);

    // Every row is sealed with the configured key, and reads back as it was written.
    const rows = await h.ctx.db.prisma.providerAccount.findMany({ where: { id: { in: ids } } });
    for (const row of rows) {
      expect(row.credentials).toEqual({});
      expect(row.credentialsKeyId).toBe('test');
      expect(row.credentialsSealed).toMatch(/^v1\./);
    }
    const sealedAdereso = rows.find((r) => r.id === adereso);
    if (!sealedAdereso) throw new Error('adereso account missing');
    expect(accountCredentials(sealedAdereso)).toEqual({ token: PATCHED_TOKEN });
  });

  it('a sealed value opens only for its own account, unaltered, with a configured key', () => {
    const vault = new CredentialVault(new Map([['test', Buffer.from(TEST_CREDENTIALS_KEY, 'base64')]]), 'test');
    const a = randomUUID();
    const sealed = vault.seal(a, { token: 'x-secret-123' });
    expect(vault.open(a, sealed.credentialsSealed, 'test')).toEqual({ token: 'x-secret-123' });
    expect(() => vault.open(randomUUID(), sealed.credentialsSealed, 'test')).toThrow();
    const [v, iv, tag, body = ''] = sealed.credentialsSealed.split('.');
    const flipped = `${v}.${iv}.${tag}.${body.slice(0, -2)}${body.endsWith('A') ? 'B' : 'A'}${body.slice(-1)}`;
    expect(() => vault.open(a, flipped, 'test')).toThrow();
    expect(() => vault.open(a, sealed.credentialsSealed, 'gone')).toThrow(/not in CREDENTIALS_KEYS/);
    // Two seals of one value differ (a fresh IV each time).
    expect(vault.seal(a, { token: 'x-secret-123' }).credentialsSealed).not.toBe(sealed.credentialsSealed);
  });

  it('an account sealed with a key no longer listed: no fields shown, a PATCH without credentials is 409, one with all of them re-seals it', async () => {
    const gone = new CredentialVault(new Map([['gone', Buffer.alloc(32, 0x77)]]), 'gone');
    const id = randomUUID();
    await h.ctx.db.prisma.providerAccount.create({
      data: { id, tenantId: h.tenant.tenantId, provider: 'sandbox', name: 'lost key', config: { baseUrl: 'http://127.0.0.1:9/' }, ...gone.seal(id, { token: 'lost-Tk4Yh7Uj' }) },
    });
    expect(expectStatus<{ credentialsSet: string[] }>(await h.api.get(`/v1/accounts/${id}`), 200).credentialsSet).toEqual([]);
    expectError(await h.api.patch(`/v1/accounts/${id}`, { name: 'renamed' }), 409, 'CREDENTIALS_UNREADABLE');
    const fixed = await h.api.patch(`/v1/accounts/${id}`, { credentials: { token: 'entered-again-Rf5Tg8' } });
    expect(expectStatus<{ credentialsSet: string[] }>(fixed, 200).credentialsSet).toEqual(['token']);
    const row = await h.ctx.db.prisma.providerAccount.findUniqueOrThrow({ where: { id } });
    expect(row.credentialsKeyId).toBe('test');
    expect(accountCredentials(row)).toEqual({ token: 'entered-again-Rf5Tg8' });
  });
});

describe('rows written in plaintext by an older version', () => {
  it('are sealed by the migrate command (after the SQL migrations), and read the same', async () => {
    const plain = [
      { id: randomUUID(), credentials: { token: 'legacy-plain-Wq2Er4Ty6Ui8' } },
      { id: randomUUID(), credentials: { login: 'legacy-login-Hj3Kl5', token: 'legacy-mc-Zx7Cv9Bn1Mq3' } },
    ];
    for (const [i, row] of plain.entries()) {
      await h.ctx.db.pool.query(`INSERT INTO provider_accounts (id, tenant_id, provider, name, config, credentials, updated_at) VALUES ($1, $2, $3, $4, '{}', $5, now())`, [
        row.id,
        h.tenant.tenantId,
        i === 0 ? 'adereso' : 'multichat',
        `legacy ${i}`,
        JSON.stringify(row.credentials),
      ]);
    }
    // Read while still plaintext (an engine upgraded before the migrate step ran keeps working).
    const before = await h.ctx.db.prisma.providerAccount.findUniqueOrThrow({ where: { id: plain[0]?.id } });
    expect(accountCredentials(before)).toEqual(plain[0]?.credentials);

    const result = spawnSync(process.execPath, ['--experimental-wasm-modules', '--no-warnings', '--import', 'tsx', 'src/cli/migrate.ts'], {
      env: { ...process.env, DATABASE_URL: h.ctx.databaseUrl },
      encoding: 'utf8',
    });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain('credentials encrypted: 2 account(s)');

    for (const row of plain) {
      const stored = await h.ctx.db.prisma.providerAccount.findUniqueOrThrow({ where: { id: row.id } });
      expect(stored.credentials).toEqual({});
      expect(stored.credentialsKeyId).toBe('test');
      expect(accountCredentials(stored)).toEqual(row.credentials);
    }
    const dump = pgDump(h.ctx.databaseUrl);
    for (const row of plain) for (const value of Object.values(row.credentials)) expect(dump).not.toContain(value);
  });
});

describe('rotation', () => {
  it('re-encrypts every row to the new key while a campaign is sending, without a failed send', async () => {
    // The engine runs with both keys listed, still encrypting with the old one.
    useSecuritySettings(loadConfig({ ...process.env, CREDENTIALS_KEYS: BOTH_KEYS, CREDENTIALS_KEY_ID: 'test' }));
    const sandbox = await startSandboxServer({ latencyMs: [5, 15], token: 'rotating-Pz4Xc7Vb1Nm' });
    const ctx = { ...h.ctx, tenantId: h.tenant.tenantId };
    const accountId = randomUUID();
    await h.ctx.db.prisma.providerAccount.create({
      data: { id: accountId, tenantId: ctx.tenantId, provider: 'sandbox', name: 'rotating', config: { baseUrl: sandbox.url }, ...sealedCredentials(accountId, { token: 'rotating-Pz4Xc7Vb1Nm' }), ratePerSecond: 100, pairGapSeconds: 0 },
    });
    const { campaignId } = await createSandboxCampaign(ctx, { sandboxUrl: sandbox.url, accountId });
    const total = 600;
    await insertRecipients(ctx, campaignId, total);
    const host = new WorkerHost({ ...h.ctx.config, feederIntervalMs: 50 }, h.ctx.db, h.ctx.logger);
    await host.start();
    try {
      await applyCampaignAction(h.ctx.db, ctx.tenantId, campaignId, 'start');
      await waitFor('sending under way', async () => sandbox.stats().accepted >= 50, 60_000, 20);

      // The operator's rotation: the same keys, the new one active.
      const next = securitySettingsFrom(loadConfig({ ...process.env, CREDENTIALS_KEYS: BOTH_KEYS, CREDENTIALS_KEY_ID: 'next' })).vault;
      const report = await resealCredentials(h.ctx.db.pool, next);
      const acceptedAtRotation = sandbox.stats().accepted;
      expect(report.unreadable).toEqual([]);
      expect(report.resealed).toBeGreaterThanOrEqual(1);
      const { rows } = await h.ctx.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM provider_accounts WHERE credentials_key_id IS DISTINCT FROM 'next'`);
      expect(rows[0]?.n).toBe(0);
      expect(acceptedAtRotation).toBeLessThan(total);

      await waitFor('campaign completed', async () => (await h.ctx.db.prisma.campaign.findUniqueOrThrow({ where: { id: campaignId } })).status === 'completed', 120_000, 100);
      const { rows: counts } = await h.ctx.db.pool.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM recipients WHERE campaign_id = $1 GROUP BY status', [campaignId]);
      expect(counts).toEqual([{ status: 'sent', n: total }]);
      expect(sandbox.stats().byStatus['401'] ?? 0).toBe(0);
      // At 100/s the campaign lasts at least 6 s, past the worker's 5 s settings cache: its later
      // sends read the row re-encrypted with the new key, and none failed.
      const row = await h.ctx.db.prisma.providerAccount.findUniqueOrThrow({ where: { id: accountId } });
      expect(next.read(row)).toEqual({ token: 'rotating-Pz4Xc7Vb1Nm' });
    } finally {
      await host.stop();
      await sandbox.close();
      useSecuritySettings(h.ctx.config);
    }
  });

  it('`npm run cli -- credentials rotate` re-encrypts to CREDENTIALS_KEY_ID and says what it did', async () => {
    const env = { ...process.env, DATABASE_URL: h.ctx.databaseUrl, CREDENTIALS_KEYS: BOTH_KEYS };
    const cli = (keyId: string, ...args: string[]) =>
      spawnSync(process.execPath, ['--experimental-wasm-modules', '--no-warnings', '--import', 'tsx', 'src/cli/main.ts', 'credentials', ...args], { env: { ...env, CREDENTIALS_KEY_ID: keyId }, encoding: 'utf8' });
    const back = cli('test', 'rotate');
    expect(back.status, back.stderr).toBe(0);
    expect(back.stdout).toMatch(/^re-encrypted \d+ account\(s\) to key test/);
    const status = cli('test', 'status');
    expect(status.stdout).toContain('active key test: 0 account(s) not on it');
    const { rows } = await h.ctx.db.pool.query<{ key: string | null }>('SELECT DISTINCT credentials_key_id AS key FROM provider_accounts');
    expect(rows).toEqual([{ key: 'test' }]);
    // Without the key the rows were sealed with, nothing can be re-encrypted: it says so, and fails.
    const without = spawnSync(process.execPath, ['--experimental-wasm-modules', '--no-warnings', '--import', 'tsx', 'src/cli/main.ts', 'credentials', 'rotate'], {
      env: { ...env, CREDENTIALS_KEYS: `next:${NEXT_KEY}`, CREDENTIALS_KEY_ID: 'next' },
      encoding: 'utf8',
    });
    expect(without.status).toBe(1);
    expect(without.stderr).toMatch(/account\(s\) could not be decrypted with CREDENTIALS_KEYS/);
  });

  it('a row updated while the rotation runs keeps the update (conditional swap, then read again)', async () => {
    const vaultTest = securitySettingsFrom(loadConfig({ ...process.env, CREDENTIALS_KEYS: BOTH_KEYS, CREDENTIALS_KEY_ID: 'test' })).vault;
    const vaultNext = securitySettingsFrom(loadConfig({ ...process.env, CREDENTIALS_KEYS: BOTH_KEYS, CREDENTIALS_KEY_ID: 'next' })).vault;
    const id = randomUUID();
    await h.ctx.db.prisma.providerAccount.create({
      data: { id, tenantId: h.tenant.tenantId, provider: 'sandbox', name: 'racing', config: { baseUrl: 'http://127.0.0.1:9/' }, ...vaultTest.seal(id, { token: 'before-Wq2Er4' }) },
    });
    const real = h.ctx.db.pool;
    let raced = false;
    // A PATCH (sealed with the new key, as the engine now does) lands between the rotation's read and its write.
    const racingPool = {
      query: async (text: string, params?: unknown[]) => {
        if (!raced && text.includes('UPDATE provider_accounts') && (params?.[0] as string) === id) {
          raced = true;
          const patched = vaultNext.seal(id, { token: 'patched-Ty6Ui8' });
          await real.query('UPDATE provider_accounts SET credentials_sealed = $2, credentials_key_id = $3 WHERE id = $1', [id, patched.credentialsSealed, patched.credentialsKeyId]);
        }
        return real.query(text, params);
      },
    } as unknown as typeof real;
    const report = await resealCredentials(racingPool, vaultNext);
    expect(raced).toBe(true);
    expect(report.unreadable).toEqual([]);
    const row = await h.ctx.db.prisma.providerAccount.findUniqueOrThrow({ where: { id } });
    expect(row.credentialsKeyId).toBe('next');
    expect(vaultNext.read(row)).toEqual({ token: 'patched-Ty6Ui8' });
    // Put every row back on the suite's key for the tests after this one.
    await resealCredentials(real, vaultTest);
  });
});

describe('keys from the environment', () => {
  const key = Buffer.alloc(32, 1).toString('base64');
  it('production without CREDENTIALS_KEYS refuses to start', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/CREDENTIALS_KEYS is required/);
    expect(loadConfig({ NODE_ENV: 'production', CREDENTIALS_KEYS: `k1:${key}` }).credentialKeyId).toBe('k1');
  });

  it('outside production without a key, the public development key is used, and the process says so', () => {
    const warnings: string[] = [];
    const logger = { warn: (message: string) => warnings.push(message) } as unknown as Parameters<typeof useSecuritySettings>[1];
    const settings = useSecuritySettings(loadConfig({ NODE_ENV: 'development' }), logger);
    expect(settings.vault.usesDevelopmentKey).toBe(true);
    expect(settings.vault.activeKeyId).toBe('dev');
    expect(warnings).toEqual([expect.stringContaining('development key')]);
    useSecuritySettings(loadConfig({ ...process.env, NODE_ENV: 'development' }), logger);
    expect(warnings).toHaveLength(1);
    useSecuritySettings(h.ctx.config);
  });

  it.each([
    [`k1:${Buffer.alloc(16).toString('base64')}`, undefined, /32 bytes/],
    [`k1:${key},k1:${key}`, undefined, /listed twice/],
    [`k1:${key},k2:${key}`, undefined, /CREDENTIALS_KEY_ID/],
    [`k1:${key}`, 'k9', /CREDENTIALS_KEY_ID/],
    [`bad id!:${key}`, undefined, /id:base64key/],
  ])('CREDENTIALS_KEYS=%s CREDENTIALS_KEY_ID=%s is a configuration error', (keys, id, message) => {
    expect(() => loadConfig({ CREDENTIALS_KEYS: keys, ...(id ? { CREDENTIALS_KEY_ID: id } : {}) })).toThrow(message);
  });
});
