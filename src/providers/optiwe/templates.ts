/**
 * Optiwe templates: creation (POST /whatsapp-templates/), validated here first so a user gets
 * every problem at once instead of one 400 at a time, and sync (GET /whatsapp-templates/) into
 * normalized records. Only `approved` records may start a campaign; the engine checks that.
 */
import { parseJson, undocumented } from '../outcome.js';
import { toTemplateButtons } from '../template-buttons.js';
import { listedBase, templateListing } from '../template-listing.js';
import { MessageBuildError, type AccountSettings, type HttpRequest, type HttpResponse, type ListedTemplate, type SendOutcome, type TemplateDraft, type TemplatesCapability } from '../types.js';
import { optiweFailure } from './classify-error.js';
import { OPTIWE_PATHS, optiweRequest } from './endpoint.js';
import {
  OPTIWE_BUTTON_TYPES,
  optiweErrorBodySchema,
  optiweTemplateListSchema,
  optiweTemplateWireSchema,
  type OptiweButton,
  type OptiweConfig,
  type OptiweCredentials,
  type OptiweTemplateWire,
} from './schemas.js';

type Account = AccountSettings<OptiweConfig, OptiweCredentials>;

// --- Normalized record ----------------------------------------------------------------------

export type TemplateStatus = 'pending' | 'approved' | 'rejected' | 'paused' | 'disabled';
export type TemplateCategory = 'MARKETING' | 'UTILITY' | 'AUTHENTICATION';

export type OptiweTemplateRecord = {
  externalId: string;
  name: string;
  key: string;
  body: string;
  /** Distinct {{n}} placeholders in the body. */
  paramCount: number;
  /** ISO 639-1 ("es", "en"), as the engine stores languages; Optiwe's own word is mapped back on create. */
  language: string;
  category: TemplateCategory;
  status: TemplateStatus;
  /** Optiwe's status word, unchanged. */
  providerStatus: string;
  /** In Optiwe's order, which is the order single sends must append them in. */
  buttons: OptiweButton[];
};

const STATUSES: Readonly<Record<string, TemplateStatus>> = { IN_REVIEW: 'pending', APPROVED: 'approved', DENIED: 'rejected' };
const CATEGORIES = new Set<string>(['MARKETING', 'UTILITY', 'AUTHENTICATION']);
const LANGUAGE_CODES: Readonly<Record<string, string>> = { SPANISH: 'es', ENGLISH: 'en' };

/** Distinct positional placeholders ({{1}}, {{2}}...) in a template text. */
export function countPositionalParams(text: string): number {
  return new Set([...text.matchAll(/\{\{(\d+)\}\}/g)].map((m) => m[1])).size;
}

export function toOptiweTemplateRecord(wire: OptiweTemplateWire): OptiweTemplateRecord {
  return {
    externalId: String(wire.id),
    name: wire.name,
    key: wire.key,
    body: wire.text,
    paramCount: countPositionalParams(wire.text),
    language: LANGUAGE_CODES[wire.language] ?? wire.language.toLowerCase(),
    // Unknown categories count as MARKETING, the one with caps and opt-outs: the cautious reading.
    category: CATEGORIES.has(wire.category) ? (wire.category as TemplateCategory) : 'MARKETING',
    // An unknown status is never `approved`, so it can never start a campaign.
    status: STATUSES[wire.status] ?? 'pending',
    providerStatus: wire.status,
    buttons: wire.buttons ?? [],
  };
}

// --- Creation -------------------------------------------------------------------------------

export type OptiweButtonDraft = { type: string; text: string; url?: string; urlExample?: string; phoneNumber?: string };

/** A template as the engine asks for it. Strings are loose on purpose: validation reports them. */
export type OptiweTemplateDraft = {
  name: string;
  /** Defaults to `name`. */
  key?: string;
  text: string;
  /** The text with sample values, shown to WhatsApp's reviewers. */
  example: string;
  category: string;
  /** SPANISH or ENGLISH, or a language code ("es", "es_AR", "en-US"). */
  language: string;
  /** Default TEXT, the only type the manual describes. */
  templateType?: string;
  buttons?: readonly OptiweButtonDraft[];
};

const NAME_PATTERN = /^[a-z0-9_]+$/;
const BUTTON_TEXT_MAX = 20;
const MAX_BUTTONS = 3;

function optiweLanguage(language: string): string | undefined {
  const upper = language.toUpperCase();
  if (upper === 'SPANISH' || upper === 'ENGLISH') return upper;
  const code = language.toLowerCase().split(/[-_]/)[0];
  return code === 'es' ? 'SPANISH' : code === 'en' ? 'ENGLISH' : undefined;
}

