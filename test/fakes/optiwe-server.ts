/**
 * A local Optiwe: a real HTTP server on 127.0.0.1 that speaks the manual's format
 * ("Manejo y envío de plantillas de WhatsApp") and refuses what the manual says Optiwe refuses:
 * a bad token (401 NOT_AUTHENTICATED), a single-send text that matches no template
 * (TEMPLATE_NOT_FOUND) or an unapproved one, bad numbers, opted-out customers, unknown customer
 * fields, the tier limit, the request quota, missing bulk placeholders (422).
 *
 * Every request is recorded; `deliveries` lists each customer Optiwe took, so end-to-end tests
 * can assert that a phone got at most one message. `script()` forces any reply (a hang, a
 * dropped connection) for the next request(s), to reach outcomes the state alone cannot,
 * optionally only for one path and/or one single-send customer (`phone`: country code and
 * number as sent, "+541155174499").
 */
import type { IncomingMessage } from 'node:http';
import { fakeControls, type FakeScriptOptions, parseJsonBody, type ScriptedReply, startScriptedServer } from './scripted-http-server.js';

export type { ScriptedReply };
export type RecordedRequest = { method: string; path: string; headers: IncomingMessage['headers']; body: string; json: unknown };
/** `phone`: a single send's customerCountryCode + customerPhone ("+541155174499"). */
export type ScriptOptions = FakeScriptOptions<'phone'>;

export type FakeOptiweButton = { type: 'QUICK_REPLY' | 'URL' | 'PHONE_NUMBER'; text: string; url?: string; urlExample?: string; phoneNumber?: string };
export type FakeOptiweTemplate = {
  id: number;
  key: string;
  name: string;
  text: string;
  status: 'IN_REVIEW' | 'APPROVED' | 'DENIED';
  category: string;
  templateType: string;
  language: string;
  createdOn: string;
  updatedOn: string;
  buttons?: FakeOptiweButton[];
};
/** One customer Optiwe accepted: the full phone as Optiwe writes it ("+541155174499"). */
export type Delivery = { phone: string; text: string; via: 'single' | 'bulk'; campaignId?: number };

export type FakeOptiweOptions = {
  token?: string;
  /** WHATSAPP_OUTBOUND_NOT_ENABLED when false. Default true. */
  outboundEnabled?: boolean;
  /** Distinct customers reachable before WHATSAPP_OUTBOUND_LIMIT_EXCEEDED. Default unlimited. */
  tierLimit?: number;
  /** Requests per endpoint before REQUESTS_LIMIT_REACHED. Default unlimited. */
  requestLimit?: number;
  /** Customer fields defined in the workspace. Default dni, customerField1. */
  workspaceFields?: string[];
};

export type FakeOptiwe = {
  url: string;
  token: string;
  requests: RecordedRequest[];
  deliveries: Delivery[];
  templates: FakeOptiweTemplate[];
  options: Required<FakeOptiweOptions>;
  /** Full phones ("+543442000000") Optiwe calls invalid. */
  invalidNumbers: Set<string>;
  /** Full phones of customers who opted out. */
  optedOut: Set<string>;
  addTemplate(template: Partial<FakeOptiweTemplate> & Pick<FakeOptiweTemplate, 'name' | 'text'>): FakeOptiweTemplate;
  /** The next `times` requests (to `path` / for `phone`, if given) get `reply` instead of the normal answer. */
  script(reply: ScriptedReply, options?: ScriptOptions): void;
  close(): Promise<void>;
};

