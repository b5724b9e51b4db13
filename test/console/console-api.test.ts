/**
 * The console's server side over HTTP (no browser): sign-in turns a key into a session cookie
 * with the right flags; the cookie works in place of the key, state-changing calls need the CSRF
 * token; sign-out and key revocation end it; pages redirect when signed out; another tenant's
 * campaign answers 404; the upload preview reads a Windows-1252 ;-separated file with the
 * engine's ingest code; live snapshots are computed once per campaign however many watch.
 */
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/fixtures.js';
import { createSandboxSender, startConsoleWorld, type ConsoleWorld } from './console-world.js';
import { sendQueueName } from '../../src/queue/queues.js';

let w: ConsoleWorld;
let sender: { accountId: string; templateId: string };
beforeAll(async () => {
  w = await startConsoleWorld({ worker: false });
  sender = await createSandboxSender(w.tenantA.api, w.sandbox.url, 50);
});
afterAll(async () => {
  await w.close();
});

async function signIn(apiKey: string): Promise<{ cookie: string; csrf: string; setCookie: string }> {
  const response = await w.app.inject({ method: 'POST', url: '/console/session', payload: { apiKey } });
  expect(response.statusCode).toBe(200);
  const setCookie = String(response.headers['set-cookie']);
  const cookie = setCookie.split(';')[0] ?? '';
  const page = await w.app.inject({ method: 'GET', url: '/console/campaigns', headers: { cookie } });
  const csrf = /name="csrf-token" content="([^"]+)"/.exec(page.body)?.[1] ?? '';
  return { cookie, csrf, setCookie };
}

describe('sign-in and session', () => {
  it('sets an httpOnly, SameSite=Strict cookie that holds no key, and the key is not in the page', async () => {
    const { setCookie, cookie } = await signIn(w.tenantA.apiKey);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).not.toMatch(/Secure/); // plain http here; https adds it
    expect(setCookie).not.toContain(w.tenantA.apiKey);
    const page = await w.app.inject({ method: 'GET', url: '/console/campaigns', headers: { cookie } });
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toContain(w.tenantA.apiKey);
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
  });

  it('refuses a wrong key', async () => {
    const response = await w.app.inject({ method: 'POST', url: '/console/session', payload: { apiKey: 'wce_nope_nope' } });
    expect(response.json()).toMatchObject({ error: { code: 'INVALID_API_KEY' } });
  });

  it('the cookie reads the API; a POST needs the CSRF token', async () => {
    const { cookie, csrf } = await signIn(w.tenantA.apiKey);
    const list = await w.app.inject({ method: 'GET', url: '/v1/accounts', headers: { cookie } });
    expect(list.json<{ accounts: { id: string }[] }>().accounts.map((a) => a.id)).toEqual([sender.accountId]);
    const body = { name: 'c', accountId: sender.accountId, templateId: sender.templateId };
    const without = await w.app.inject({ method: 'POST', url: '/v1/campaigns', headers: { cookie }, payload: body });
    expect({ status: without.statusCode, code: without.json().error.code }).toEqual({ status: 403, code: 'CSRF_TOKEN_INVALID' });
    const wrong = await w.app.inject({ method: 'POST', url: '/v1/campaigns', headers: { cookie, 'x-csrf-token': `${csrf}x` }, payload: body });
    expect(wrong.statusCode).toBe(403);
    const right = await w.app.inject({ method: 'POST', url: '/v1/campaigns', headers: { cookie, 'x-csrf-token': csrf }, payload: body });
    expect(right.statusCode).toBe(201);
  });

  it('sign-out ends the session', async () => {
    const { cookie, csrf } = await signIn(w.tenantA.apiKey);
    const out = await w.app.inject({ method: 'POST', url: '/console/sign-out', headers: { cookie, 'x-csrf-token': csrf } });
    expect(out.statusCode).toBe(200);
    expect(String(out.headers['set-cookie'])).toMatch(/Max-Age=0/);
    const after = await w.app.inject({ method: 'GET', url: '/v1/accounts', headers: { cookie } });
    expect(after.statusCode).toBe(401);
    const page = await w.app.inject({ method: 'GET', url: '/console/campaigns', headers: { cookie } });
    expect(page.statusCode).toBe(303);
    expect(page.headers.location).toMatch(/^\/console\/sign-in\?next=/);
  });

  it('revoking the key ends its sessions', async () => {
    const { createApiKey } = await import('../../src/tenants/api-keys.js');
    const extra = await createApiKey(w.ctx.db, w.tenantA.tenantId, 'to revoke');
    const { cookie } = await signIn(extra.key);
    expect((await w.app.inject({ method: 'GET', url: '/v1/accounts', headers: { cookie } })).statusCode).toBe(200);
    await w.ctx.db.prisma.apiKey.update({ where: { id: extra.id }, data: { revokedAt: new Date() } });
    expect((await w.app.inject({ method: 'GET', url: '/v1/accounts', headers: { cookie } })).statusCode).toBe(401);
  });

  it("another tenant's campaign is 404 on its page and in the API", async () => {
    const created = await w.tenantA.api.post('/v1/campaigns', { name: 'A only', accountId: sender.accountId, templateId: sender.templateId });
    const id = created.json<{ campaign: { id: string } }>().campaign.id;
    const b = await signIn(w.tenantB.apiKey);
    const page = await w.app.inject({ method: 'GET', url: `/console/campaigns/${id}`, headers: { cookie: b.cookie } });
    expect(page.statusCode).toBe(404);
    const data = await w.app.inject({ method: 'GET', url: `/v1/campaigns/${id}`, headers: { cookie: b.cookie } });
    expect(data.statusCode).toBe(404);
    const live = await w.app.inject({ method: 'GET', url: `/v1/live/campaigns?ids=${id}`, headers: { cookie: b.cookie } });
    expect(live.statusCode).toBe(404);
  });

  it('speaks Spanish to es-* browsers and English otherwise', async () => {
    const es = await w.app.inject({ method: 'GET', url: '/console/sign-in', headers: { 'accept-language': 'es-CL,es;q=0.9,en;q=0.8' } });
    expect(es.body).toContain('<html lang="es">');
    const en = await w.app.inject({ method: 'GET', url: '/console/sign-in', headers: { 'accept-language': 'pt-BR,es;q=0.8' } });
    expect(en.body).toContain('<html lang="en">');
    const switched = await w.app.inject({ method: 'GET', url: '/console/sign-in', headers: { 'accept-language': 'es-CL', cookie: 'wce_lang=en' } });
    expect(switched.body).toContain('<html lang="en">');
  });
});

