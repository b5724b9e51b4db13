/**
 * Meta template sync, pure: the GET /{wabaId}/message_templates request and its pages parsed
 * into normalized records, with Graph's paging.next (which can carry the token) never surfaced.
 */
import { describe, expect, it } from 'vitest';
import {
  META_DEFAULT_API_VERSION,
  buildMetaListTemplatesRequest,
  parseMetaListTemplatesResponse,
  type MetaConfig,
  type MetaCredentials,
} from '../../src/providers/meta/index.js';
import type { AccountSettings, HttpResponse } from '../../src/providers/types.js';

const TOKEN = 'EAAsecretMetaToken987654321';
const account = (config: Partial<MetaConfig> = {}): AccountSettings<MetaConfig, MetaCredentials> => ({
  id: 'acc-meta',
  config: { phoneNumberId: '106540352242922', wabaId: '102290129340398', ...config },
  credentials: { accessToken: TOKEN },
});
const response = (status: number, body: unknown): HttpResponse => ({ status, headers: {}, body: JSON.stringify(body) });

const orderUpdate = {
  name: 'order_update',
  language: 'es_AR',
  status: 'APPROVED',
  category: 'UTILITY',
  id: '1234567890',
  components: [
    { type: 'HEADER', format: 'IMAGE', example: { header_handle: ['https://scontent.example/x'] } },
    { type: 'BODY', text: 'Hola {{1}}, tu pedido {{2}} salió. Gracias {{1}}.', example: { body_text: [['Ana', 'A-1']] } },
    {
      type: 'BUTTONS',
      buttons: [
        { type: 'QUICK_REPLY', text: 'Dejar de recibir' },
        { type: 'URL', text: 'Ver pedido', url: 'https://shop.example/orders/{{1}}', example: ['https://shop.example/orders/A-1'] },
        { type: 'PHONE_NUMBER', text: 'Llamar', phone_number: '+5491155174499' },
      ],
    },
  ],
};

