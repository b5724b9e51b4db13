/**
 * Reading every template a provider lists for an account, every page of it, into one shape.
 * Nothing is written here: a sync fetches the whole listing first, so a failure on page 3
 * leaves the table as it was instead of half-synced (and half-disabled).
 *
 * Glossary:
 * - listed template: one template as the provider lists it, normalized (ListedTemplate).
 * - skipped entry: an entry the provider listed that could not be read; it is reported and
 *   protects a stored template of the same name from being disabled.
 */
import type { TemplateCategory, TemplateStatus } from '../generated/prisma/enums.js';
import { sendHttp } from '../providers/http.js';
import { buildMetaListTemplatesRequest, parseMetaListTemplatesResponse, type MetaConfig, type MetaCredentials } from '../providers/meta/index.js';
import { buildTemplateListRequest, parseTemplateListResponse, type MultichatAccount } from '../providers/multichat/index.js';
import { buildOptiweListTemplatesRequest, parseOptiweListTemplatesResponse, type OptiweConfig, type OptiweCredentials } from '../providers/optiwe/index.js';
import { parseJson } from '../providers/outcome.js';
import type { AccountSettings, HttpRequest, HttpResponse, SendOutcome, TemplateButton, TemplateHeaderType } from '../providers/types.js';
import { errors } from '../errors.js';
import { providerCallError, type LoadedAccount } from './provider-account.js';
import { providerLabel, TEMPLATE_CAPABILITIES } from './provider-capabilities.js';
import { toTemplateButtons } from './template-buttons.js';

export type ListedTemplate = {
  /** The provider's id where it gives one (multichat id_template, Optiwe id, Graph id). */
  externalId: string | null;
  name: string;
  language: string;
  /** Null when the provider does not say (multichat): a stored template keeps its own. */
  category: TemplateCategory | null;
  body: string;
  paramCount: number;
  /** Null when the provider has no names for its placeholders: a stored template keeps its own. */
  paramNames: string[] | null;
  status: TemplateStatus;
  /** Null when the provider does not say (multichat): a stored template keeps its own. */
  headerType: TemplateHeaderType | null;
  /** In the provider's order. Null when the provider does not say (multichat): a stored template keeps its own. */
  buttons: TemplateButton[] | null;
};

export type SkippedEntry = {
  /** The entry's name where the raw entry has one, else its position ("#3", "page 2 #7"). */
  name: string;
  problem: string;
  /** True when `name` is the provider's template name, not a position. */
  named: boolean;
};

export type ProviderListing = { templates: ListedTemplate[]; skipped: SkippedEntry[] };

/** multichat's records carry no language; its numbers are Colombian, and the column's default is es. */
const MULTICHAT_LANGUAGE = 'es';
/**
 * Most Graph pages one sync follows: 100 pages of 100 is 10k templates, above what one WhatsApp
 * Business Account may hold. A listing that goes on past it is a paging fault, not data.
 */
export const MAX_LISTING_PAGES = 100;

const LISTING = 'list templates';

type Fetch = (request: HttpRequest) => Promise<{ ok: true; response: HttpResponse } | { ok: false; outcome: SendOutcome }>;

export async function fetchProviderTemplates(account: LoadedAccount, timeoutMs: number): Promise<ProviderListing> {
  const fetch: Fetch = (request) => sendHttp(request, timeoutMs);
  const fail = (outcome: SendOutcome) => providerCallError(account, LISTING, outcome);
  switch (account.provider) {
    case 'multichat':
      return fetchMultichat(account.settings as MultichatAccount, fetch, fail);
    case 'optiwe':
      return fetchOptiwe(account.settings as AccountSettings<OptiweConfig, OptiweCredentials>, fetch, fail);
    case 'meta':
      return fetchMeta(account.settings as AccountSettings<MetaConfig, MetaCredentials>, fetch, fail);
    default: {
      const instead = TEMPLATE_CAPABILITIES[account.provider].syncInstead ?? 'register its templates with POST /v1/templates';
      throw errors.templateSyncUnsupported(providerLabel(account.provider), instead);
    }
  }
}

type Fail = (outcome: SendOutcome) => Error;

async function get(fetch: Fetch, fail: Fail, request: HttpRequest): Promise<HttpResponse> {
  const result = await fetch(request);
  if (!result.ok) throw fail(result.outcome);
  return result.response;
}