describe('upload preview', () => {
  const csv = iconv.encode('Teléfono;Nombre;Apellido;Monto\r\n+56 9 8765 4321;José;Muñoz;€ 1.000\r\n912345678;Ana;Pérez;500\r\n123;Mal;Número;1\r\n', 'windows-1252');

  it('shows the rows as the ingest reads them, with encoding, delimiter and mapping', async () => {
    const response = await w.tenantA.api.send(`/v1/uploads/preview?templateId=${sender.templateId}`, csv, 'application/octet-stream');
    expect(response.statusCode).toBe(200);
    const { preview } = response.json<{ preview: { encoding: string; delimiter: string; columns: string[]; mapping: { phoneColumn: string; variables: string[] }; rows: { line: number; ok: boolean; phone?: string; variables?: string[]; problem?: { code: string } }[] } }>();
    expect(preview).toMatchObject({ encoding: 'windows-1252', delimiter: ';', columns: ['Teléfono', 'Nombre', 'Apellido', 'Monto'] });
    // The template names its placeholders nombre and monto: those columns fill them.
    expect(preview.mapping).toMatchObject({ phoneColumn: 'Teléfono', variables: ['Nombre', 'Monto'] });
    expect(preview.rows[0]).toMatchObject({ line: 2, ok: true, phone: '+56987654321', variables: ['José', '€ 1.000'] });
    expect(preview.rows[2]).toMatchObject({ line: 4, ok: false, problem: { code: 'PHONE_INVALID' } });
  });

  it('follows a changed mapping', async () => {
    const response = await w.tenantA.api.send(`/v1/uploads/preview?templateId=${sender.templateId}&variables=Apellido,Monto`, csv, 'text/csv');
    const { preview } = response.json<{ preview: { mapping: { variables: string[] }; rows: { variables?: string[] }[] } }>();
    expect(preview.mapping.variables).toEqual(['Apellido', 'Monto']);
    expect(preview.rows[0]?.variables).toEqual(['Muñoz', '€ 1.000']);
  });

  it('reports a mapping that cannot work instead of failing', async () => {
    const response = await w.tenantA.api.send(`/v1/uploads/preview?templateId=${sender.templateId}&phoneColumn=Celular`, csv, 'text/csv');
    expect(response.statusCode).toBe(200);
    expect(response.json<{ preview: { mapping: unknown; mappingError: { code: string } } }>().preview).toMatchObject({ mapping: null, mappingError: { code: expect.any(String) } });
  });
});

