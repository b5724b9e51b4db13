/**
 * Template send: POST {baseUrl}/{apiVersion}/{phoneNumberId}/messages. A success carries the
 * wamid (accepted by Meta, not yet delivered; delivery comes by webhook). An error carries a
 * Graph code, which decides the outcome whatever the HTTP status.
 */
import { outcome, parseJson, undocumented } from '../outcome.js';
import type { AccountSettings, HttpRequest, HttpResponse, MediaRef, OutboundMessage, SendOutcome } from '../types.js';
import { graphRequest, graphRoot } from './endpoint.js';
import { metaFailure } from './response.js';
import { metaSendSuccessSchema, type MetaConfig, type MetaCredentials } from './schemas.js';

const POSITIONAL = /\{\{\d+\}\}/;

function mediaParameter(media: MediaRef): Record<string, unknown> {
  if (!media.link && !media.id) throw new RangeError(`A ${media.type} header for Meta needs a public link or an uploaded media id.`);
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

export function parseMetaSendResponse(response: HttpResponse): SendOutcome {
  const success = metaSendSuccessSchema.safeParse(parseJson(response.body));
  const failure = metaFailure(response, () => success.success);
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
