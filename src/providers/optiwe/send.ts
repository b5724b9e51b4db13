/**
 * Single send: POST /whatsapp-campaigns/customers/. Success is a 201 with an empty body, so a
 * sent message has no provider id; the engine matches it by recipient instead.
 */
import { outcome } from '../outcome.js';
import { MessageBuildError, type AccountSettings, type HttpRequest, type HttpResponse, type OutboundMessage, type SendOutcome } from '../types.js';
import { optiweFailure } from './classify-error.js';
import { OPTIWE_PATHS, optiweRequest } from './endpoint.js';
import { renderOptiweText, templateButtons } from './message-text.js';
import { splitPhone, type OptiwePhone } from './phone.js';
import type { OptiweConfig, OptiweCredentials } from './schemas.js';

/** Fields of the single-send body, in the manual's order (JSON keeps insertion order). */
export type OptiweCustomerInput = {
  phone: OptiwePhone;
  text: string;
  fullName?: string;
  email?: string;
  fields?: Record<string, unknown>;
  overrideCustomerData?: boolean;
};

export function optiweCustomerBody(input: OptiweCustomerInput): Record<string, unknown> {
  return {
    ...(input.fullName === undefined ? {} : { customerFullName: input.fullName }),
    ...(input.email === undefined ? {} : { customerEmail: input.email }),
    ...(input.fields === undefined ? {} : { customerFields: input.fields }),
    customerPhone: input.phone.phone,
    customerCountryCode: input.phone.countryCode,
    ...(input.overrideCustomerData === undefined ? {} : { overrideCustomerData: input.overrideCustomerData }),
    messagePayload: { text: input.text },
  };
}

export function buildOptiweSendRequest(message: OutboundMessage, account: AccountSettings<OptiweConfig, OptiweCredentials>): HttpRequest {
  if (message.media) throw new MessageBuildError('template', 'Optiwe templates are text only (templateType TEXT); this message carries media.');
  const text = renderOptiweText(message.template.body, message.variables, templateButtons(message.template), message.buttonParams);
  const body = optiweCustomerBody({
    phone: splitPhone(message.phone, account.config.argentineMobileNine),
    text,
    ...(message.recipientName ? { fullName: message.recipientName } : {}),
    ...(account.config.overrideCustomerData === undefined ? {} : { overrideCustomerData: account.config.overrideCustomerData }),
  });
  return optiweRequest('POST', OPTIWE_PATHS.send, account.config, account.credentials, body);
}

export function parseOptiweSendResponse(response: HttpResponse): SendOutcome {
  const failure = optiweFailure(response);
  if (failure) return failure;
  // Any 2xx without an error envelope is Optiwe taking the message. The manual's is a 201 with
  // an empty body; anything else is kept raw, but never retried, since a retry could send twice.
  const documented = response.status === 201 && response.body.trim() === '';
  return outcome('SENT', 'Optiwe accepted the message for sending (it returns no message id).', {
    providerCode: String(response.status),
    ...(documented ? {} : { raw: response.body.slice(0, 2000) }),
  });
}
