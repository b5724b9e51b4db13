/**
 * Optiwe's templates as an adapter capability: its listing and its creation API, in the
 * engine's shapes. Optiwe's field names ("text") become the engine's ("body") in everything a
 * user reads, and its `key` is always the template's name, so a problem with the key is said
 * once, as the name's.
 */
import { toTemplateButtons } from '../template-buttons.js';
import { MessageBuildError, type ListedTemplate, type TemplateDraft, type TemplatesCapability } from '../types.js';
import type { OptiweConfig, OptiweCredentials } from './schemas.js';
import {
  buildCreateTemplateRequest,
  buildOptiweListTemplatesRequest,
  parseCreateTemplateResponse,
  parseOptiweListTemplatesResponse,
  validateOptiweTemplate,
  type OptiweTemplateDraft,
  type OptiweTemplateRecord,
} from './templates.js';

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
    externalId: t.externalId,
    name: t.name,
    language: t.language,
    category: t.category,
    body: t.body,
    paramCount: t.paramCount,
    paramNames: null,
    status: t.status,
    // Optiwe templates are text only: TEXT is the one templateType its manual has, with no header.
    headerType: 'none',
    buttons: toTemplateButtons(t.buttons),
  };
}

export const optiweTemplates: TemplatesCapability<OptiweConfig, OptiweCredentials> = {
  list: {
    buildListRequest: (account) => buildOptiweListTemplatesRequest(account),
    parseListResponse(response) {
      const parsed = parseOptiweListTemplatesResponse(response);
      if (!parsed.ok) return parsed;
      return { ok: true, templates: parsed.templates.map(toListedTemplate), skipped: parsed.skipped, nextCursor: null };
    },
  },
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
