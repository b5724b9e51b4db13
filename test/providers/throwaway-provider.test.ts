/**
 * Adding a provider is adding its folder and one registry line. This file proves it with a
 * provider that exists only here ("parrot"): registered at run time, it goes through the
 * engine's webhook parsing, its template listing (with paging, against a local server speaking
 * parrot's format), settings checks and labels, with no edit anywhere in src/.
 *
 * A second test keeps the rule from eroding: outside src/providers/, no source switches on a
 * provider's name.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ProviderAccount } from '../../src/db/database.js';
import { AppError } from '../../src/errors.js';
import { checkAccountSettings } from '../../src/providers/account-settings.js';
import { outcome, parseJson } from '../../src/providers/outcome.js';
import { adapterFor, providerLabel, registerAdapter, supportedProviders, webhookProviders } from '../../src/providers/registry.js';
import { PROVIDERS, WebhookFormatError, type ProviderAdapter, type ProviderName, type TemplatePage } from '../../src/providers/types.js';
import { fetchProviderTemplates } from '../../src/templates/fetch-provider-templates.js';
import type { LoadedAccount } from '../../src/templates/provider-account.js';
import { hasWebhooks, parseWebhook } from '../../src/webhooks/parse-webhook.js';
import { startScriptedServer, type ScriptedServer } from '../fakes/scripted-http-server.js';

const PARROT = 'parrot' as ProviderName;

const parrotConfig = z.object({ baseUrl: z.url() });
const parrotCredentials = z.object({ token: z.string().min(8) });
type ParrotConfig = z.infer<typeof parrotConfig>;
type ParrotCredentials = z.infer<typeof parrotCredentials>;

const parrotEvent = z.object({ id: z.string(), phone: z.string(), status: z.enum(['delivered', 'read']).optional(), text: z.string().optional() });

/** The whole provider, as its folder would hold it: send, webhook, templates. */
const parrotAdapter: ProviderAdapter<ParrotConfig, ParrotCredentials> = {
  provider: PARROT,
  label: 'Parrot Messaging',
  configSchema: parrotConfig,
  credentialsSchema: parrotCredentials,
  buildSendRequest: (message, account) => ({
    method: 'POST',
    url: `${account.config.baseUrl}/send`,
    headers: { authorization: `Token ${account.credentials.token}` },
    body: JSON.stringify({ to: message.phone, template: message.template.name }),
  }),
  parseSendResponse: (response) => outcome(response.status === 200 ? 'SENT' : 'PROVIDER_UNAVAILABLE', 'parrot'),
  webhook: {
    parse({ body }) {
      const list = z.array(parrotEvent).safeParse(parseJson(body));
      if (!list.success) throw new WebhookFormatError('parrot webhook: the body is not a list of events.');
      return {
        events: list.data.map((e) =>
          e.status
            ? { type: 'status' as const, providerMessageId: e.id, reference: null, phone: e.phone, status: e.status, occurredAt: new Date(0) }
            : { type: 'inbound' as const, providerMessageId: e.id, reference: null, phone: e.phone, text: e.text ?? null, buttonPayload: null, occurredAt: new Date(0) },
        ),
        ignored: 0,
      };
    },
    statusesByPhone: false,
  },
  templates: {
    list: {
      buildListRequest: (account, cursor) => ({
        method: 'GET',
        url: `${account.config.baseUrl}/templates${cursor ? `?page=${cursor}` : ''}`,
        headers: { authorization: `Token ${account.credentials.token}` },
      }),
      parseListResponse(response): TemplatePage {
        const page = z
          .object({ items: z.array(z.unknown()), next: z.string().nullable() })
          .safeParse(parseJson(response.body));
        if (!page.success) return { ok: false, outcome: outcome('PROVIDER_UNDOCUMENTED_RESPONSE', 'parrot answered something else') };
        const templates: TemplatePage & { ok: true } = { ok: true, templates: [], skipped: [], nextCursor: page.data.next };
        page.data.items.forEach((item, index) => {
          const t = z.object({ name: z.string(), text: z.string() }).safeParse(item);
          if (!t.success) templates.skipped.push({ index, problem: 'no name or text' });
          else {
            templates.templates.push({
              externalId: null,
              name: t.data.name,
              language: 'es',
              category: 'UTILITY',
              body: t.data.text,
              paramCount: 0,
              paramNames: null,
              status: 'approved',
              headerType: 'none',
              buttons: [],
            });
          }
        });
        return templates;
      },
    },
    createInstead: 'create it in the Parrot console, then sync',
  },
};

let server: ScriptedServer;
let unregister: () => void;
const requests: { path: string; query: string; authorization: string | undefined }[] = [];

beforeAll(async () => {
  unregister = registerAdapter(parrotAdapter);
  server = await startScriptedServer((request) => {
    requests.push({ path: request.path, query: request.query.toString(), authorization: request.headers.authorization });
    const page = request.query.get('page');
    const body =
      page === null
        ? { items: [{ name: 'bienvenida', text: 'Hola' }], next: 'p2' }
        : { items: [{ text: 'sin nombre' }, { name: 'recordatorio', text: 'Mañana' }], next: null };
    return { answer: () => ({ status: 200, body: JSON.stringify(body) }) };
  });
});

afterAll(async () => {
  unregister?.();
  await server?.close();
});