describe('live snapshots', () => {
  it('twenty viewers of one campaign share one computation', async () => {
    const created = await w.tenantA.api.post('/v1/campaigns', { name: 'watched', accountId: sender.accountId, templateId: sender.templateId, recipients: [{ phone: '+56987650001', variables: ['a', 'b'] }] });
    const id = created.json<{ campaign: { id: string } }>().campaign.id;
    const { cookie } = await signIn(w.tenantA.apiKey);
    const controllers = Array.from({ length: 20 }, () => new AbortController());
    const before = hubTicks();
    const got: number[] = [];
    await Promise.all(controllers.map(async (controller, i) => {
      const response = await fetch(`${w.baseUrl}/v1/live/campaigns?ids=${id}`, { headers: { cookie }, signal: controller.signal });
      expect(response.headers.get('content-type')).toMatch(/text\/event-stream/);
      const reader = response.body?.getReader();
      let text = '';
      while (reader && !text.includes('event: campaign')) text += new TextDecoder().decode((await reader.read()).value);
      got[i] = 1;
      expect(text).toContain('"total":1');
    }));
    expect(got.filter(Boolean)).toHaveLength(20);
    // Let several ticks pass with all twenty connected: ticks grow by one per interval, not by twenty.
    const start = hubTicks();
    const startedAt = Date.now();
    await waitFor('five more ticks', async () => hubTicks() - start >= 5, 20_000);
    const elapsedTicks = (Date.now() - startedAt) / w.ctx.config.consoleLiveIntervalMs;
    expect(hubTicks() - start).toBeLessThanOrEqual(Math.ceil(elapsedTicks) + 2);
    expect(hubWatching().get(id)).toBe(20);
    for (const c of controllers) c.abort();
    await waitFor('viewers gone', async () => !hubWatching().has(id), 10_000);
    expect(before).toBeGreaterThanOrEqual(0);
  });
});

function hubTicks(): number {
  return (w.app as unknown as { consoleHub: { ticks: number } }).consoleHub.ticks;
}
function hubWatching(): Map<string, number> {
  return (w.app as unknown as { consoleHub: { watching(): Map<string, number> } }).consoleHub.watching();
}

describe('Bull Board', () => {
  it("shows a tenant its own queues only, read-only, and refuses other tenants' and all-queue routes", async () => {
    const other = await createSandboxSender(w.tenantB.api, w.sandbox.url, 10, 'B account');
    const a = await signIn(w.tenantA.apiKey);
    const b = await signIn(w.tenantB.apiKey);
    expect((await w.app.inject({ method: 'GET', url: '/admin/queues', headers: { cookie: a.cookie } })).statusCode).toBe(200);
    const list = await w.app.inject({ method: 'GET', url: '/admin/queues/api/queues', headers: { cookie: a.cookie } });
    expect(list.json<{ queues: { name: string }[] }>().queues.map((q) => q.name)).toEqual([sendQueueName(sender.accountId)]);
    const listB = await w.app.inject({ method: 'GET', url: '/admin/queues/api/queues', headers: { cookie: b.cookie } });
    expect(listB.json<{ queues: { name: string }[] }>().queues.map((q) => q.name)).toEqual([sendQueueName(other.accountId)]);
    const foreign = await w.app.inject({ method: 'GET', url: `/admin/queues/api/queues/${encodeURIComponent(sendQueueName(other.accountId))}/workers`, headers: { cookie: a.cookie } });
    expect(foreign.statusCode).toBe(404);
    const origin = { origin: 'http://localhost:80', host: 'localhost:80' };
    const pauseAll = await w.app.inject({ method: 'PUT', url: '/admin/queues/api/queues/pause', headers: { cookie: a.cookie, ...origin } });
    expect(pauseAll.statusCode).toBe(404);
    const crossSite = await w.app.inject({ method: 'PUT', url: `/admin/queues/api/queues/${encodeURIComponent(sendQueueName(sender.accountId))}/pause`, headers: { cookie: a.cookie, origin: 'https://evil.example', host: 'localhost:80' } });
    expect(crossSite.statusCode).toBe(403);
    const readOnly = await w.app.inject({ method: 'PUT', url: `/admin/queues/api/queues/${encodeURIComponent(sendQueueName(sender.accountId))}/pause`, headers: { cookie: a.cookie, ...origin } });
    expect(readOnly.statusCode).toBe(405); // BULL_BOARD_ACTIONS is false by default
  });

  it('is refused signed out', async () => {
    const page = await w.app.inject({ method: 'GET', url: '/admin/queues' });
    expect(page.statusCode).toBe(303);
    expect(page.headers.location).toMatch(/^\/console\/sign-in/);
    expect((await w.app.inject({ method: 'GET', url: '/admin/queues/api/queues' })).statusCode).toBe(401);
    expect((await w.app.inject({ method: 'GET', url: '/admin/queues/api/queues', headers: { authorization: `Bearer ${w.tenantA.apiKey}` } })).statusCode).toBe(401);
  });
});

