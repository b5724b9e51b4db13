/**
 * A local WhatsApp Cloud API: a real HTTP server on 127.0.0.1 speaking Graph's format for
 * `POST /{version}/{phoneNumberId}/messages` and `GET /{version}/{wabaId}/message_templates`.
 * It refuses what Meta refuses: a bad token (190), an unknown template or one not approved
 * (132001), a paused or disabled one (132015, 132016), a wrong body parameter count (132000), a
 * missing media header (132012) or URL button parameter (131008), a malformed body (100), and a
 * second message to one user inside the pair-rate window (131056) when that window is set.
 *
 * A send to a phone number id other than the fake's gets Graph's "Object with ID ... does not
 * exist" (code 100, subcode 33), as a wrong `phoneNumberId` does at Meta.
 *
 * Every request is recorded; `deliveries` lists each accepted message, so end-to-end tests can
 * assert that a phone got at most one. `failNext(code)` answers the next request(s) with any
 * code of the notes' table, as Meta words it; `script()` forces any raw reply, a hang or a
 * dropped connection. Both can be aimed at one path and/or one recipient (`phone`: the digits of
 * the body's `to`), so a test with many sends in flight scripts the one it means.
 */
import type { IncomingMessage } from 'node:http';
import { type AnswerReply, fakeControls, type FakeScriptOptions, parseJsonBody, type ScriptedReply, startScriptedServer } from './scripted-http-server.js';

export type { AnswerReply, ScriptedReply };
export type RecordedRequest = { method: string; path: string; query: URLSearchParams; headers: IncomingMessage['headers']; body: string; json: unknown };
/** `phone`: the recipient's digits (the body's `to` without its +). */
export type ScriptOptions = FakeScriptOptions<'phone'>;

export type FakeMetaTemplate = {
  id: string;
  name: string;
  language: string;
  status: 'APPROVED' | 'PENDING' | 'REJECTED' | 'PAUSED' | 'DISABLED';
  category: 'MARKETING' | 'UTILITY' | 'AUTHENTICATION';
  components: { type: string; format?: string; text?: string; buttons?: { type: string; text: string; url?: string; phone_number?: string; example?: string[] }[] }[];
};
export type MetaDelivery = { to: string; waId: string; messageId: string; template: string };

export type FakeMetaOptions = {
  token?: string;
  phoneNumberId?: string;
  wabaId?: string;
  /** Second message to one user within this many ms gets 131056. Default 0 (off). */
  pairRateWindowMs?: number;
};

export type FakeMeta = {
  url: string;
  token: string;
  phoneNumberId: string;
  wabaId: string;
  requests: RecordedRequest[];
  deliveries: MetaDelivery[];
  templates: FakeMetaTemplate[];
  /** Recipient digits -> the error code Meta answers for them (131026, 131050, ...). */
  recipientErrors: Map<string, number>;
  addTemplate(template: {
    name: string;
    language?: string;
    body: string;
    status?: FakeMetaTemplate['status'];
    category?: FakeMetaTemplate['category'];
    headerFormat?: 'TEXT' | 'IMAGE' | 'VIDEO' | 'DOCUMENT';
    buttons?: { type: 'QUICK_REPLY' | 'URL' | 'PHONE_NUMBER'; text: string; url?: string; phone_number?: string; example?: string[] }[];
  }): FakeMetaTemplate;
  /** The next `times` requests (to `path` / for `phone`, if given) get Meta's error `code`. */
  failNext(code: number, options?: ScriptOptions & { status?: number; details?: string }): void;
  /** The next `times` requests (to `path` / for `phone`, if given) get `reply` instead of the normal answer. */
  script(reply: ScriptedReply, options?: ScriptOptions): void;
  close(): Promise<void>;
};