function loaded(config: ParrotConfig, credentials: ParrotCredentials): LoadedAccount {
  const row = { id: 'parrot-account', provider: PARROT, name: 'Parrot', config, credentials } as unknown as ProviderAccount;
  return { row, provider: PARROT, settings: { id: row.id, config, credentials } };
}

describe('a throwaway provider, registered in this test only', () => {
  it('is known to the registry by name and label, and its settings are checked by its own schemas', () => {
    expect(supportedProviders()).toContain(PARROT);
    expect(adapterFor(PARROT)).toBe(parrotAdapter);
    expect(providerLabel(PARROT)).toBe('Parrot Messaging');
    expect(checkAccountSettings(PARROT, 'a', { baseUrl: 'https://parrot.example' }, { token: 'abcdefgh' })).toMatchObject({ ok: true });
    expect(checkAccountSettings(PARROT, 'a', { baseUrl: 'nope' }, { token: 'short' })).toEqual({
      ok: false,
      problems: [expect.stringMatching(/^config\.baseUrl: /), 'credentials.token: invalid'],
    });
    // Registering a name twice is refused: a provider never changes under running code.
    expect(() => registerAdapter(parrotAdapter)).toThrow(RangeError);
  });

  it('goes through the engine\'s webhook parsing: events out, text cleaned of NUL, its format errors as WebhookFormatError', () => {
    expect(hasWebhooks(PARROT)).toBe(true);
    expect(webhookProviders()).toContain(PARROT);
    const body = JSON.stringify([
      { id: 'm-1', phone: '+573001112233', status: 'read' },
      { id: 'm-2', phone: '+573001112233', text: 'ho\u0000la' },
    ]);
    expect(parseWebhook(PARROT, body, 'application/json')).toEqual({
      events: [
        expect.objectContaining({ type: 'status', providerMessageId: 'm-1', status: 'read' }),
        expect.objectContaining({ type: 'inbound', providerMessageId: 'm-2', text: 'hola' }),
      ],
      ignored: 0,
    });
    expect(() => parseWebhook(PARROT, '{"not":"a list"}', 'application/json')).toThrow(WebhookFormatError);
  });

  it('goes through the engine\'s template listing, every page, with its skipped entry named by page', async () => {
    requests.length = 0;
    const listing = await fetchProviderTemplates(loaded({ baseUrl: server.url }, { token: 'parrot-secret-1' }), 5_000);
    expect(listing.templates.map((t) => t.name)).toEqual(['bienvenida', 'recordatorio']);
    expect(listing.skipped).toEqual([{ name: 'page 2 #1', problem: 'no name or text', named: false }]);
    expect(requests).toEqual([
      { path: '/templates', query: '', authorization: 'Token parrot-secret-1' },
      { path: '/templates', query: 'page=p2', authorization: 'Token parrot-secret-1' },
    ]);
  });

  it('without the capability it lacks (creation), the engine refuses in the provider\'s own words', async () => {
    const { createProviderTemplate } = await import('../../src/templates/create-provider-template.js');
    expect(parrotAdapter.templates?.create).toBeUndefined();
    // The refusal comes from the capability's absence, before any provider call.
    const refusal = await createProviderTemplate(
      { prisma: { providerAccount: { findFirst: async () => loaded({ baseUrl: server.url }, { token: 'parrot-secret-1' }).row } } } as never,
      'tenant',
      'parrot-account',
      { name: 'x', body: 'Hola', example: 'Hola', category: 'UTILITY', language: 'es' },
      { timeoutMs: 1_000 },
    ).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(AppError);
    expect(refusal).toMatchObject({ code: 'TEMPLATE_CREATION_UNSUPPORTED', message: expect.stringContaining('Parrot Messaging') });
    expect((refusal as AppError).message).toContain('create it in the Parrot console, then sync');
  });

  it('once taken away, it is unknown again (the engine kept no copy)', () => {
    unregister();
    expect(adapterFor(PARROT)).toBeUndefined();
    expect(hasWebhooks(PARROT)).toBe(false);
    expect(() => parseWebhook(PARROT, '[]', null)).toThrow(RangeError);
    unregister = registerAdapter(parrotAdapter);
  });
});

describe('outside src/providers/, nothing switches on a provider name', () => {
  const root = join(import.meta.dirname, '../../src');
  /** Files that may still name one provider, each with its reason. */
  const ALLOWED: Record<string, string> = {
    // A route of Adereso's own API (replies inside an Adereso ticket): one provider by definition.
    'messages/adereso-messages.ts': 'Adereso-only feature',
    // The demo creates a sandbox account: a value, not a decision.
    'cli/demo.ts': 'demo data',
  };

  function sources(dir: string): string[] {
    return readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return name === 'providers' || name === 'generated' ? [] : sources(path);
      return path.endsWith('.ts') ? [path] : [];
    });
  }

  it('no `case \'<provider>\'` and no comparison with a provider name in src/ outside src/providers/', () => {
    const names = PROVIDERS.join('|');
    const decision = new RegExp(`case\\s+'(${names})'|[!=]==?\\s*'(${names})'|'(${names})'\\s*[!=]==?|provider\\s*=\\s*'(${names})'`);
    const files = sources(root);
    expect(files.length).toBeGreaterThan(50);
    const found = files
      .map((path) => ({ file: relative(root, path), lines: readFileSync(path, 'utf8').split('\n').filter((line) => decision.test(line)) }))
      .filter((hit) => hit.lines.length > 0 && !(hit.file in ALLOWED));
    expect(found).toEqual([]);
  });
});