describe('draft settings (the wizard\'s options step)', () => {
  it('sets and clears a draft\'s schedule, window, budget and options; refuses once it is not a draft', async () => {
    const created = await w.tenantA.api.post('/v1/campaigns', { name: 'options', accountId: sender.accountId, templateId: sender.templateId, recipients: [{ phone: '+56987650009', variables: ['a', 'b'] }] });
    const id = created.json<{ campaign: { id: string } }>().campaign.id;
    const startAt = new Date(Date.now() + 3_600_000).toISOString();
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const set = await w.tenantA.api.patch(`/v1/campaigns/${id}/settings`, {
      startAt, expiresAt, sendWindow: { start: '09:00', end: '20:30' }, errorBudget: 0.25, options: { buttonParams: [{ index: 0, subType: 'quick_reply', value: 'pagar' }] },
    });
    expect(set.statusCode).toBe(200);
    expect(set.json()).toMatchObject({ startAt, expiresAt, sendWindow: { start: '09:00', end: '20:30' }, errorBudget: 0.25, options: { buttonParams: [{ index: 0, value: 'pagar' }] } });
    const cleared = await w.tenantA.api.patch(`/v1/campaigns/${id}/settings`, { startAt: null, sendWindow: null, errorBudget: null });
    expect(cleared.json()).toMatchObject({ startAt: null, expiresAt, sendWindow: null, errorBudget: null });
    const bad = await w.tenantA.api.patch(`/v1/campaigns/${id}/settings`, { startAt: expiresAt, expiresAt: startAt });
    expect(bad.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    expect((await w.tenantB.api.patch(`/v1/campaigns/${id}/settings`, { errorBudget: 0.1 })).statusCode).toBe(404);
    await w.tenantA.api.post(`/v1/campaigns/${id}/start`);
    const late = await w.tenantA.api.patch(`/v1/campaigns/${id}/settings`, { errorBudget: 0.1 });
    expect({ status: late.statusCode, code: late.json().error.code }).toEqual({ status: 409, code: 'CAMPAIGN_NOT_DRAFT' });
  });

  it('asks for the header media an image template needs', async () => {
    const template = await w.tenantA.api.post('/v1/templates', { accountId: sender.accountId, name: 'promo_foto', body: 'Hola {{1}}', headerType: 'image' });
    const templateId = template.json<{ id: string }>().id;
    const created = await w.tenantA.api.post('/v1/campaigns', { name: 'media', accountId: sender.accountId, templateId, options: { headerMedia: { type: 'image', link: 'https://example.com/a.jpg' } } });
    const id = created.json<{ campaign: { id: string } }>().campaign.id;
    const missing = await w.tenantA.api.patch(`/v1/campaigns/${id}/settings`, { options: {} });
    expect(missing.json()).toMatchObject({ error: { code: 'TEMPLATE_MEDIA_REQUIRED' } });
  });
});

describe('time zone of the options step', () => {
  it('turns a wall-clock time in a chosen zone into the right instant', async () => {
    const path = '../../src/console/public/zones.js';
    const zones = (await import(path)) as { zonedToIso(local: string, zone: string): string | null };
    expect(zones.zonedToIso('2026-12-05T09:30', 'America/Santiago')).toBe('2026-12-05T12:30:00.000Z'); // summer time, UTC-3
    expect(zones.zonedToIso('2026-07-01T09:30', 'America/Santiago')).toBe('2026-07-01T13:30:00.000Z'); // winter, UTC-4
    expect(zones.zonedToIso('2026-12-05T09:30', 'America/Bogota')).toBe('2026-12-05T14:30:00.000Z');
    expect(zones.zonedToIso('', 'UTC')).toBeNull();
  });
});