/** Every problem Optiwe's rules (as the manual states them) find in a draft; empty when valid. */
export function validateOptiweTemplate(draft: OptiweTemplateDraft): string[] {
  const problems: string[] = [];
  const key = draft.key ?? draft.name;
  for (const [field, value] of [['key', key], ['name', draft.name]] as const) {
    if (!NAME_PATTERN.test(value)) problems.push(`${field} "${value}" may contain only lower-case letters, digits and "_"`);
  }
  if (!draft.text.trim()) problems.push('text is empty');
  if (!draft.example.trim()) problems.push('example is empty');
  if (draft.category !== 'MARKETING' && draft.category !== 'UTILITY') problems.push(`category "${draft.category}" must be MARKETING or UTILITY`);
  if (!optiweLanguage(draft.language)) problems.push(`language "${draft.language}" must be SPANISH or ENGLISH (or an es/en language code)`);
  if ((draft.templateType ?? 'TEXT') !== 'TEXT') problems.push(`templateType "${draft.templateType}" must be TEXT`);
  problems.push(...buttonProblems(draft.buttons ?? []));
  return problems;
}

function buttonProblems(buttons: readonly OptiweButtonDraft[]): string[] {
  const problems: string[] = [];
  if (buttons.length > MAX_BUTTONS) problems.push(`at most ${MAX_BUTTONS} buttons are allowed, found ${buttons.length}`);
  const count = (type: string) => buttons.filter((b) => b.type === type).length;
  if (count('URL') > 1) problems.push('at most one URL button is allowed');
  if (count('PHONE_NUMBER') > 1) problems.push('at most one PHONE_NUMBER button is allowed');
  if (count('QUICK_REPLY') > 0 && count('URL') + count('PHONE_NUMBER') > 0) problems.push('quick reply and call-to-action (URL, PHONE_NUMBER) buttons cannot be mixed');
  buttons.forEach((button, i) => {
    const label = `button ${i + 1}`;
    if (!(OPTIWE_BUTTON_TYPES as readonly string[]).includes(button.type)) problems.push(`${label}: type "${button.type}" must be QUICK_REPLY, URL or PHONE_NUMBER`);
    const length = [...button.text].length;
    if (length === 0) problems.push(`${label}: text is empty`);
    if (length > BUTTON_TEXT_MAX) problems.push(`${label}: text "${button.text}" is ${length} characters, at most ${BUTTON_TEXT_MAX} are allowed`);
    if (button.type === 'URL') {
      if (!button.url || !/^https?:\/\/\S+$/.test(button.url)) problems.push(`${label}: a URL button needs an http(s) url`);
      else if (/\{\{\d+\}\}/.test(button.url) && !button.urlExample) problems.push(`${label}: a URL with a placeholder needs a urlExample`);
    }
    if (button.type === 'PHONE_NUMBER' && !/^\d{6,15}$/.test(button.phoneNumber ?? '')) {
      problems.push(`${label}: a PHONE_NUMBER button needs phoneNumber as digits with the country code, like "543424010203"`);
    }
  });
  return problems;
}

export type CreateTemplateRequestResult = { ok: true; request: HttpRequest } | { ok: false; problems: string[] };

export function buildCreateTemplateRequest(draft: OptiweTemplateDraft, account: Account): CreateTemplateRequestResult {
  const problems = validateOptiweTemplate(draft);
  if (problems.length > 0) return { ok: false, problems };
  const buttons = (draft.buttons ?? []).map((b) => ({
    type: b.type,
    text: b.text,
    ...(b.url === undefined ? {} : { url: b.url }),
    ...(b.urlExample === undefined ? {} : { urlExample: b.urlExample }),
    ...(b.phoneNumber === undefined ? {} : { phoneNumber: b.phoneNumber }),
  }));
  const body = {
    key: draft.key ?? draft.name,
    name: draft.name,
    text: draft.text,
    example: draft.example,
    category: draft.category,
    templateType: draft.templateType ?? 'TEXT',
    language: optiweLanguage(draft.language),
    // Optiwe rejects an empty list ("greater than 0"), so no buttons means no field.
    ...(buttons.length === 0 ? {} : { buttons }),
  };
  return { ok: true, request: optiweRequest('POST', OPTIWE_PATHS.templates, account.config, account.credentials, body) };
}

export type CreateTemplateResult =
  | { ok: true; template: OptiweTemplateRecord }
  | { ok: false; problem: 'already_exists'; providerCode: string; providerText: string }
  /** Optiwe's own validation; `details` maps a field to its complaint. */
  | { ok: false; problem: 'invalid'; providerCode: string; providerText: string; details: Record<string, string> }
  /** Auth, rate limit, outage or an undocumented answer: what the engine must do, as for a send. */
  | { ok: false; problem: 'request_failed'; outcome: SendOutcome };

