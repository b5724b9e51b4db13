/**
 * contacto-multichat's template list (`/template/`), a form post with login + token. The manual
 * gives its error codes but not the shape of a successful answer (its screenshots are lost), so
 * success is read defensively, as documented on the parser.
 */
import { parseJson } from '../outcome.js';
import { listedBase, templateListing } from '../template-listing.js';
import type { HttpRequest, HttpResponse, ListedTemplate, SendOutcome, TemplatesCapability } from '../types.js';
import { queryAuthOutcome, queryFailure, readMultichatCode } from './multichat-codes.js';
import { multichatFormRequest, type MultichatAccount, type MultichatConfig, type MultichatCredentials } from './send.js';

export type MultichatTemplatesResult =
  /** `skipped`: records without an id or a text, left out rather than failing the sync. */
  | { ok: true; templates: NormalizedTemplate[]; skipped: { index: number; problem: string }[] }
  | { ok: false; outcome: SendOutcome };

export function buildTemplateListRequest(account: MultichatAccount): HttpRequest {
  return multichatFormRequest(account, 'template');
}

/** The engine's template statuses (prisma TemplateStatus). */
export type NormalizedTemplateStatus = 'pending' | 'approved' | 'rejected' | 'paused' | 'disabled';

export type NormalizedTemplate = {
  /** multichat's id_template. */
  externalId: string;
  name: string;
  /** Body text as the provider gives it. */
  body: string;
  /** Distinct {{..}} placeholders in the body, unless the record states its own count. */
  paramCount: number;
  status: NormalizedTemplateStatus;
  /** The provider's own status word, unchanged. */
  providerStatus: string | null;
};

const LIST_KEYS = ['templates', 'plantillas', 'data', 'result', 'results', 'resultado'];
const FIELD_KEYS = {
  id: ['id_template', 'idtemplate', 'template_id', 'id_plantilla', 'id'],
  name: ['name', 'nombre', 'template_name', 'nombre_plantilla', 'element_name'],
  body: ['text', 'body', 'message', 'mensaje', 'content', 'contenido', 'template', 'plantilla', 'texto'],
  status: ['status', 'estado'],
  count: ['variables', 'num_variables', 'cantidad_variables', 'variables_count', 'param_count'],
} as const;

/**
 * The template list. Code 4 ("no approved templates") is an empty list, not an error. A
 * successful answer is read as a JSON array of records, or an object holding one under
 * templates/plantillas/data/result(s)/resultado; each record's fields are looked up by their
 * likely English or Spanish names (FIELD_KEYS).
 */
export function parseTemplateListResponse(response: HttpResponse): MultichatTemplatesResult {
  const json = parseJson(response.body.trim());
  const records = listOf(json);
  if (records) {
    const templates: NormalizedTemplate[] = [];
    const skipped: { index: number; problem: string }[] = [];
    records.forEach((record, index) => {
      const template = normalizeTemplate(record);
      if (template) templates.push(template);
      else skipped.push({ index, problem: 'no template id or no text' });
    });
    return { ok: true, templates, skipped };
  }
  const reply = readMultichatCode(response.body);
  if (reply?.code === 4) return { ok: true, templates: [], skipped: [] };
  const error = reply ? queryAuthOutcome(reply.code, reply.text) : undefined;
  return error ? { ok: false, outcome: error } : queryFailure(response);
}

function listOf(json: unknown): unknown[] | undefined {
  if (Array.isArray(json)) return json.every((r) => typeof r === 'object' && r !== null) ? json : undefined;
  if (typeof json !== 'object' || json === null) return undefined;
  const record = json as Record<string, unknown>;
  for (const key of LIST_KEYS) {
    const value = record[key];
    if (Array.isArray(value)) return listOf(value);
  }
  return undefined;
}

function pick(record: Map<string, unknown>, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const value = record.get(key);
    if (typeof value === 'string' && value.trim() !== '') return value;
    if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  }
  return undefined;
}

function normalizeTemplate(raw: unknown): NormalizedTemplate | undefined {
  const record = new Map(Object.entries(raw as Record<string, unknown>).map(([k, v]) => [k.toLowerCase(), v]));
  const externalId = pick(record, FIELD_KEYS.id);
  const body = pick(record, FIELD_KEYS.body);
  if (externalId === undefined || body === undefined) return undefined;
  const stated = pick(record, FIELD_KEYS.count);
  const providerStatus = pick(record, FIELD_KEYS.status) ?? null;
  return {
    externalId,
    name: pick(record, FIELD_KEYS.name) ?? externalId,
    body,
    paramCount: stated !== undefined && /^\d+$/.test(stated) ? Number(stated) : countPlaceholders(body),
    status: normalizeStatus(providerStatus),
    providerStatus,
  };
}

/** Distinct {{...}} placeholders: {{1}} {{2}} {{1}} is 2. */
export function countPlaceholders(body: string): number {
  return new Set([...body.matchAll(/\{\{\s*([^{}]+?)\s*\}\}/g)].map((m) => m[1])).size;
}

/** Spanish or English status words; anything unrecognised is pending, which is never sent. */
export function normalizeStatus(status: string | null): NormalizedTemplateStatus {
  const s = (status ?? '').toLowerCase();
  if (/aprob|approv|^activ|^active|enabled/.test(s)) return 'approved';
  if (/rechaz|reject|deneg|denied/.test(s)) return 'rejected';
  if (/paus/.test(s)) return 'paused';
  if (/desactiv|disabled|inactiv/.test(s)) return 'disabled';
  return 'pending';
}

/** multichat's records carry no language; its numbers are Colombian, and the engine's default language is es. */
const MULTICHAT_LANGUAGE = 'es';

function toListedTemplate(t: NormalizedTemplate): ListedTemplate {
  return {
    ...listedBase(t),
    language: MULTICHAT_LANGUAGE,
    category: null,
    paramNames: null,
    // The /template/ records carry no header or buttons (the manual lists none).
    headerType: null,
    buttons: null,
  };
}

export const multichatTemplates: TemplatesCapability<MultichatConfig, MultichatCredentials> = {
  list: templateListing((account) => buildTemplateListRequest(account), parseTemplateListResponse, toListedTemplate),
  createInstead: 'create the template in the contacto-multichat dashboard, then sync the account with POST /v1/accounts/:id/templates/sync',
};
