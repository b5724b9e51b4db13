/**
 * Template sync: GET /{apiVersion}/{wabaId}/message_templates, one page at a time, into
 * normalized records. Only `approved` records may start a campaign; the engine checks that.
 */
import { parseJson, undocumented } from '../outcome.js';
import { toTemplateButtons } from '../template-buttons.js';
import { listedBase, templateListing } from '../template-listing.js';
import { MessageBuildError, type AccountSettings, type HttpRequest, type HttpResponse, type ListedTemplate, type SendOutcome, type TemplateHeaderType, type TemplatesCapability } from '../types.js';
import { graphRequest, graphRoot } from './endpoint.js';
import { metaFailure } from './response.js';
import { metaTemplatePageSchema, metaTemplateWireSchema, type MetaConfig, type MetaCredentials, type MetaTemplateWire } from './schemas.js';

export type TemplateStatus = 'pending' | 'approved' | 'rejected' | 'paused' | 'disabled';
export type TemplateCategory = 'MARKETING' | 'UTILITY' | 'AUTHENTICATION';

export type MetaTemplateButton = { type: string; text: string; url?: string; urlExample?: string; phoneNumber?: string };

export type MetaTemplateRecord = {
  externalId: string | null;
  name: string;
  body: string;
  /** Distinct {{n}} placeholders; for a NAMED template, distinct {{name}} placeholders. */
  paramCount: number;
  /** Names of a NAMED template's placeholders, in order of first appearance; empty otherwise. */
  paramNames: string[];
  /** Meta's code ("es_AR", "en_US"), which a send must repeat exactly. */
  language: string;
  category: TemplateCategory;
  status: TemplateStatus;
  /** Meta's status word, unchanged. */
  providerStatus: string;
  /** TEXT, IMAGE, VIDEO, DOCUMENT or LOCATION; null without a header. */
  headerFormat: string | null;
  /** The header as the engine knows it: a media kind needs header media on every send. */
  headerType: TemplateHeaderType;
  buttons: MetaTemplateButton[];
};

const STATUSES: Readonly<Record<string, TemplateStatus>> = {
  APPROVED: 'approved',
  PENDING: 'pending',
  IN_APPEAL: 'pending',
  REJECTED: 'rejected',
  PAUSED: 'paused',
  DISABLED: 'disabled',
  PENDING_DELETION: 'disabled',
  DELETED: 'disabled',
  ARCHIVED: 'disabled',
  LIMIT_EXCEEDED: 'disabled',
};
const CATEGORIES = new Set<string>(['MARKETING', 'UTILITY', 'AUTHENTICATION']);
/**
 * Graph's header formats the engine has a kind for. LOCATION (and any later format) reads as
 * 'none': the engine cannot send its parameter, and Meta refuses such a send as a parameter
 * mismatch, which pauses the campaign.
 */
const HEADER_TYPES: Readonly<Record<string, TemplateHeaderType>> = { TEXT: 'text', IMAGE: 'image', VIDEO: 'video', DOCUMENT: 'document' };
/** Graph's page size for this edge; 100 keeps a sync of a large WABA to a few requests. */
export const META_TEMPLATE_PAGE_SIZE = 100;
const FIELDS = 'id,name,language,status,category,parameter_format,components';

function distinct(text: string, pattern: RegExp): string[] {
  return [...new Set([...text.matchAll(pattern)].map((m) => m[1] ?? ''))];
}