describe('Meta template sync request', () => {
  it('GETs the WABA edge with the fields it needs, a page size, and the cursor when paging', () => {
    const first = buildMetaListTemplatesRequest(account());
    expect(first).toEqual({
      method: 'GET',
      url: `https://graph.facebook.com/${META_DEFAULT_API_VERSION}/102290129340398/message_templates?fields=id%2Cname%2Clanguage%2Cstatus%2Ccategory%2Cparameter_format%2Ccomponents&limit=100`,
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    expect(buildMetaListTemplatesRequest(account(), 'QVFIUmxx').url).toMatch(/&after=QVFIUmxx$/);
  });

  it('needs the WABA id', () => {
    expect(() => buildMetaListTemplatesRequest(account({ wabaId: undefined }))).toThrow(/wabaId/);
  });
});

describe('Meta template sync response', () => {
  it('maps a template: body, distinct placeholders, header, buttons in order', () => {
    const result = parseMetaListTemplatesResponse(response(200, { data: [orderUpdate], paging: { cursors: { before: 'QVFI', after: 'QVFJ' } } }));
    expect(result).toEqual({
      ok: true,
      skipped: [],
      nextCursor: null,
      templates: [
        {
          externalId: '1234567890',
          name: 'order_update',
          body: 'Hola {{1}}, tu pedido {{2}} salió. Gracias {{1}}.',
          paramCount: 2,
          paramNames: [],
          language: 'es_AR',
          category: 'UTILITY',
          status: 'approved',
          providerStatus: 'APPROVED',
          headerFormat: 'IMAGE',
          headerType: 'image',
          buttons: [
            { type: 'QUICK_REPLY', text: 'Dejar de recibir' },
            { type: 'URL', text: 'Ver pedido', url: 'https://shop.example/orders/{{1}}', urlExample: 'https://shop.example/orders/A-1' },
            { type: 'PHONE_NUMBER', text: 'Llamar', phoneNumber: '+5491155174499' },
          ],
        },
      ],
    });
  });

  it.each([
    ['APPROVED', 'approved'],
    ['PENDING', 'pending'],
    ['REJECTED', 'rejected'],
    ['PAUSED', 'paused'],
    ['DISABLED', 'disabled'],
    ['IN_APPEAL', 'pending'],
    ['PENDING_DELETION', 'disabled'],
    ['SOMETHING_NEW', 'pending'],
  ])('status %s -> %s', (status, mapped) => {
    const result = parseMetaListTemplatesResponse(response(200, { data: [{ ...orderUpdate, status }] }));
    expect(result.ok && result.templates[0]).toMatchObject({ status: mapped, providerStatus: status });
  });

  it('counts named placeholders for a NAMED template, and lists their names', () => {
    const named = { ...orderUpdate, parameter_format: 'NAMED', components: [{ type: 'BODY', text: 'Hola {{first_name}}, pedido {{order_id}} ({{first_name}})' }] };
    const result = parseMetaListTemplatesResponse(response(200, { data: [named] }));
    expect(result.ok && result.templates[0]).toMatchObject({ paramCount: 2, paramNames: ['first_name', 'order_id'], headerFormat: null, headerType: 'none', buttons: [] });
  });

  it.each([
    ['TEXT', 'text'],
    ['IMAGE', 'image'],
    ['VIDEO', 'video'],
    ['DOCUMENT', 'document'],
    ['image', 'image'],
    // The engine cannot send a location: no kind of its own, so Meta's refusal pauses the campaign.
    ['LOCATION', 'none'],
  ])('header format %s -> headerType %s', (format, headerType) => {
    const components = [{ type: 'HEADER', format }, { type: 'BODY', text: 'Hola' }];
    const result = parseMetaListTemplatesResponse(response(200, { data: [{ ...orderUpdate, components }] }));
    expect(result.ok && result.templates[0]).toMatchObject({ headerFormat: format, headerType });
  });

  it('returns the cursor, never the next URL (it can carry the access token)', () => {
    const next = `https://graph.facebook.com/v24.0/102290129340398/message_templates?access_token=${TOKEN}&limit=1&after=QVFJ`;
    const withCursor = parseMetaListTemplatesResponse(response(200, { data: [orderUpdate], paging: { cursors: { before: 'QVFI', after: 'QVFJ' }, next } }));
    expect(withCursor).toMatchObject({ ok: true, nextCursor: 'QVFJ' });
    const withoutCursor = parseMetaListTemplatesResponse(response(200, { data: [orderUpdate], paging: { next } }));
    expect(withoutCursor).toMatchObject({ ok: true, nextCursor: 'QVFJ' });
    expect(JSON.stringify([withCursor, withoutCursor])).not.toContain(TOKEN);
  });

  it('skips entries it cannot read, counts unknown categories as MARKETING', () => {
    const result = parseMetaListTemplatesResponse(response(200, { data: [{ name: 'broken' }, { ...orderUpdate, category: 'NEW_KIND' }] }));
    expect(result.ok && result.skipped.map((s) => s.index)).toEqual([0]);
    expect(result.ok && result.templates[0]?.category).toBe('MARKETING');
  });

  it('an error pauses or retries like a send', () => {
    const expired = { error: { message: 'Error validating access token', type: 'OAuthException', code: 190, fbtrace_id: 'x' } };
    expect(parseMetaListTemplatesResponse(response(401, expired))).toMatchObject({ ok: false, outcome: { kind: 'account_error', code: 'ACCOUNT_AUTH_FAILED' } });
    expect(parseMetaListTemplatesResponse(response(200, { templates: [] }))).toMatchObject({ ok: false, outcome: { code: 'PROVIDER_UNDOCUMENTED_RESPONSE' } });
    expect(parseMetaListTemplatesResponse({ status: 503, headers: {}, body: 'down' })).toMatchObject({ ok: false, outcome: { code: 'PROVIDER_UNAVAILABLE' } });
  });
});