/** Meta's HTTP status and wording for each code of the notes' table. */
const META_ERRORS: Readonly<Record<number, { status: number; message: string; type?: string }>> = {
  0: { status: 401, message: '(#0) AuthException', type: 'OAuthException' },
  1: { status: 400, message: '(#1) API Unknown' },
  2: { status: 503, message: '(#2) Service temporarily unavailable' },
  3: { status: 500, message: '(#3) Application does not have the capability to make this API call.' },
  4: { status: 400, message: '(#4) Application request limit reached' },
  10: { status: 403, message: '(#10) Application does not have permission for this action' },
  100: { status: 400, message: '(#100) Invalid parameter' },
  190: { status: 401, message: 'Error validating access token: Session has expired.', type: 'OAuthException' },
  200: { status: 403, message: '(#200) Permissions error' },
  299: { status: 403, message: '(#299) Permissions error' },
  368: { status: 403, message: '(#368) Temporarily blocked for policies violations' },
  80007: { status: 400, message: '(#80007) Rate limit issues' },
  130403: { status: 400, message: '(#130403) Message failed to send' },
  130429: { status: 400, message: '(#130429) Rate limit hit' },
  131000: { status: 500, message: '(#131000) Something went wrong' },
  131008: { status: 400, message: '(#131008) Required parameter is missing' },
  131009: { status: 400, message: '(#131009) Parameter value is not valid' },
  131016: { status: 503, message: '(#131016) Service unavailable' },
  131021: { status: 400, message: '(#131021) Recipient cannot be sender' },
  131026: { status: 400, message: '(#131026) Message undeliverable' },
  131031: { status: 403, message: '(#131031) Business Account locked' },
  131042: { status: 400, message: '(#131042) Business eligibility payment issue' },
  131047: { status: 400, message: '(#131047) Re-engagement message' },
  131048: { status: 400, message: '(#131048) Spam rate limit hit' },
  131049: { status: 400, message: '(#131049) This message was not delivered to maintain healthy ecosystem engagement.' },
  131050: { status: 400, message: '(#131050) User has stopped marketing messages' },
  131056: { status: 400, message: '(#131056) (Business Account, Consumer Account) pair rate limit hit' },
  131057: { status: 503, message: '(#131057) Account in maintenance mode' },
  131064: { status: 400, message: '(#131064) Message failed to send' },
  132000: { status: 400, message: '(#132000) Number of parameters does not match the expected number of params' },
  132001: { status: 404, message: '(#132001) Template name does not exist in the translation' },
  132005: { status: 400, message: '(#132005) Translated text too long' },
  132007: { status: 400, message: '(#132007) Template Format Character Policy Violated' },
  132012: { status: 400, message: '(#132012) Parameter format does not match format in the created template' },
  132015: { status: 400, message: '(#132015) Template is Paused' },
  132016: { status: 400, message: '(#132016) Template is Disabled' },
  133004: { status: 503, message: '(#133004) Server temporarily unavailable' },
};
export const FAKE_META_ERROR_CODES: readonly number[] = Object.keys(META_ERRORS).map(Number);

let traceCounter = 0;

