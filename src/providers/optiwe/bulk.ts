/**
 * Bulk send: POST /whatsapp-campaigns/bulk/customers/. One request creates an Optiwe campaign
 * for many customers of one template. The 201 lists the customers Optiwe skipped; the others
 * are queued inside Optiwe, which reports no per-message result (only a campaignId).
 */
import { outcome, parseJson } from '../outcome.js';
import { MessageBuildError, type AccountSettings, type BatchCapability, type HttpRequest, type HttpResponse, type OutboundMessage, type SendOutcome } from '../types.js';
import { OPTIWE_INVALID_CUSTOMER_RULES, optiweFailure } from './classify-error.js';
import { OPTIWE_PATHS, optiweRequest } from './endpoint.js';
import { phoneMatchKey, splitPhone, type OptiwePhone } from './phone.js';
import { optiweBulkCreatedSchema, type OptiweConfig, type OptiweCredentials } from './schemas.js';

/**
 * Messages per bulk request. Optiwe documents no limit. 100 keeps a body near 15 KB, bounds
 * what one whole-request error or one timeout (every message ambiguous) can touch, and still
 * cuts requests a hundredfold against REQUESTS_LIMIT_REACHED.
 */
export const OPTIWE_BULK_MAX_SIZE = 100;

export type OptiweBulkCustomer = {
  phone: OptiwePhone;
  fullName?: string;
  email?: string;
  extraFields?: Record<string, unknown>;
  /** {{1}} is placeholders[0]. */
  placeholders: readonly string[];
};

/** The bulk body, keys in the manual's order. */
export function optiweBulkBody(templateId: number, customers: readonly OptiweBulkCustomer[], campaignName?: string): Record<string, unknown> {
  return {
    templateId,
    ...(campaignName === undefined ? {} : { campaignName }),
    customers: customers.map((c) => ({
      countryCode: c.phone.countryCode,
      phone: c.phone.phone,
      ...(c.fullName === undefined ? {} : { fullName: c.fullName }),
      ...(c.email === undefined ? {} : { email: c.email }),
      ...(c.extraFields === undefined ? {} : { extraFields: c.extraFields }),
      // Needed only when the template has {{n}} placeholders, per the manual.
      ...(c.placeholders.length === 0 ? {} : { templatePlaceholders: Object.fromEntries(c.placeholders.map((v, i) => [String(i + 1), v])) }),
    })),
  };
}

/**
 * Throws MessageBuildError ('template') on messages the bulk endpoint cannot express: a template
 * without its numeric Optiwe id (sync it), media, button parameters (send those one by one). A
 * batch that breaks the contract itself (empty, too large, mixed templates) is the caller's bug:
 * RangeError.
 */
export function buildOptiweBulkRequest(
  messages: readonly OutboundMessage[],
  account: AccountSettings<OptiweConfig, OptiweCredentials>,
): HttpRequest {
  const first = messages[0];
  if (!first) throw new RangeError('An Optiwe bulk request needs at least one message.');
  if (messages.length > OPTIWE_BULK_MAX_SIZE) throw new RangeError(`An Optiwe bulk request takes at most ${OPTIWE_BULK_MAX_SIZE} messages, got ${messages.length}.`);
  const externalId = first.template.externalId;
  const templateId = Number(externalId);
  if (externalId === null || !/^\d+$/.test(externalId)) {
    throw new MessageBuildError('template', `Optiwe bulk sends need the template's numeric Optiwe id (sync the template); got ${String(externalId)}.`);
  }
  for (const m of messages) {
    if (m.template.externalId !== externalId) throw new RangeError('An Optiwe bulk request carries one template; this batch mixes templates.');
    if (m.media) throw new MessageBuildError('template', 'Optiwe templates are text only; a message in this batch carries media.');
    if (m.buttonParams?.length) throw new MessageBuildError('template', 'The Optiwe bulk endpoint takes no button parameters; send these messages one by one.');
  }
  const customers = messages.map((m) => ({
    phone: batchPhone(m, account.config.argentineMobileNine),
    ...(m.recipientName ? { fullName: m.recipientName } : {}),
    placeholders: m.variables,
  }));
  return optiweRequest('POST', OPTIWE_PATHS.bulkSend, account.config, account.credentials, optiweBulkBody(templateId, customers));
}

