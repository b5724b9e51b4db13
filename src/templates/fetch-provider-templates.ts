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
import { errors } from '../errors.js';
import { sendHttp } from '../providers/http.js';
import { parseJson } from '../providers/outcome.js';
import { adapterFor, providerLabel } from '../providers/registry.js';
import { MessageBuildError, REGISTER_TEMPLATES_BY_HAND, type HttpRequest, type HttpResponse, type ListedTemplate, type SendOutcome, type TemplatesCapability } from '../providers/types.js';
import { providerCallError, type LoadedAccount } from './provider-account.js';

export type { ListedTemplate };

export type SkippedEntry = {
  /** The entry's name where the raw entry has one, else its position ("#3", "page 2 #7"). */
  name: string;
  problem: string;
  /** True when `name` is the provider's template name, not a position. */
  named: boolean;
};

export type ProviderListing = { templates: ListedTemplate[]; skipped: SkippedEntry[] };

/**
 * Most pages one sync follows: 100 pages of Graph's 100 is 10k templates, above what one WhatsApp
 * Business Account may hold. A listing that goes on past it is a paging fault, not data.
 */
export const MAX_LISTING_PAGES = 100;

const LISTING = 'list templates';

/**
 * Every page of the account's listing, through its provider's templates capability. Throws
 * TEMPLATE_SYNC_UNSUPPORTED for a provider without one, INVALID_ACCOUNT_CONFIG when the account
 * lacks a setting the listing needs, and the provider's failure as the user's error.
 */
export async function fetchProviderTemplates(account: LoadedAccount, timeoutMs: number): Promise<ProviderListing> {
  const capability = adapterFor(account.provider)?.templates;
  const list = capability?.list;
  if (!list) throw errors.templateSyncUnsupported(providerLabel(account.provider), capability?.listInstead ?? REGISTER_TEMPLATES_BY_HAND);
  const fail = (outcome: SendOutcome) => providerCallError(account, LISTING, outcome);
  const get = async (request: HttpRequest): Promise<HttpResponse> => {
    const result = await sendHttp(request, timeoutMs);
    if (!result.ok) throw fail(result.outcome);
    return result.response;
  };

  const templates: ListedTemplate[] = [];
  const skipped: { page: number; entry: SkippedEntry }[] = [];
  const seen = new Set<string>();
  let cursor: string | null = null;
  for (let page = 1; ; page++) {
    const response = await get(buildListRequest(account, list, cursor));
    const parsed = list.parseListResponse(response);
    if (!parsed.ok) throw fail(parsed.outcome);
    templates.push(...parsed.templates);
    skipped.push(...parsed.skipped.map((s) => ({ page, entry: skippedEntry(response.body, s) })));
    if (parsed.nextCursor === null) {
      // Positions name their page only when there were several.
      const paged = page > 1;
      return { templates, skipped: skipped.map(({ page: p, entry }) => (paged && !entry.named ? { ...entry, name: `page ${p} ${entry.name}` } : entry)) };
    }
    if (seen.has(parsed.nextCursor) || page >= MAX_LISTING_PAGES) {
      throw errors.providerRequestFailed(
        providerLabel(account.provider),
        LISTING,
        `the listing did not end after ${page} page(s) (the provider repeated a cursor or kept paging)`,
        'PROVIDER_UNDOCUMENTED_RESPONSE',
      );
    }
    seen.add(parsed.nextCursor);
    cursor = parsed.nextCursor;
  }
}

type ListCapability = NonNullable<TemplatesCapability<unknown, unknown>['list']>;

/** The page's request; an account missing a setting the listing needs is the account's error, named by field. */
function buildListRequest(account: LoadedAccount, list: ListCapability, cursor: string | null): HttpRequest {
  try {
    return list.buildListRequest(account.settings, cursor);
  } catch (error) {
    if (error instanceof MessageBuildError && error.scope === 'account') throw errors.invalidAccountConfig(account.provider, [error.message]);
    throw error;
  }
}

const NAME_KEYS = ['name', 'nombre', 'template_name', 'nombre_plantilla', 'element_name', 'key'];

/**
 * Names a skipped entry for the report. Best effort: the parsers give an index into the first
 * list in the body; the raw entry there is read for a name, and its position is used without one.
 */
function skippedEntry(body: string, skipped: { index: number; problem: string }): SkippedEntry {
  const entry = firstList(parseJson(body.trim()))?.[skipped.index];
  if (typeof entry === 'object' && entry !== null) {
    const lower = new Map(Object.entries(entry as Record<string, unknown>).map(([k, v]) => [k.toLowerCase(), v]));
    for (const key of NAME_KEYS) {
      const value = lower.get(key);
      if (typeof value === 'string' && value.trim() !== '') return { name: value, problem: skipped.problem, named: true };
    }
  }
  return { name: `#${skipped.index + 1}`, problem: skipped.problem, named: false };
}

function firstList(json: unknown): unknown[] | undefined {
  if (Array.isArray(json)) return json;
  if (typeof json !== 'object' || json === null) return undefined;
  return Object.values(json as Record<string, unknown>).find((v): v is unknown[] => Array.isArray(v));
}
