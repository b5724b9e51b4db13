/**
 * The template listing every provider folder builds the same way: its own request and parser,
 * its records turned into the engine's ListedTemplate. One page unless the parser says where the
 * next one starts (Meta's cursor).
 */
import type { AccountSettings, HttpRequest, HttpResponse, ListedTemplate, SendOutcome, TemplatesCapability, TemplateStatus } from './types.js';

/** What a provider's listing parser returns: its own records, and the cursor of the next page when it pages. */
export type ParsedListing<R> =
  | { ok: true; templates: readonly R[]; skipped: { index: number; problem: string }[]; nextCursor?: string | null }
  | { ok: false; outcome: SendOutcome };

export function templateListing<Config, Credentials, R>(
  build: (account: AccountSettings<Config, Credentials>, cursor: string | null) => HttpRequest,
  parse: (response: HttpResponse) => ParsedListing<R>,
  toListed: (record: R) => ListedTemplate,
): NonNullable<TemplatesCapability<Config, Credentials>['list']> {
  return {
    buildListRequest: build,
    parseListResponse(response) {
      const parsed = parse(response);
      if (!parsed.ok) return parsed;
      return { ok: true, templates: parsed.templates.map(toListed), skipped: parsed.skipped, nextCursor: parsed.nextCursor ?? null };
    },
  };
}

/** The fields every provider's record carries under the engine's own names. */
export function listedBase(t: { externalId: string | null; name: string; body: string; paramCount: number; status: TemplateStatus }) {
  return { externalId: t.externalId, name: t.name, body: t.body, paramCount: t.paramCount, status: t.status };
}