export function toMetaTemplateRecord(wire: MetaTemplateWire): MetaTemplateRecord {
  const components = wire.components ?? [];
  const body = components.find((c) => c.type.toUpperCase() === 'BODY')?.text ?? '';
  const header = components.find((c) => c.type.toUpperCase() === 'HEADER');
  const named = wire.parameter_format?.toUpperCase() === 'NAMED';
  const paramNames = named ? distinct(body, /\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}/g) : [];
  const buttons = components
    .filter((c) => c.type.toUpperCase() === 'BUTTONS')
    .flatMap((c) => c.buttons ?? [])
    .map((b) => ({
      type: b.type,
      text: b.text ?? '',
      ...(b.url === undefined ? {} : { url: b.url }),
      ...(b.example?.[0] === undefined ? {} : { urlExample: b.example[0] }),
      ...(b.phone_number === undefined ? {} : { phoneNumber: b.phone_number }),
    }));
  return {
    externalId: wire.id ?? null,
    name: wire.name,
    body,
    paramCount: named ? paramNames.length : distinct(body, /\{\{(\d+)\}\}/g).length,
    paramNames,
    language: wire.language,
    // Unknown categories count as MARKETING, the one with caps and opt-outs: the cautious reading.
    category: wire.category && CATEGORIES.has(wire.category) ? (wire.category as TemplateCategory) : 'MARKETING',
    // An unknown status is never `approved`, so it can never start a campaign.
    status: STATUSES[wire.status] ?? 'pending',
    providerStatus: wire.status,
    headerFormat: header?.format ?? null,
    headerType: HEADER_TYPES[header?.format?.toUpperCase() ?? ''] ?? 'none',
    buttons,
  };
}

/** The first page, or the page after `after` (a cursor from the previous page's result). */
export function buildMetaListTemplatesRequest(account: AccountSettings<MetaConfig, MetaCredentials>, after?: string): HttpRequest {
  const { wabaId } = account.config;
  if (!wabaId) throw new RangeError('Template sync needs the account\'s WhatsApp Business Account id (config.wabaId).');
  const query = new URLSearchParams({ fields: FIELDS, limit: String(META_TEMPLATE_PAGE_SIZE) });
  if (after) query.set('after', after);
  return graphRequest('GET', `${graphRoot(account.config)}/${wabaId}/message_templates?${query.toString()}`, account.credentials);
}

export type MetaListTemplatesResult =
  /**
   * `nextCursor`: pass to buildMetaListTemplatesRequest for the next page; null on the last.
   * Graph's own `paging.next` URL is never returned: it can carry the access token.
   */
  | { ok: true; templates: MetaTemplateRecord[]; skipped: { index: number; problem: string }[]; nextCursor: string | null }
  | { ok: false; outcome: SendOutcome };

export function parseMetaListTemplatesResponse(response: HttpResponse): MetaListTemplatesResult {
  const parsed = metaTemplatePageSchema.safeParse(parseJson(response.body));
  const failure = metaFailure(response, () => parsed.success);
  if (failure || !parsed.success) return { ok: false, outcome: failure ?? undocumented(response.status, response.body) };
  const page = parsed.data;
  const templates: MetaTemplateRecord[] = [];
  const skipped: { index: number; problem: string }[] = [];
  page.data.forEach((entry, index) => {
    const wire = metaTemplateWireSchema.safeParse(entry);
    if (wire.success) templates.push(toMetaTemplateRecord(wire.data));
    else skipped.push({ index, problem: wire.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
  });
  return { ok: true, templates, skipped, nextCursor: nextCursor(page.paging) };
}

function nextCursor(paging: { cursors?: { after?: string }; next?: string } | undefined): string | null {
  if (!paging?.next) return null;
  if (paging.cursors?.after) return paging.cursors.after;
  try {
    return new URL(paging.next).searchParams.get('after');
  } catch {
    return null;
  }
}

function toListedTemplate(t: MetaTemplateRecord): ListedTemplate {
  return {
    ...listedBase(t),
    language: t.language,
    category: t.category,
    // Positional templates have no names; a stored template keeps the ones given by hand.
    paramNames: t.paramNames.length > 0 ? t.paramNames : null,
    headerType: t.headerType,
    buttons: toTemplateButtons(t.buttons),
  };
}

/** Listing through Graph; creation is not built yet (Graph can, the engine does not ask it to). */
export const metaTemplates: TemplatesCapability<MetaConfig, MetaCredentials> = {
  list: templateListing(
    (account, cursor) => {
      if (!account.config.wabaId) throw new MessageBuildError('account', 'config.wabaId: template sync needs the WhatsApp Business Account id');
      return buildMetaListTemplatesRequest(account, cursor ?? undefined);
    },
    parseMetaListTemplatesResponse,
    toListedTemplate,
  ),
  createInstead: 'create the template in WhatsApp Manager, then sync the account with POST /v1/accounts/:id/templates/sync',
};