const NAME_PATTERN = /^[a-z0-9_]+$/;
const json = (status: number, body: unknown): ScriptedReply => ({ status, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
const error = (status: number, key: string, message: string, details?: Record<string, string>): ScriptedReply =>
  json(status, { error: { key, message, ...(details ? { details } : {}) } });

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The text a single send must carry for a template, as a pattern: placeholders match any value. */
function templatePattern(template: FakeOptiweTemplate): RegExp {
  const anyValue = '[\\s\\S]+?';
  let pattern = escapeRegExp(template.text).replace(/\\\{\\\{\d+\\\}\\\}/g, anyValue);
  for (const button of template.buttons ?? []) {
    if (button.type === 'QUICK_REPLY') pattern += escapeRegExp(` | [${button.text}]`);
    else if (button.type === 'PHONE_NUMBER') pattern += escapeRegExp(` | [${button.text},${button.phoneNumber ?? ''}]`);
    else pattern += escapeRegExp(` | [${button.text},`) + escapeRegExp(button.url ?? '').replace(/\\\{\\\{\d+\\\}\\\}/g, anyValue) + escapeRegExp(']');
  }
  return new RegExp(`^${pattern}$`);
}

function paramCount(text: string): number {
  return new Set([...text.matchAll(/\{\{(\d+)\}\}/g)].map((m) => m[1])).size;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

export async function startFakeOptiwe(opts: FakeOptiweOptions = {}): Promise<FakeOptiwe> {
  const options: Required<FakeOptiweOptions> = {
    token: opts.token ?? 'optiwe-test-token',
    outboundEnabled: opts.outboundEnabled ?? true,
    tierLimit: opts.tierLimit ?? Number.POSITIVE_INFINITY,
    requestLimit: opts.requestLimit ?? Number.POSITIVE_INFINITY,
    workspaceFields: opts.workspaceFields ?? ['dni', 'customerField1'],
  };
  const requests: RecordedRequest[] = [];
  const deliveries: Delivery[] = [];
  const templates: FakeOptiweTemplate[] = [];
  const invalidNumbers = new Set<string>();
  const optedOut = new Set<string>();
  const requestsByPath = new Map<string, number>();
  const reached = new Set<string>();
  let nextTemplateId = 75;
  let nextCampaignId = 1;

  function addTemplate(t: Partial<FakeOptiweTemplate> & Pick<FakeOptiweTemplate, 'name' | 'text'>): FakeOptiweTemplate {
    const now = new Date().toISOString();
    const template: FakeOptiweTemplate = {
      id: t.id ?? nextTemplateId++,
      key: t.key ?? t.name,
      name: t.name,
      text: t.text,
      status: t.status ?? 'APPROVED',
      category: t.category ?? 'UTILITY',
      templateType: t.templateType ?? 'TEXT',
      language: t.language ?? 'SPANISH',
      createdOn: t.createdOn ?? now,
      updatedOn: t.updatedOn ?? now,
      ...(t.buttons ? { buttons: t.buttons } : {}),
    };
    templates.push(template);
    return template;
  }

  /** Tier limit: a new distinct customer beyond the limit is refused. */
  function withinTier(phone: string): boolean {
    if (reached.has(phone)) return true;
    if (reached.size >= options.tierLimit) return false;
    reached.add(phone);
    return true;
  }

  function createTemplate(body: Record<string, unknown>): ScriptedReply {
    for (const field of ['key', 'name'] as const) {
      const value = typeof body[field] === 'string' ? body[field] : '';
      if (!NAME_PATTERN.test(value)) {
        const found = [...value].find((c) => !/[a-z0-9_]/.test(c)) ?? '';
        return error(400, 'BAD_REQUEST_BODY', 'Validation error', { [field]: `Key and name are only allowed to have small letters, numbers and underscore. Found: ${found}` });
      }
    }
    if (body.buttons !== undefined && (!Array.isArray(body.buttons) || body.buttons.length === 0 || body.buttons.length > 3)) {
      return error(400, 'BAD_REQUEST_BODY', 'Validation error', { buttons: 'Buttons length must be greater than 0 and up to 3 buttons' });
    }
    if (typeof body.text !== 'string' || !body.text) return error(400, 'BAD_REQUEST_BODY', 'Validation error', { text: 'This field is required.' });
    if (templates.some((t) => t.key === body.key || t.name === body.name)) return error(400, 'TEMPLATE_ALREADY_EXISTS', 'The template already exists.');
    const template = addTemplate({
      key: String(body.key),
      name: String(body.name),
      text: body.text,
      status: 'IN_REVIEW',
      category: String(body.category ?? 'MARKETING'),
      templateType: String(body.templateType ?? 'TEXT'),
      language: String(body.language ?? 'SPANISH'),
      ...(Array.isArray(body.buttons) ? { buttons: body.buttons as FakeOptiweButton[] } : {}),
    });
    return json(201, template);
  }

  function validNumber(countryCode: unknown, phone: unknown): string | undefined {
    if (typeof countryCode !== 'string' || typeof phone !== 'string') return undefined;
    if (!/^\+\d{1,3}$/.test(countryCode) || !/^\d{6,14}$/.test(phone)) return undefined;
    const full = countryCode + phone;
    return invalidNumbers.has(full) ? undefined : full;
  }

  function singleSend(body: Record<string, unknown>): ScriptedReply {
    const text = asRecord(body.messagePayload)?.text;
    if (typeof text !== 'string') return error(400, 'BAD_REQUEST_BODY', 'Validation error', { messagePayload: 'This field is required.' });
    if (!options.outboundEnabled) return error(400, 'WHATSAPP_OUTBOUND_NOT_ENABLED', 'Whatsapp outbound config not enabled');
    const fields = asRecord(body.customerFields);
    const unknownFields = Object.keys(fields ?? {}).filter((f) => !options.workspaceFields.includes(f));
    if (unknownFields.length > 0) {
      return error(400, 'INVALID_CUSTOMER_FIELDS', `Customer fields ${unknownFields.join(', ')} do not exist in workspace. Valid fields are ${options.workspaceFields.join(', ')}`);
    }
    const phone = validNumber(body.customerCountryCode, body.customerPhone);
    if (!phone) return error(400, 'INVALID_WHATSAPP_NUMBER', 'Whatsapp number is not valid. Please, check if the country code and phone number are correct');
    const template = templates.find((t) => templatePattern(t).test(text));
    if (!template) return error(400, 'TEMPLATE_NOT_FOUND', 'The text sent do not match any template format.');
    if (template.status !== 'APPROVED') return error(400, 'TEMPLATE_NOT_APPROVED', 'Template can not be used because is not approved.');
    if (optedOut.has(phone)) return error(400, 'CUSTOMER_OPTED_OUT', 'Message will not be sent because the customer has opted out for outbound messages');
    if (!withinTier(phone)) return error(400, 'WHATSAPP_OUTBOUND_LIMIT_EXCEEDED', 'Outbound message exceeds available tier limit');
    deliveries.push({ phone, text, via: 'single' });
    return { status: 201, body: '' };
  }

  function bulkSend(body: Record<string, unknown>): ScriptedReply {
    const templateId = body.templateId;
    const customers = Array.isArray(body.customers) ? body.customers.map(asRecord) : undefined;
    if (typeof templateId !== 'number' || !customers) return error(400, 'BAD_REQUEST_BODY', 'Validation error', { customers: 'This field is required.' });
    const template = templates.find((t) => t.id === templateId);
    if (!template) return error(400, 'TEMPLATE_NOT_FOUND', `Template ${templateId}, not found`);
    if (template.status !== 'APPROVED') return error(400, 'TEMPLATE_NOT_APPROVED', `Template ${templateId} is not approved`);
    if (!options.outboundEnabled) return error(400, 'WHATSAPP_OUTBOUND_NOT_ENABLED', 'Whatsapp outbound config not enabled');
    const needed = paramCount(template.text);
    const badPlaceholders = customers.filter((c) => {
      const placeholders = asRecord(c?.templatePlaceholders) ?? {};
      return Array.from({ length: needed }, (_, i) => placeholders[String(i + 1)]).some((v) => typeof v !== 'string' || v === '');
    });
    if (badPlaceholders.length > 0) {
      const list = badPlaceholders.map((c) => `'${String(c?.countryCode)}${String(c?.phone)}'`).join(', ');
      return error(422, 'INVALID_TEMPLATE_PLACEHOLDER', `Invalid placeholders for customers [${list}]`);
    }
    const campaignId = nextCampaignId++;
    const invalidCustomers: { phone: string; reason: string }[] = [];
    const accepted: Delivery[] = [];
    for (const customer of customers) {
      const full = `${String(customer?.countryCode)}${String(customer?.phone)}`;
      const phone = validNumber(customer?.countryCode, customer?.phone);
      const extra = Object.keys(asRecord(customer?.extraFields) ?? {});
      if (!phone) invalidCustomers.push({ phone: full, reason: 'INVALID_NUMBER' });
      else if (extra.some((f) => !options.workspaceFields.includes(f))) invalidCustomers.push({ phone: full, reason: 'INVALID_EXTRA_FIELDS' });
      else {
        const placeholders = asRecord(customer?.templatePlaceholders) ?? {};
        const text = template.text.replace(/\{\{(\d+)\}\}/g, (_m, n: string) => String(placeholders[n]));
        accepted.push({ phone, text, via: 'bulk', campaignId });
      }
    }
    const newcomers = new Set(accepted.map((d) => d.phone).filter((phone) => !reached.has(phone)));
    if (reached.size + newcomers.size > options.tierLimit) return error(400, 'WHATSAPP_OUTBOUND_LIMIT_EXCEEDED', 'Outbound message exceeds available tier limit');
    for (const phone of newcomers) reached.add(phone);
    deliveries.push(...accepted);
    return json(201, { campaignId, invalidCustomers });
  }

  function answer(method: string, path: string, headers: IncomingMessage['headers'], parsed: unknown): ScriptedReply {
    if (headers.authorization !== `Bearer ${options.token}`) return error(401, 'NOT_AUTHENTICATED', '');
    const count = (requestsByPath.get(path) ?? 0) + 1;
    requestsByPath.set(path, count);
    if (count > options.requestLimit) return error(400, 'REQUESTS_LIMIT_REACHED', `Maximum amount of HTTP request reached for endpoint ${path}`);
    const body = asRecord(parsed);
    if (path === '/whatsapp-templates/' && method === 'GET') return json(200, { templates });
    if (method !== 'POST') return { status: 405, body: '{"detail":"Method not allowed."}', headers: { 'content-type': 'application/json' } };
    if (!body) return error(400, 'BAD_REQUEST_BODY', 'Validation error', { body: 'Invalid JSON.' });
    if (path === '/whatsapp-templates/') return createTemplate(body);
    if (path === '/whatsapp-campaigns/customers/') return singleSend(body);
    if (path === '/whatsapp-campaigns/bulk/customers/') return bulkSend(body);
    return { status: 404, body: '{"detail":"Not found."}', headers: { 'content-type': 'application/json' } };
  }

  const server = await startScriptedServer((request) => {
    const json = parseJsonBody(request.body);
    requests.push({ method: request.method, path: request.path, headers: request.headers, body: request.body, json });
    const body = asRecord(json);
    const phone = typeof body?.customerCountryCode === 'string' && typeof body.customerPhone === 'string' ? body.customerCountryCode + body.customerPhone : undefined;
    return { recipient: phone, answer: () => answer(request.method, request.path, request.headers, json) };
  });

  return {
    ...fakeControls(server, 'phone'),
    token: options.token,
    requests,
    deliveries,
    templates,
    options,
    invalidNumbers,
    optedOut,
    addTemplate,
  };
}
