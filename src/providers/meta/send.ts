/**
 * Template send: POST {baseUrl}/{apiVersion}/{phoneNumberId}/messages. A success carries the
 * wamid (accepted by Meta, not yet delivered; delivery comes by webhook). An error carries a
 * Graph code, which decides the outcome whatever the HTTP status.
 */
import { outcome, parseJson, undocumented } from '../outcome.js';
import { MessageBuildError, type AccountSettings, type HttpRequest, type HttpResponse, type MediaRef, type OutboundMessage, type SendOutcome } from '../types.js';
import { graphRequest, graphRoot } from './endpoint.js';
import { metaFailure } from './response.js';
import { metaSendSuccessSchema, type MetaConfig, type MetaCredentials } from './schemas.js';

const POSITIONAL = /\{\{\d+\}\}/;
/** Meta refuses a text parameter holding a newline, a tab or more than 4 spaces in a row (code 100). */
const UNSENDABLE_TEXT = /[\n\r\t]| {5}/;

function mediaParameter(media: MediaRef): Record<string, unknown> {
  if (!media.link && !media.id) throw new MessageBuildError('template', `A ${media.type} header for Meta needs a public link or an uploaded media id.`);
  const source = media.id ? { id: media.id } : { link: media.link };
  const filename = media.type === 'document' && media.filename ? { filename: media.filename } : {};
  return { type: media.type, [media.type]: { ...source, ...filename } };
}

/**
 * The `template` object. Body parameters are positional, unless the template's body uses named
 * placeholders ({{first_name}}) and the template lists their names: then each carries its name.
 */
export function metaTemplateObject(message: OutboundMessage): Record<string, unknown> {
  const { template } = message;
  const components: Record<string, unknown>[] = [];
  if (message.media) components.push({ type: 'header', parameters: [mediaParameter(message.media)] });
  if (message.variables.length > 0) {
    const named = !POSITIONAL.test(template.body) && template.paramNames.length > 0;
    if (named && template.paramNames.length < message.variables.length) {
      throw new MessageBuildError('template', `Template "${template.name}" uses named parameters but names ${template.paramNames.length} of the ${message.variables.length} values; sync the template.`);
    }
    const bad = message.variables.findIndex((text) => UNSENDABLE_TEXT.test(text));
    if (bad >= 0) {
      throw new MessageBuildError('recipient', `Variable ${bad + 1} holds a newline, a tab or more than 4 spaces in a row, which Meta refuses in a template parameter.`);
    }
    components.push({
      type: 'body',
      parameters: message.variables.map((text, i) =>
        named ? { type: 'text', parameter_name: template.paramNames[i], text } : { type: 'text', text },
      ),
    });
  }
  for (const button of [...(message.buttonParams ?? [])].sort((a, b) => a.index - b.index)) {
    components.push({
      type: 'button',
      sub_type: button.subType,
      // Meta's reference examples write the index as a string.
      index: String(button.index),
      parameters: [button.subType === 'quick_reply' ? { type: 'payload', payload: button.value } : { type: 'text', text: button.value }],
    });
  }
  return { name: template.name, language: { code: template.language }, ...(components.length === 0 ? {} : { components }) };
}

export function buildMetaSendRequest(message: OutboundMessage, account: AccountSettings<MetaConfig, MetaCredentials>): HttpRequest {
  // The schema requires it; an account stored before it did, or built by hand, may still lack it.
  if (!account.config.phoneNumberId) {
    throw new MessageBuildError('account', "The Meta account has no phoneNumberId (the sending number's Graph id); set it in the account's config.");
  }
  const body = {
    messaging_product: 'whatsapp',
    // E.164 with its +: Meta recommends the plus sign, and without it prefixes the business
    // number's own country code, which can misdeliver.
    to: message.phone,
    type: 'template',
    template: metaTemplateObject(message),
  };
  return graphRequest('POST', `${graphRoot(account.config)}/${account.config.phoneNumberId}/messages`, account.credentials, body);
}

/** `attempt`: which attempt of this recipient's send the response answers (1 for the first). */
export function parseMetaSendResponse(response: HttpResponse, attempt?: number): SendOutcome {
  const success = metaSendSuccessSchema.safeParse(parseJson(response.body));
  const failure = metaFailure(response, () => success.success, attempt);
  // The schema requires messages[0].id; the checks below keep the compiler as sure as we are.
  const first = success.success ? success.data.messages[0] : undefined;
  if (failure || !success.success || !first) return failure ?? undocumented(response.status, response.body);
  const waId = success.data.contacts?.[0]?.wa_id;
  return outcome('SENT', 'Meta accepted the message (delivery is reported by webhook).', {
    messageId: first.id,
    providerCode: first.message_status ?? String(response.status),
    // wa_id can differ from the number sent (Argentina 549/54, Mexico 521/52, Brazil's 9th digit).
    ...(waId === undefined ? {} : { providerText: `wa_id ${waId}` }),
  });
}