async function fetchMultichat(account: MultichatAccount, fetch: Fetch, fail: Fail): Promise<ProviderListing> {
  const response = await get(fetch, fail, buildTemplateListRequest(account));
  const parsed = parseTemplateListResponse(response);
  if (!parsed.ok) throw fail(parsed.outcome);
  return {
    templates: parsed.templates.map((t) => ({
      externalId: t.externalId,
      name: t.name,
      language: MULTICHAT_LANGUAGE,
      category: null,
      body: t.body,
      paramCount: t.paramCount,
      paramNames: null,
      status: t.status,
      // The /template/ records carry no header or buttons (the manual lists none).
      headerType: null,
      buttons: null,
    })),
    skipped: parsed.skipped.map((s) => skippedEntry(response.body, s, '')),
  };
}

async function fetchOptiwe(account: AccountSettings<OptiweConfig, OptiweCredentials>, fetch: Fetch, fail: Fail): Promise<ProviderListing> {
  const response = await get(fetch, fail, buildOptiweListTemplatesRequest(account));
  const parsed = parseOptiweListTemplatesResponse(response);
  if (!parsed.ok) throw fail(parsed.outcome);
  return {
    templates: parsed.templates.map((t) => ({
      externalId: t.externalId,
      name: t.name,
      language: t.language,
      category: t.category,
      body: t.body,
      paramCount: t.paramCount,
      paramNames: null,
      status: t.status,
      // Optiwe templates are text only: TEXT is the one templateType its manual has, with no header.
      headerType: 'none' as const,
      buttons: toTemplateButtons(t.buttons),
    })),
    skipped: parsed.skipped.map((s) => skippedEntry(response.body, s, '')),
  };
}

async function fetchMeta(account: AccountSettings<MetaConfig, MetaCredentials>, fetch: Fetch, fail: Fail): Promise<ProviderListing> {
  if (!account.config.wabaId) {
    throw errors.invalidAccountConfig('meta', ['config.wabaId: template sync needs the WhatsApp Business Account id']);
  }
  const listing: ProviderListing = { templates: [], skipped: [] };
  const seen = new Set<string>();
  let after: string | undefined;
  for (let page = 1; ; page++) {
    const response = await get(fetch, fail, buildMetaListTemplatesRequest(account, after));
    const parsed = parseMetaListTemplatesResponse(response);
    if (!parsed.ok) throw fail(parsed.outcome);
    listing.templates.push(
      ...parsed.templates.map((t) => ({
        externalId: t.externalId,
        name: t.name,
        language: t.language,
        category: t.category,
        body: t.body,
        paramCount: t.paramCount,
        // Positional templates have no names; a stored template keeps the ones given by hand.
        paramNames: t.paramNames.length > 0 ? t.paramNames : null,
        status: t.status,
        headerType: t.headerType,
        buttons: toTemplateButtons(t.buttons),
      })),
    );
    listing.skipped.push(...parsed.skipped.map((s) => skippedEntry(response.body, s, `page ${page} `)));
    if (parsed.nextCursor === null) return listing;
    if (seen.has(parsed.nextCursor) || page >= MAX_LISTING_PAGES) {
      throw errors.providerRequestFailed(
        providerLabel('meta'),
        LISTING,
        `the listing did not end after ${page} page(s) (Graph repeated a cursor or kept paging)`,
        'PROVIDER_UNDOCUMENTED_RESPONSE',
      );
    }
    seen.add(parsed.nextCursor);
    after = parsed.nextCursor;
  }
}

const NAME_KEYS = ['name', 'nombre', 'template_name', 'nombre_plantilla', 'element_name', 'key'];

/**
 * Names a skipped entry for the report. Best effort: the parsers give an index into the first
 * list in the body; the raw entry there is read for a name, and its position is used without one.
 */
function skippedEntry(body: string, skipped: { index: number; problem: string }, prefix: string): SkippedEntry {
  const entry = firstList(parseJson(body.trim()))?.[skipped.index];
  if (typeof entry === 'object' && entry !== null) {
    const lower = new Map(Object.entries(entry as Record<string, unknown>).map(([k, v]) => [k.toLowerCase(), v]));
    for (const key of NAME_KEYS) {
      const value = lower.get(key);
      if (typeof value === 'string' && value.trim() !== '') return { name: value, problem: skipped.problem, named: true };
    }
  }
  return { name: `${prefix}#${skipped.index + 1}`, problem: skipped.problem, named: false };
}

function firstList(json: unknown): unknown[] | undefined {
  if (Array.isArray(json)) return json;
  if (typeof json !== 'object' || json === null) return undefined;
  return Object.values(json as Record<string, unknown>).find((v): v is unknown[] => Array.isArray(v));
}
