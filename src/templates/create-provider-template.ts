/**
 * Creating a template at the provider, where its adapter has a templates `create` capability
 * (today Optiwe's).
 * The draft is checked here first and every problem is listed at once, so a user does not
 * learn Optiwe's rules one 400 at a time; then it is sent, and stored as the provider answers
 * it (IN_REVIEW is `pending`: a campaign cannot start on it until a sync sees it approved).
 */
import type { Db, Template } from '../db/database.js';
import { errors } from '../errors.js';
import type { Logger } from '../logger.js';
import { sendHttp } from '../providers/http.js';
import { adapterFor, providerLabel } from '../providers/registry.js';
import { MessageBuildError, REGISTER_TEMPLATES_BY_HAND, type HttpRequest, type TemplateDraft } from '../providers/types.js';
import { scrubSecrets } from '../security/secret-scrubber.js';
import { loadProviderAccount, providerCallError } from './provider-account.js';

/** A template as the engine asks a provider to create it. */
export type ProviderTemplateDraft = TemplateDraft;

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

export async function createProviderTemplate(
  db: Db,
  tenantId: string,
  accountId: string,
  draft: ProviderTemplateDraft,
  options: CreateOptions,
): Promise<Template> {
  const account = await loadProviderAccount(db, tenantId, accountId);
  const label = providerLabel(account.provider);
  const capability = adapterFor(account.provider)?.templates;
  const create = capability?.create;
  if (!create) throw errors.templateCreationUnsupported(label, capability?.createInstead ?? REGISTER_TEMPLATES_BY_HAND);

  const problems = [...create.problems(draft), ...bodyProblems(draft)];
  if (problems.length > 0) throw errors.validation(problems);

  let request: HttpRequest;
  try {
    request = create.buildCreateRequest(draft, account.settings);
  } catch (error) {
    if (error instanceof MessageBuildError) throw errors.validation([error.message]);
    throw error;
  }
  const http = await sendHttp(request, options.timeoutMs);
  if (!http.ok) throw providerCallError(account, CREATING, http.outcome, { mayHaveHappened: true });

  const created = create.parseCreateResponse(http.response);
  if (!created.ok) {
    if (created.problem === 'already_exists') throw errors.providerTemplateExists(label, draft.name);
    if (created.problem === 'invalid') throw errors.providerTemplateInvalid(label, created.details.map((d) => scrubSecrets(d, account.settings.credentials)));
    // The provider answered, so nothing is in doubt: a timeout is the only ambiguous case, above.
    throw providerCallError(account, CREATING, created.outcome, { mayHaveHappened: created.outcome.kind === 'ambiguous' });
  }

  const t = created.template;
  const fields = {
    externalId: t.externalId,
    ...(t.category === null ? {} : { category: t.category }),
    body: t.body,
    paramCount: t.paramCount,
    paramNames: t.paramNames ?? [],
    status: t.status,
    // Stored now, not at the next sync, so the row says what the provider will match a send against.
    headerType: t.headerType ?? 'none',
    ...(t.buttons === null ? {} : { buttons: t.buttons }),
  };
  const template = await db.prisma.template.upsert({
    where: { accountId_name_language: { accountId, name: t.name, language: t.language } },
    create: { tenantId, accountId, name: t.name, language: t.language, ...fields },
    update: fields,
  });
  options.log?.info({ accountId, provider: account.provider, templateId: template.id, externalId: t.externalId, status: t.status }, 'template created at the provider');
  return template;
}
