/**
 * Creating a template at the provider, where the provider has an API for it (Optiwe only).
 * The draft is checked here first and every problem is listed at once, so a user does not
 * learn Optiwe's rules one 400 at a time; then it is sent, and stored as the provider answers
 * it (IN_REVIEW is `pending`: a campaign cannot start on it until a sync sees it approved).
 */
import type { Db, Template } from '../db/database.js';
import { errors } from '../errors.js';
import type { Logger } from '../logger.js';
import { sendHttp } from '../providers/http.js';
import {
  buildCreateTemplateRequest,
  parseCreateTemplateResponse,
  validateOptiweTemplate,
  type OptiweConfig,
  type OptiweCredentials,
  type OptiweTemplateDraft,
} from '../providers/optiwe/index.js';
import type { AccountSettings } from '../providers/types.js';
import { scrubSecrets } from '../security/secret-scrubber.js';
import { loadProviderAccount, providerCallError } from './provider-account.js';
import { providerLabel, TEMPLATE_CAPABILITIES } from './provider-capabilities.js';
import { toTemplateButtons } from './template-buttons.js';

/** A template as the engine asks a provider to create it. */
export type ProviderTemplateDraft = {
  name: string;
  /** Body text with {{1}}..{{n}} placeholders. */
  body: string;
  /** The body with sample values, shown to WhatsApp's reviewers. */
  example: string;
  category: string;
  /** A language code ("es", "es_AR", "en") or Optiwe's SPANISH / ENGLISH. */
  language: string;
  buttons?: { type: string; text: string; url?: string; urlExample?: string; phoneNumber?: string }[];
};

export type CreateOptions = {
  /** For the one provider request, in ms. */
  timeoutMs: number;
  /** Where the outcome is logged (a request's or a job's child logger). */
  log?: Pick<Logger, 'info' | 'warn'>;
};

const CREATING = 'create the template';

/** Problems the engine itself has with a body, beyond the provider's rules. */
export function bodyProblems(draft: ProviderTemplateDraft): string[] {
  const problems: string[] = [];
  const numbers = new Set([...draft.body.matchAll(/\{\{\s*(\d+)\s*\}\}/g)].map((m) => Number(m[1])));
  for (let n = 1; n <= numbers.size; n++) {
    if (!numbers.has(n)) {
      problems.push(`body: placeholders must be numbered {{1}} to {{${numbers.size}}} without gaps; {{${n}}} is missing`);
      break;
    }
  }
  if (/\{\{\s*\d+\s*\}\}/.test(draft.example)) problems.push('example: replace every {{n}} with a sample value');
  return problems;
}

function optiweDraft(draft: ProviderTemplateDraft): OptiweTemplateDraft {
  return {
    name: draft.name,
    text: draft.body,
    example: draft.example,
    category: draft.category,
    language: draft.language,
    ...(draft.buttons ? { buttons: draft.buttons } : {}),
  };
}

export async function createProviderTemplate(
  db: Db,
  tenantId: string,
  accountId: string,
  draft: ProviderTemplateDraft,
  options: CreateOptions,
): Promise<Template> {
  const account = await loadProviderAccount(db, tenantId, accountId);
  if (account.provider !== 'optiwe') {
    const instead = TEMPLATE_CAPABILITIES[account.provider].createInstead ?? 'register its templates with POST /v1/templates';
    throw errors.templateCreationUnsupported(providerLabel(account.provider), instead);
  }

  // Optiwe's field names ("text") are the engine's ("body") in what the user reads. Its `key`
  // is always the name here, so a problem with the key is the name's problem, said once.
  const wire = optiweDraft(draft);
  const optiweProblems = validateOptiweTemplate(wire)
    .filter((p) => !p.startsWith('key '))
    .map((p) => p.replace(/^text /, 'body '));
  const problems = [...optiweProblems, ...bodyProblems(draft)];
  if (problems.length > 0) throw errors.validation(problems);

  const settings = account.settings as AccountSettings<OptiweConfig, OptiweCredentials>;
  const built = buildCreateTemplateRequest(wire, settings);
  if (!built.ok) throw errors.validation(built.problems);
  const http = await sendHttp(built.request, options.timeoutMs);
  if (!http.ok) throw providerCallError(account, CREATING, http.outcome, { mayHaveHappened: true });

  const created = parseCreateTemplateResponse(http.response);
  if (!created.ok) {
    const label = providerLabel(account.provider);
    if (created.problem === 'already_exists') throw errors.providerTemplateExists(label, draft.name);
    if (created.problem === 'invalid') {
      const details = Object.entries(created.details).map(([field, text]) => `${field === 'text' ? 'body' : field}: ${text}`);
      const listed = details.length > 0 ? details : [created.providerText || 'validation error'];
      throw errors.providerTemplateInvalid(label, listed.map((d) => scrubSecrets(d, account.settings.credentials)));
    }
    // Optiwe answered, so nothing is in doubt: a timeout is the only ambiguous case, above.
    throw providerCallError(account, CREATING, created.outcome, { mayHaveHappened: created.outcome.kind === 'ambiguous' });
  }

  const t = created.template;
  const fields = {
    externalId: t.externalId,
    category: t.category,
    body: t.body,
    paramCount: t.paramCount,
    paramNames: [],
    status: t.status,
    // Stored now, not at the next sync, so the row says what Optiwe will match a send against.
    headerType: 'none',
    buttons: toTemplateButtons(t.buttons),
  };
  const template = await db.prisma.template.upsert({
    where: { accountId_name_language: { accountId, name: t.name, language: t.language } },
    create: { tenantId, accountId, name: t.name, language: t.language, ...fields },
    update: fields,
  });
  options.log?.info({ accountId, provider: account.provider, templateId: template.id, externalId: t.externalId, status: t.status }, 'template created at the provider');
  return template;
}