export function metaErrorReply(code: number, details?: string, status?: number): AnswerReply {
  const known = META_ERRORS[code] ?? { status: 400, message: `(#${code}) Error` };
  traceCounter += 1;
  const error = {
    message: known.message,
    type: known.type ?? 'OAuthException',
    code,
    error_data: { messaging_product: 'whatsapp', details: details ?? known.message.replace(/^\(#\d+\) /, '') },
    fbtrace_id: `AbCdEf${traceCounter}`,
  };
  return { status: status ?? known.status, body: JSON.stringify({ error }), headers: { 'content-type': 'application/json' } };
}

/** Graph's answer for a request whose URL names an id it does not know (a wrong phone number or WABA id). */
export function objectMissingReply(id: string, method: 'get' | 'post'): AnswerReply {
  traceCounter += 1;
  const error = {
    message: `Unsupported ${method} request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api`,
    type: 'GraphMethodException',
    code: 100,
    error_subcode: 33,
    fbtrace_id: `AbCdEf${traceCounter}`,
  };
  return { status: 400, body: JSON.stringify({ error }), headers: { 'content-type': 'application/json' } };
}

const ok = (body: unknown): ScriptedReply => ({ status: 200, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function distinctParams(text: string): number {
  return new Set([...text.matchAll(/\{\{\s*([^}\s]+)\s*\}\}/g)].map((m) => m[1])).size;
}

/** Argentina's wa_id keeps the mobile 9 even when the number was sent without it. */
function waIdOf(digits: string): string {
  return digits.startsWith('54') && !digits.startsWith('549') ? `549${digits.slice(2)}` : digits;
}

export async function startFakeMeta(opts: FakeMetaOptions = {}): Promise<FakeMeta> {
  const token = opts.token ?? 'EAAmetaTestToken0123456789';
  const phoneNumberId = opts.phoneNumberId ?? '106540352242922';
  const wabaId = opts.wabaId ?? '102290129340398';
  const pairRateWindowMs = opts.pairRateWindowMs ?? 0;
  const requests: RecordedRequest[] = [];
  const deliveries: MetaDelivery[] = [];
  const templates: FakeMetaTemplate[] = [];
  const recipientErrors = new Map<string, number>();
  const lastSentAt = new Map<string, number>();
  let messageCounter = 0;
  let templateCounter = 0;
  let url = '';

  function sendMessage(body: Record<string, unknown> | undefined): ScriptedReply {
    if (!body || body.messaging_product !== 'whatsapp') return metaErrorReply(100, 'The parameter messaging_product is required.');
    if (typeof body.to !== 'string' || !/\d{6,}/.test(body.to)) return metaErrorReply(100, 'The parameter to is required.');
    if (body.type !== 'template') return metaErrorReply(100, 'This fake sends templates only.');
    const requested = asRecord(body.template);
    const language = asRecord(requested?.language)?.code;
    const template = templates.find((t) => t.name === requested?.name && t.language === language);
    if (!template) return metaErrorReply(132001, `template name (${String(requested?.name)}) does not exist in ${String(language)}`);
    if (template.status === 'PAUSED') return metaErrorReply(132015, `Template ${template.name} is paused`);
    if (template.status === 'DISABLED') return metaErrorReply(132016, `Template ${template.name} is disabled`);
    if (template.status !== 'APPROVED') return metaErrorReply(132001, `template name (${template.name}) is not approved in ${template.language}`);

    const components = (Array.isArray(requested?.components) ? requested.components : []).map(asRecord);
    const byType = (type: string) => components.filter((c) => c?.type === type);
    const expected = distinctParams(template.components.find((c) => c.type === 'BODY')?.text ?? '');
    const bodyParams = byType('body').flatMap((c) => (Array.isArray(c?.parameters) ? c.parameters : []));
    if (bodyParams.length !== expected) {
      return metaErrorReply(132000, `body: number of localizable_params (${bodyParams.length}) does not match the expected number of params (${expected})`);
    }
    const headerFormat = template.components.find((c) => c.type === 'HEADER')?.format;
    if (headerFormat && headerFormat !== 'TEXT') {
      const media = asRecord((byType('header')[0]?.parameters as unknown[] | undefined)?.[0]);
      const kind = headerFormat.toLowerCase();
      const source = asRecord(media?.[kind]);
      if (media?.type !== kind || (!source?.link && !source?.id)) {
        return metaErrorReply(132012, `header: Format mismatch, expected ${headerFormat}, received ${String(media?.type ?? 'UNKNOWN').toUpperCase()}`);
      }
    }
    const buttons = template.components.find((c) => c.type === 'BUTTONS')?.buttons ?? [];
    for (const [index, button] of buttons.entries()) {
      if (button.type !== 'URL' || !/\{\{\d+\}\}/.test(button.url ?? '')) continue;
      if (!byType('button').some((c) => c?.sub_type === 'url' && String(c.index) === String(index))) {
        return metaErrorReply(131008, `buttons: Button at index ${index} of type Url requires a parameter`);
      }
    }

    const digits = body.to.replace(/\D/g, '');
    const recipientError = recipientErrors.get(digits);
    if (recipientError !== undefined) return metaErrorReply(recipientError);
    const now = Date.now();
    const last = lastSentAt.get(digits);
    if (pairRateWindowMs > 0 && last !== undefined && now - last < pairRateWindowMs) return metaErrorReply(131056);
    lastSentAt.set(digits, now);

    messageCounter += 1;
    const messageId = `wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI${String(messageCounter).padStart(6, '0')}`;
    const waId = waIdOf(digits);
    deliveries.push({ to: body.to, waId, messageId, template: template.name });
    return ok({ messaging_product: 'whatsapp', contacts: [{ input: body.to, wa_id: waId }], messages: [{ id: messageId }] });
  }

  function listTemplates(path: string, query: URLSearchParams): ScriptedReply {
    const limit = Math.max(1, Number(query.get('limit') ?? 25));
    const offset = query.get('after') ? Number(Buffer.from(query.get('after') ?? '', 'base64url').toString()) : 0;
    const page = templates.slice(offset, offset + limit);
    const cursor = (n: number) => Buffer.from(String(n)).toString('base64url');
    const after = cursor(offset + page.length);
    const hasMore = offset + page.length < templates.length;
    // Graph's paging.next repeats the query, access_token included when it came that way:
    // written here with the token so the adapter's refusal to surface it is tested.
    const next = `${url}${path}?access_token=${token}&limit=${limit}&after=${after}`;
    return ok({ data: page, paging: { cursors: { before: cursor(offset), after }, ...(hasMore ? { next } : {}) } });
  }

  function answer(method: string, path: string, query: URLSearchParams, headers: IncomingMessage['headers'], parsed: unknown): ScriptedReply {
    if (headers.authorization !== `Bearer ${token}`) {
      return { ...metaErrorReply(190, 'Invalid OAuth access token - Cannot parse access token'), status: 401 };
    }
    const send = /^\/v\d+\.\d+\/(\d+)\/messages$/.exec(path);
    if (send && method === 'POST') {
      if (send[1] !== phoneNumberId) return objectMissingReply(send[1] ?? '', 'post');
      return sendMessage(asRecord(parsed));
    }
    const list = /^\/v\d+\.\d+\/(\d+)\/message_templates$/.exec(path);
    if (list && method === 'GET') {
      if (list[1] !== wabaId) return objectMissingReply(list[1] ?? '', 'get');
      return listTemplates(path, query);
    }
    return metaErrorReply(100, `Unknown path components: ${path}`);
  }

  const server = await startScriptedServer((request) => {
    const json = parseJsonBody(request.body);
    requests.push({ method: request.method, path: request.path, query: request.query, headers: request.headers, body: request.body, json });
    const to = asRecord(json)?.to;
    return {
      recipient: typeof to === 'string' ? to.replace(/\D/g, '') : undefined,
      answer: () => answer(request.method, request.path, request.query, request.headers, json),
    };
  });
  url = server.url;

  const controls = fakeControls(server, 'phone');

  return {
    token,
    phoneNumberId,
    wabaId,
    requests,
    deliveries,
    templates,
    recipientErrors,
    addTemplate: (t) => {
      templateCounter += 1;
      const template: FakeMetaTemplate = {
        id: String(1_000_000 + templateCounter),
        name: t.name,
        language: t.language ?? 'es_AR',
        status: t.status ?? 'APPROVED',
        category: t.category ?? 'MARKETING',
        components: [
          ...(t.headerFormat ? [{ type: 'HEADER', format: t.headerFormat }] : []),
          { type: 'BODY', text: t.body },
          ...(t.buttons ? [{ type: 'BUTTONS', buttons: t.buttons }] : []),
        ],
      };
      templates.push(template);
      return template;
    },
    failNext: (code, options = {}) => controls.script(metaErrorReply(code, options.details, options.status), options),
    ...controls,
  };
}
