/**
 * One entry point from (provider, raw body) to the engine's webhook events. Which providers push
 * events, and how their bodies read, is each adapter's webhook capability
 * (src/providers/<provider>/); this stage only asks for it, and cleans what comes out.
 */
import { adapterFor } from '../providers/registry.js';
import type { ParsedWebhook, SendOutcome, WebhookCapability, WebhookItem } from '../providers/types.js';

export function webhookCapability(provider: string): WebhookCapability<unknown, unknown> | undefined {
  return adapterFor(provider)?.webhook;
}

export function hasWebhooks(provider: string): boolean {
  return webhookCapability(provider) !== undefined;
}

export type ParseOptions = {
  /** Stands in for an event's time when it carries none. Default: now. */
  receivedAt?: Date;
  /** The receiving account's config as stored; parts addressed to another account are dropped. Absent: not checked. */
  config?: unknown;
};

/**
 * Throws WebhookFormatError when the body is not what the provider documents, and RangeError for
 * a provider with no webhooks. Every text in the events is cleaned (see cleanText).
 */
export function parseWebhook(provider: string, body: string, contentType: string | null, options: ParseOptions = {}): ParsedWebhook {
  const adapter = adapterFor(provider);
  const webhook = adapter?.webhook;
  if (!adapter || !webhook) throw new RangeError(`The ${provider} provider has no webhooks.`);
  const config = options.config === undefined ? null : adapter.configSchema.safeParse(options.config);
  const parsed = webhook.parse({
    body,
    contentType,
    receivedAt: options.receivedAt ?? new Date(),
    // Settings that no longer parse cannot name the account's ids: nothing is checked then.
    config: config?.success ? config.data : null,
  });
  const cleaned: ParsedWebhook = { ...parsed, events: parsed.events.map(cleanEvent) };
  if (parsed.accountHealth) {
    cleaned.accountHealth = parsed.accountHealth.map((u) => ({ ...u, event: cleanText(u.event), ...(u.restriction ? { restriction: { ...u.restriction, code: cleanText(u.restriction.code) } } : {}) }));
  }
  return cleaned;
}

/**
 * Text as Postgres can store it: NUL characters removed (a text column refuses them) and lone
 * UTF-16 surrogates replaced with U+FFFD. A reply someone typed is kept, minus what no column
 * can hold, rather than failing the whole request.
 */
export function cleanText(text: string): string {
  // eslint-disable-next-line no-control-regex -- NUL is exactly what must go.
  return text.replace(/\u0000/g, '').replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

const cleanOrNull = (text: string | null): string | null => (text === null ? null : cleanText(text));

function cleanOutcome(outcome: SendOutcome): SendOutcome {
  return {
    ...outcome,
    message: cleanText(outcome.message),
    ...(outcome.providerCode === undefined ? {} : { providerCode: cleanText(outcome.providerCode) }),
    ...(outcome.providerText === undefined ? {} : { providerText: cleanText(outcome.providerText) }),
    ...(outcome.raw === undefined ? {} : { raw: cleanText(outcome.raw) }),
  };
}

function cleanEvent(event: WebhookItem): WebhookItem {
  if (event.type === 'status') {
    return {
      ...event,
      providerMessageId: cleanOrNull(event.providerMessageId),
      reference: cleanOrNull(event.reference),
      ...(event.failure ? { failure: cleanOutcome(event.failure) } : {}),
    };
  }
  return {
    ...event,
    providerMessageId: cleanText(event.providerMessageId),
    reference: cleanOrNull(event.reference),
    text: cleanOrNull(event.text),
    buttonPayload: cleanOrNull(event.buttonPayload),
    ...(event.inReplyTo === undefined ? {} : { inReplyTo: cleanText(event.inReplyTo) }),
  };
}