/** splitPhone, naming the message at fault when its phone cannot be split. */
function batchPhone(message: OutboundMessage, argentineMobileNine: OptiweConfig['argentineMobileNine']): OptiwePhone {
  try {
    return splitPhone(message.phone, argentineMobileNine);
  } catch (error) {
    if (error instanceof MessageBuildError) throw new MessageBuildError(error.scope, error.message, message.reference);
    throw error;
  }
}

/** One outcome per message, in order. */
export function parseOptiweBulkResponse(response: HttpResponse, messages: readonly OutboundMessage[]): SendOutcome[] {
  const failure = optiweFailure(response);
  if (failure) return failure.providerCode === 'INVALID_TEMPLATE_PLACEHOLDER' ? placeholderFailure(failure, messages) : messages.map(() => failure);

  const created = optiweBulkCreatedSchema.safeParse(parseJson(response.body));
  const campaignId = created.success && created.data.campaignId !== undefined ? String(created.data.campaignId) : undefined;
  const invalid = new Map<string, string>();
  for (const customer of created.success ? (created.data.invalidCustomers ?? []) : []) invalid.set(phoneMatchKey(customer.phone), customer.reason);

  // Kind `accepted`, not `sent`: Optiwe queues the customers into a campaign it runs itself
  // and can still drop them later (tier limit, opt-out); no per-message id confirms a send.
  const accepted = outcome('ACCEPTED_PENDING', `Optiwe queued the message in its bulk campaign ${campaignId ?? '(no id returned)'}; it reports no per-message result.`, {
    providerCode: String(response.status),
    ...(campaignId === undefined ? {} : { providerText: `campaignId ${campaignId}` }),
    ...(created.success ? {} : { raw: response.body.slice(0, 2000) }),
  });
  return messages.map((message) => {
    const reason = matchKeys(message.phone).map((key) => invalid.get(key)).find((r) => r !== undefined);
    if (reason === undefined) return accepted;
    const rule = OPTIWE_INVALID_CUSTOMER_RULES[reason] ?? { code: 'RECIPIENT_INVALID' as const, sentence: `Optiwe skipped this customer (${reason}).` };
    return outcome(rule.code, rule.sentence, { providerCode: reason, providerText: reason });
  });
}

/**
 * The keys a reported phone may take for this message: the full number ("+543442567890" as
 * the manual writes it, with or without Argentina's 9) or the national number alone.
 */
function matchKeys(e164: string): string[] {
  const keys = [phoneMatchKey(e164)];
  try {
    keys.push(splitPhone(e164, 'strip').phone, splitPhone(e164, 'keep').phone);
  } catch {
    // Not E.164: the full-number key is all we have.
  }
  return keys;
}

/**
 * A 422 rejects the whole request. Every message gets the template error (the campaign's
 * variables do not fit), but each says whether Optiwe named this recipient, to find the cause.
 */
function placeholderFailure(failure: SendOutcome, messages: readonly OutboundMessage[]): SendOutcome[] {
  const listed = new Set([...(failure.providerText ?? '').matchAll(/'([^']+)'/g)].map((m) => phoneMatchKey(m[1] ?? '')));
  return messages.map((message) =>
    matchKeys(message.phone).some((key) => listed.has(key))
      ? { ...failure, message: `${failure.message} Optiwe named this recipient's placeholders as invalid.` }
      : { ...failure, message: `${failure.message} Optiwe rejected the whole batch; this recipient was not named.` },
  );
}

/** What the bulk endpoint can carry: a template by its numeric Optiwe id, body placeholders only. */
export function optiweBulkAccepts(message: OutboundMessage): boolean {
  const id = message.template.externalId;
  return id !== null && /^\d+$/.test(id) && !message.media && !message.buttonParams?.length;
}

export const optiweBatch: BatchCapability<OptiweConfig, OptiweCredentials> = {
  maxSize: OPTIWE_BULK_MAX_SIZE,
  accepts: optiweBulkAccepts,
  buildBatchRequest: buildOptiweBulkRequest,
  parseBatchResponse: parseOptiweBulkResponse,
};
