/**
 * A provider that echoes the account's token back, in every style seen in the wild, must not
 * get it (or any 8-character run of it, in any encoding) into what the engine stores or shows:
 * provider_error_text, the recipient's history, an account's or campaign's status_reason, the
 * API's answers and the CSV export.
 *
 * The matrix runs through a real send: a Meta account created through the API (credentials
 * sealed), a campaign started through the API, the worker host sending to a local fake of
 * Graph that answers each recipient with its own echo.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerHost } from '../../src/queue/worker-host.js';
import { SecretScrubber } from '../../src/security/secret-scrubber.js';
import { startFakeMeta, type FakeMeta } from '../fakes/meta-server.js';
import { expectStatus, startApi, type ApiHarness } from '../api/api-harness.js';
import { waitFor } from '../support/fixtures.js';

// Characters that JSON, URL and form encoding each write differently: " \ / + = and a space-free tail.
const TOKEN = 'EAAGm0Z"q\\w/x+y=Tz8KpL3vN9sR2dF6hJ1cB4uQ7eW5';
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/** Each echo style: the text the provider answers with, and the part of it that is the secret. */
const STYLES: { name: string; fragment: string }[] = [
  { name: 'raw', fragment: TOKEN },
  { name: 'json-escaped', fragment: JSON.stringify(TOKEN).slice(1, -1) },
  { name: 'json-escaped-slashes', fragment: JSON.stringify(TOKEN).slice(1, -1).replace(/\//g, '\\/') },
  { name: 'url-encoded', fragment: encodeURIComponent(TOKEN) },
  { name: 'url-encoded-lowercase', fragment: encodeURIComponent(TOKEN).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()) },
  { name: 'form-encoded', fragment: new URLSearchParams({ t: TOKEN }).toString().slice(2) },
  { name: 'base64', fragment: b64(TOKEN) },
  { name: 'base64url', fragment: Buffer.from(TOKEN).toString('base64url') },
  // Basic auth: the token shifted by "user:" inside the base64 (the first 7 characters encode only "user:").
  { name: 'basic-auth', fragment: b64(`user:${TOKEN}`).slice(7) },
  { name: 'hex', fragment: Buffer.from(TOKEN).toString('hex') },
  { name: 'first-12', fragment: TOKEN.slice(0, 12) },
  { name: 'last-12', fragment: TOKEN.slice(-12) },
  { name: 'middle-8', fragment: TOKEN.slice(17, 25) },
];

/** Every run of 8 characters of `fragment` found in `text`. */
function leaks(text: string, fragment: string): string[] {
  const found: string[] = [];
  for (let i = 0; i + 8 <= fragment.length; i += 1) {
    const run = fragment.slice(i, i + 8);
    if (text.includes(run)) found.push(run);
  }
  return found;
}

function expectNoLeak(what: string, text: string): void {
  for (const style of STYLES) expect(leaks(text, style.fragment), `${what} (${style.name})`).toEqual([]);
}

describe('the scrubber alone', () => {
  const scrubber = new SecretScrubber([TOKEN]);
  it.each(STYLES)('$name: every 8-character run of the echo is redacted, the words around it kept', ({ fragment }) => {
    const out = scrubber.scrub(`before <${fragment}> after`);
    expect(leaks(out, fragment)).toEqual([]);
    expect(out).toContain('[redacted]');
    expect(out.startsWith('before <')).toBe(true);
    expect(out.endsWith('> after')).toBe(true);
  });

  it('leaves text without the secret alone, and short secrets whole-only', () => {
    expect(scrubber.scrub('Invalid parameter: template name unknown')).toBe('Invalid parameter: template name unknown');
    const short = new SecretScrubber(['ab12cd']);
    expect(short.scrub('login ab12cd failed; ab12 is fine')).toBe('login [redacted] failed; ab12 is fine');
    // Under 4 characters a value would eat ordinary words: left alone.
    expect(new SecretScrubber(['abc']).scrub('abc abcd')).toBe('abc abcd');
  });

  it('caps provider texts of an outcome at 500 characters', () => {
    const out = scrubber.scrubOutcome({ kind: 'recipient_error', code: 'RECIPIENT_INVALID', message: 'x', providerText: 'y'.repeat(5000), raw: 'z'.repeat(5000) });
    expect(out.providerText).toHaveLength(500);
    expect(out.raw).toHaveLength(500);
  });
});

describe('through a real send', () => {
  let h: ApiHarness;
  let meta: FakeMeta;
  let host: WorkerHost;
  let accountId: string;
  let templateId: string;
  const phoneOf = (i: number) => `+5691${String(2_000_000 + i).padStart(7, '0')}`;

  beforeAll(async () => {
    h = await startApi({ feederIntervalMs: 50, sweeperIntervalMs: 500, retryBaseDelayMs: 20, retryMaxDelayMs: 100, sendTimeoutMs: 5_000 });
    meta = await startFakeMeta({ token: TOKEN });
    meta.addTemplate({ name: 'aviso', body: 'Hola {{1}}' });
    host = new WorkerHost(h.ctx.config, h.ctx.db, h.ctx.logger);
    await host.start();
    const account = await h.api.post('/v1/accounts', {
      provider: 'meta',
      name: 'echoing meta',
      config: { phoneNumberId: meta.phoneNumberId, wabaId: meta.wabaId, baseUrl: meta.url },
      credentials: { accessToken: TOKEN },
      ratePerSecond: 200,
      pairGapSeconds: 0,
    });
    accountId = expectStatus<{ id: string }>(account, 201).id;
    const template = await h.api.post('/v1/templates', { accountId, name: 'aviso', language: 'es', category: 'UTILITY', body: 'Hola {{1}}' });
    templateId = expectStatus<{ id: string }>(template, 201).id;
  });
  afterAll(async () => {
    await host?.stop();
    await meta?.close();
    await h?.close();
  });

  it('no echo style gets the token into provider_error_text, history, the API or the export', async () => {
    STYLES.forEach((style, i) => {
      const error = { message: `Recipient phone number not in allowed list (style ${style.name}: ${style.fragment})`, type: 'OAuthException', code: 131026, error_data: { details: `echo ${style.fragment}` }, fbtrace_id: 'AbC' };
      meta.script({ status: 400, body: JSON.stringify({ error }), headers: { 'content-type': 'application/json' } }, { phone: phoneOf(i).slice(1) });
    });
    // An answer the manual does not describe is kept raw: its JSON escapes stay as the provider wrote them.
    const undocumentedPhone = phoneOf(STYLES.length);
    meta.script({ status: 418, body: `{"teapot":true,"echo":${JSON.stringify(TOKEN)},"b64":"${b64(TOKEN)}"}` }, { phone: undocumentedPhone.slice(1) });
    const phones = [...STYLES.map((_, i) => phoneOf(i)), undocumentedPhone];
    const created = await h.api.post('/v1/campaigns', {
      name: 'echo matrix',
      accountId,
      templateId,
      defaultCountry: 'CL',
      maxAttempts: 1,
      start: true,
      recipients: phones.map((phone) => ({ phone, variables: ['Ana'] })),
    });
    const campaignId = expectStatus<{ campaign: { id: string } }>(created, 201).campaign.id;
    await waitFor('every recipient failed', async () => {
      const { rows } = await h.ctx.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM recipients WHERE campaign_id = $1 AND status = 'failed'`, [campaignId]);
      return rows[0]?.n === phones.length;
    });

    const { rows } = await h.ctx.db.pool.query<{ id: string; phone: string; text: string | null }>(
      'SELECT id::text, phone, provider_error_text AS text FROM recipients WHERE campaign_id = $1 ORDER BY id',
      [campaignId],
    );
    for (const row of rows) {
      // The echo did reach the engine (not a vacuous pass), and was redacted.
      expect(row.text, row.phone).toContain('[redacted]');
      expect(row.text?.length ?? 0).toBeLessThanOrEqual(500);
      expectNoLeak(`provider_error_text of ${row.phone}`, row.text ?? '');
    }
    const history = await h.ctx.db.pool.query<{ detail: string | null }>('SELECT detail FROM recipient_events WHERE campaign_id = $1', [campaignId]);
    expect(history.rows.length).toBeGreaterThanOrEqual(phones.length);
    expectNoLeak('recipient_events.detail', history.rows.map((r) => r.detail ?? '').join('\n'));

    const listed = await h.api.get(`/v1/campaigns/${campaignId}/recipients?status=failed&limit=100`);
    expect(listed.statusCode).toBe(200);
    expect(listed.body).toContain('[redacted]');
    expectNoLeak('GET recipients', listed.body);
    const exported = await h.api.get(`/v1/campaigns/${campaignId}/export.csv`);
    expect(exported.statusCode).toBe(200);
    expect(exported.body).toContain('[redacted]');
    expectNoLeak('export.csv', exported.body);
    const one = rows[0];
    if (!one) throw new Error('no recipients');
    const recipientHistory = await h.api.get(`/v1/campaigns/${campaignId}/recipients/${one.id}/history`);
    expectNoLeak('GET history', recipientHistory.body);
  });

  it('an auth failure echoing the token leaves none of it in the account status_reason', async () => {
    const phone = phoneOf(100);
    const echoes = STYLES.map((s) => s.fragment).join(' | ');
    const error = { message: `Error validating access token: ${echoes}`, type: 'OAuthException', code: 190, fbtrace_id: 'AbC' };
    meta.script({ status: 401, body: JSON.stringify({ error }), headers: { 'content-type': 'application/json' } }, { phone: phone.slice(1) });
    const created = await h.api.post('/v1/campaigns', { name: 'auth echo', accountId, templateId, defaultCountry: 'CL', start: true, recipients: [{ phone, variables: ['Ana'] }] });
    expectStatus(created, 201);
    const account = await waitFor('the account stopped', async () => {
      const response = await h.api.get(`/v1/accounts/${accountId}`);
      const body = JSON.parse(response.body) as { status: string; statusReason: string | null };
      return body.status === 'paused' ? { response, body } : null;
    });
    expect(account.body.statusReason).toContain('[redacted]');
    expectNoLeak('account status_reason', account.response.body);
    const { rows } = await h.ctx.db.pool.query<{ reason: string | null }>('SELECT status_reason AS reason FROM provider_accounts WHERE id = $1', [accountId]);
    expectNoLeak('provider_accounts.status_reason', rows[0]?.reason ?? '');
  });
});