export function parseCreateTemplateResponse(response: HttpResponse): CreateTemplateResult {
  const envelope = optiweErrorBodySchema.safeParse(parseJson(response.body));
  if (envelope.success) {
    const { key, message = '', details = {} } = envelope.data.error;
    if (key === 'TEMPLATE_ALREADY_EXISTS') return { ok: false, problem: 'already_exists', providerCode: key, providerText: message };
    if (key === 'BAD_REQUEST_BODY') {
      const flat = Object.fromEntries(Object.entries(details).map(([field, value]) => [field, typeof value === 'string' ? value : JSON.stringify(value)]));
      return { ok: false, problem: 'invalid', providerCode: key, providerText: message, details: flat };
    }
  }
  const failure = optiweFailure(response);
  if (failure) return { ok: false, problem: 'request_failed', outcome: failure };
  const template = optiweTemplateWireSchema.safeParse(parseJson(response.body));
  if (!template.success) return { ok: false, problem: 'request_failed', outcome: undocumented(response.status, response.body) };
  return { ok: true, template: toOptiweTemplateRecord(template.data) };
}

// --- Sync -----------------------------------------------------------------------------------

export function buildOptiweListTemplatesRequest(account: Account): HttpRequest {
  return optiweRequest('GET', OPTIWE_PATHS.templates, account.config, account.credentials);
}

export type ListTemplatesResult =
  /** `skipped`: entries that do not fit the documented shape, left out rather than failing the sync. */
  | { ok: true; templates: OptiweTemplateRecord[]; skipped: { index: number; problem: string }[] }
  | { ok: false; outcome: SendOutcome };

export function parseOptiweListTemplatesResponse(response: HttpResponse): ListTemplatesResult {
  const failure = optiweFailure(response);
  if (failure) return { ok: false, outcome: failure };
  const list = optiweTemplateListSchema.safeParse(parseJson(response.body));
  if (!list.success) return { ok: false, outcome: undocumented(response.status, response.body) };
  const templates: OptiweTemplateRecord[] = [];
  const skipped: { index: number; problem: string }[] = [];
  list.data.templates.forEach((entry, index) => {
    const wire = optiweTemplateWireSchema.safeParse(entry);
    if (wire.success) templates.push(toOptiweTemplateRecord(wire.data));
    else skipped.push({ index, problem: wire.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
  });
  return { ok: true, templates, skipped };
}

// --- The adapter's capability -----------------------------------------------------------------
// Optiwe's field names ("text") become the engine's ("body") in everything a user reads, and its
// `key` is always the template's name, so a problem with the key is said once, as the name's.

function optiweDraft(draft: TemplateDraft): OptiweTemplateDraft {
  return {
    name: draft.name,
    text: draft.body,
    example: draft.example,
    category: draft.category,
    language: draft.language,
    ...(draft.buttons ? { buttons: draft.buttons } : {}),
  };
}

const inEngineWords = (problem: string): string => problem.replace(/^text /, 'body ');

function toListedTemplate(t: OptiweTemplateRecord): ListedTemplate {
  return {
    ...listedBase(t),
    language: t.language,
    category: t.category,
    paramNames: null,
    // Optiwe templates are text only: TEXT is the one templateType its manual has, with no header.
    headerType: 'none',
    buttons: toTemplateButtons(t.buttons),
  };
}

export const optiweTemplates: TemplatesCapability<OptiweConfig, OptiweCredentials> = {
  list: templateListing((account) => buildOptiweListTemplatesRequest(account), parseOptiweListTemplatesResponse, toListedTemplate),
  create: {
    problems: (draft) =>
      validateOptiweTemplate(optiweDraft(draft))
        .filter((p) => !p.startsWith('key '))
        .map(inEngineWords),
    buildCreateRequest(draft, account) {
      const built = buildCreateTemplateRequest(optiweDraft(draft), account);
      if (!built.ok) throw new MessageBuildError('template', built.problems.map(inEngineWords).join('; '));
      return built.request;
    },
    parseCreateResponse(response) {
      const created = parseCreateTemplateResponse(response);
      if (created.ok) return { ok: true, template: toListedTemplate(created.template) };
      if (created.problem === 'already_exists') return { ok: false, problem: 'already_exists' };
      if (created.problem === 'invalid') {
        const details = Object.entries(created.details).map(([field, text]) => `${field === 'text' ? 'body' : field}: ${text}`);
        return { ok: false, problem: 'invalid', details: details.length > 0 ? details : [created.providerText || 'validation error'] };
      }
      return { ok: false, problem: 'request_failed', outcome: created.outcome };
    },
  },
};
