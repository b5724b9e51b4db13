/**
 * The provider adapter contract.
 *
 * Glossary, so every later name means one thing:
 * - account: one provider account the engine sends through (credentials + sender settings).
 * - message: one template (or plain text) send to one recipient.
 * - request / response: plain data describing one HTTP exchange; adapters never do I/O.
 * - outcome: what a response (or a network failure) means for the engine, normalized into one
 *   of a few kinds, each naming what the engine must do next. The provider's own code and
 *   text ride along unchanged.
 *
 * - capability: an optional part of an adapter (batch, text, webhook, templates, balance). The
 *   engine asks the adapter whether it has one instead of switching on the provider's name, so a
 *   provider is its folder plus one line in ./registry.ts.
 *
 * An adapter is two pure functions plus schemas: buildSendRequest(message, account) -> request
 * and parseSendResponse(response, message) -> outcome. The one function that does HTTP lives
 * in ./http.ts, shared by every adapter, with timeouts. Capabilities follow the same rule: they
 * build requests and read responses (or request bodies), and never do I/O themselves.
 *
 * Over 300 lines on purpose: this is the whole contract a provider folder fulfils, read top to
 * bottom in one place.
 */
import type { z } from 'zod';

export const PROVIDERS = ['sandbox', 'adereso', 'multichat', 'optiwe', 'atomchat', 'meta'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

export type TemplateRef = {
  /** The provider's template name (Meta/Adereso element_name). */
  name: string;
  /** The provider's own id where it has one (multichat id_template, Optiwe id, AtomChat templateId). */
  externalId: string | null;
  language: string;
  category: 'MARKETING' | 'UTILITY' | 'AUTHENTICATION';
  /** Body text with {{1}}..{{n}} placeholders. */
  body: string;
  /** Placeholder names by position, for providers that take a named map (AtomChat). */
  paramNames: readonly string[];
  /** Header kind; a media header needs `media` on every send. Absent: none. */
  headerType?: TemplateHeaderType;
  /** Buttons in definition order (Optiwe matches the rendered text, buttons included). */
  buttons?: readonly TemplateButton[];
};

export const TEMPLATE_HEADER_TYPES = ['none', 'text', 'image', 'video', 'document'] as const;
export type TemplateHeaderType = (typeof TEMPLATE_HEADER_TYPES)[number];
export type TemplateButton = { type: 'QUICK_REPLY' | 'URL' | 'PHONE_NUMBER'; text: string; value?: string };

export type MediaRef = {
  type: 'image' | 'video' | 'document';
  /** Public URL of the file. */
  link?: string;
  /** Provider media id (Meta) or base64 content (multichat). */
  id?: string;
  base64?: string;
  filename?: string;
};

export type OutboundMessage = {
  /** The engine's own reference for this send (the recipient id); echoed back by some providers. */
  reference: string;
  /** E.164 with the leading +. */
  phone: string;
  template: TemplateRef;
  /** Template parameters by position ({{1}} is variables[0]). */
  variables: readonly string[];
  media?: MediaRef;
  /** Per-button parameters by button index (quick-reply payload or URL suffix). */
  buttonParams?: readonly { index: number; subType: 'quick_reply' | 'url'; value: string }[];
  /** Recipient display name, for providers that create a contact (AtomChat clientName). */
  recipientName?: string;
  /**
   * Which attempt this send is for this recipient, 1 for the first. Read by outcomes whose wait
   * grows with each failure (Meta 131056: 4^n s); treated as 1 when absent.
   */
  attempt?: number;
};

/** An account as an adapter sees it: its validated settings and secrets. */
export type AccountSettings<Config = unknown, Credentials = unknown> = {
  id: string;
  config: Config;
  credentials: Credentials;
};

export type HttpRequest = {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers: Record<string, string>;
  /** Already serialized (JSON, form-urlencoded...). */
  body?: string;
};

export type HttpResponse = {
  status: number;
  headers: Record<string, string>;
  body: string;
};

/**
 * What the engine must do next. Each kind is acted on in one place (src/sending/apply-outcome.ts).
 */
export type OutcomeKind =
  /** The provider took the message and (where it says) sent it. */
  | 'sent'
  /** The provider took it but has not confirmed the send yet (AtomChat "Pending", 202). */
  | 'accepted'
  /** The provider says this exact message already went out (multichat code 9). */
  | 'already_sent'
  /** Transient: try again later; spends an attempt. */
  | 'retry'
  /** Not now for this recipient (Meta 131049, a per-user marketing cap): defer it by retryAfterMs, spend no attempt. */
  | 'deferred'
  /** The provider asks us to slow down; slow the account, spend no attempt. */
  | 'rate_limited'
  /** Tier, plan or balance limit: stop the account's sends until it clears. */
  | 'account_limited'
  /** Auth or configuration: pause the account and tell the operator. */
  | 'account_error'
  /** The template itself is wrong: stop the campaign, every other recipient would fail alike. */
  | 'template_error'
  /** This recipient cannot get this message: fail this recipient only. */
  | 'recipient_error'
  /** The recipient opted out: fail and suppress. */
  | 'opted_out'
  /** The request may or may not have reached the provider (timeout after sending). */
  | 'ambiguous';

export type SendOutcome = {
  kind: OutcomeKind;
  /** Stable engine-wide code (see ./outcome.ts), the same whatever the provider. */
  code: string;
  /** A sentence for the operator. */
  message: string;
  /** The provider's message id, where it returns one. */
  messageId?: string;
  /** The provider's own code and text, unchanged. */
  providerCode?: string;
  providerText?: string;
  /** When the provider says how long to wait. */
  retryAfterMs?: number;
  /** The raw body, kept for responses the manual does not document. */
  raw?: string;
};

/** What a message that cannot be built is wrong about, and so what the engine stops. */
export type MessageBuildScope =
  /** The template or the campaign's settings for it (provider id, parameter names, header media, buttons): stop the campaign. */
  | 'template'
  /** This recipient's own data (a variable or phone the provider cannot carry): fail this recipient only. */
  | 'recipient'
  /** The account's settings (e.g. Meta phoneNumberId): pause the account. */
  | 'account';

/**
 * Thrown by buildSendRequest (and buildBatchRequest) when a message cannot be expressed in the
 * provider's format. Nothing was sent. `scope` says what is wrong, so the engine fails no more
 * than it must; the message is a sentence for the operator. From a batch, a 'recipient' error
 * carries the `reference` of the message at fault.
 */
export class MessageBuildError extends Error {
  override name = 'MessageBuildError';
  constructor(
    readonly scope: MessageBuildScope,
    message: string,
    readonly reference?: string,
  ) {
    super(message);
  }
}

export interface ProviderAdapter<Config = unknown, Credentials = unknown> {
  readonly provider: ProviderName;
  /** The provider as an operator knows it ("contacto-multichat", "Meta Cloud API"), in messages and errors. */
  readonly label: string;
  /**
   * A stand-in that sends no real messages (the sandbox): it exists only where an operator
   * enables it (SANDBOX_PROVIDER_ENABLED), so a tenant cannot point it at internal services.
   */
  readonly standIn?: true;
  /** Non-secret settings; a `baseUrl` override for on-premise hosts and tests belongs here. */
  readonly configSchema: z.ZodType<Config>;
  /** Secrets. Never logged, never returned by the API. */
  readonly credentialsSchema: z.ZodType<Credentials>;
  /** Throws MessageBuildError when the message cannot be expressed in the provider's format. */
  buildSendRequest(message: OutboundMessage, account: AccountSettings<Config, Credentials>): HttpRequest;
  parseSendResponse(response: HttpResponse, message: OutboundMessage): SendOutcome;
  /** A provider's own rule for recipients' numbers, applied at ingest (contacto-multichat: Colombian only). */
  readonly phoneRule?: (e164: string) => { code: string; message: string } | null;
  /** Present when the provider takes many recipients per request (Optiwe bulk). */
  readonly batch?: BatchCapability<Config, Credentials>;
  /** Present when the provider sends free text outside a template (Adereso's proactive conversation). */
  readonly text?: TextCapability<Config, Credentials>;
  /** Present when the provider pushes statuses or replies to the engine's webhook URL. */
  readonly webhook?: WebhookCapability<Config, Credentials>;
  /** Template listing and creation, or, where the provider has no API for them, what the operator does instead. */
  readonly templates?: TemplatesCapability<Config, Credentials>;
  /** Present when the provider answers a balance query (contacto-multichat is prepaid). */
  readonly balance?: BalanceCapability<Config, Credentials>;
  /**
   * Every form under which the provider may report a phone the engine sent to (WhatsApp's wa_id:
   * Mexico 521/52, Argentina 549/54, Brazil's 9th digit), the E.164 itself first. Absent: the
   * phone alone.
   */
  readonly waIdVariants?: (e164: string) => string[];
}

/** Options of a free-text send that the campaign (or account) chooses. */
export type TextSendOptions = { noManualReopen?: boolean; noManualMerge?: boolean };

export interface TextCapability<Config, Credentials> {
  /** The message's text is `template.body` with {{n}} filled from `variables`. */
  buildTextRequest(message: OutboundMessage, account: AccountSettings<Config, Credentials>, options: TextSendOptions): HttpRequest;
  parseTextResponse(response: HttpResponse, message: OutboundMessage): SendOutcome;
}

export interface BatchCapability<Config, Credentials> {
  /** Most messages one request may carry. */
  readonly maxSize: number;
  /**
   * Whether this message can go in a batch request. One that cannot (Optiwe: a template with no
   * numeric provider id, media, button parameters) is sent alone with buildSendRequest, which
   * may still express it.
   */
  accepts(message: OutboundMessage): boolean;
  /** Throws MessageBuildError for a message `accepts` refuses, RangeError for a batch that is empty, too large or mixes templates. */
  buildBatchRequest(messages: readonly OutboundMessage[], account: AccountSettings<Config, Credentials>): HttpRequest;
  /** One outcome per message, in the same order. */
  parseBatchResponse(response: HttpResponse, messages: readonly OutboundMessage[]): SendOutcome[];
}

// --- Webhooks ---------------------------------------------------------------------------------

/** A delivery status for a message the engine sent. */
export type StatusEvent = {
  type: 'status';
  /** The provider's message id (Meta wamid), when the event carries one. */
  providerMessageId: string | null;
  /** The engine's own reference echoed back (multichat custom_field = recipient id), when there is one. */
  reference: string | null;
  /** The recipient's phone in E.164, when the event carries it (for providers with neither id nor reference). */
  phone: string | null;
  status: 'sent' | 'delivered' | 'read' | 'failed';
  /** The provider's time for the event; the receive time when it gives none. */
  occurredAt: Date;
  /** For `failed`: the failure classified like a synchronous one (kind, normalized code, provider code and text). */
  failure?: SendOutcome;
};

/** A message from a recipient to the business: a reply, or a quick-reply button tap. */
export type InboundEvent = {
  type: 'inbound';
  /** The provider's id for the inbound message; a stable hash of the event when it gives none. */
  providerMessageId: string;
  /** The engine's reference echoed back (multichat custom_field), when there is one. */
  reference: string | null;
  /** The sender's phone in E.164 (as the provider reports it: Meta's wa_id may differ from what was sent). */
  phone: string;
  text: string | null;
  /** A quick-reply button's payload. */
  buttonPayload: string | null;
  /**
   * The provider's id of the message this one answers, when it says (Meta `context.id`: for a
   * quick-reply tap, the wamid of the template message whose button was tapped).
   */
  inReplyTo?: string;
  occurredAt: Date;
};

export type WebhookItem = StatusEvent | InboundEvent;

/**
 * A parsed webhook request: the events it carries, how many parts were of no interest to the
 * engine, and the parts addressed to another account (`otherAccount`, never applied).
 */
export type ParsedWebhook = {
  events: WebhookItem[];
  ignored: number;
  /** Account-level news (quality rating, messaging tier, restrictions), applied to the account, not to recipients. */
  accountHealth?: AccountHealthUpdate[];
  /** Parts naming another sender than the account whose URL received them (Meta phone_number_id or WABA id); dropped. */
  otherAccount?: { count: number; ids: string[] };
};

export const QUALITY_RATINGS = ['GREEN', 'YELLOW', 'RED'] as const;
export type QualityRating = (typeof QUALITY_RATINGS)[number];

/**
 * What a provider says about a sending account as a whole (Meta's phone_number_quality_update
 * and account_update). Each field is present only when the notice speaks about it.
 */
export type AccountHealthUpdate = {
  /** The provider's event name (FLAGGED, DOWNGRADE, ACCOUNT_RESTRICTION...), kept for the record. */
  event: string;
  /** The provider's time for the notice; orders notices that arrive out of order or twice. */
  occurredAt: Date;
  /** null: the provider says the rating is no longer low but not what it is. */
  qualityRating?: QualityRating | null;
  flagged?: boolean;
  /** The messaging tier as the provider names it (TIER_1K...) and what it means: unique recipients per 24 h, null for unlimited. */
  tier?: { name: string; messagingLimit: number | null };
  /** A restriction on sending (code, and until when if the provider says); null: lifted. */
  restriction?: { code: string; until: Date | null } | null;
};

/** The body is not what the provider's manual describes; the receiver answers 400 and counts it. */
export class WebhookFormatError extends Error {
  override name = 'WebhookFormatError';
}

/** A webhook request as received, before its body is parsed. */
export type WebhookRequest = { rawBody: Buffer; headers: Readonly<Record<string, string | string[] | undefined>> };

/** `unconfigured`: the account lacks what the check needs (Meta's app secret); `invalid`: the request fails it. */
export type WebhookVerdict = { ok: true } | { ok: false; problem: 'unconfigured' | 'invalid' };

export type WebhookParseInput<Config> = {
  body: string;
  /** The request's Content-Type header. */
  contentType: string | null;
  /** Stands in for an event's time when it carries none. */
  receivedAt: Date;
  /** The receiving account's settings, to refuse parts addressed to another account; null: not checked. */
  config: Config | null;
};

export interface WebhookCapability<Config, Credentials> {
  /** Checks the raw request is the provider's (Meta: the HMAC signature), before anything is parsed. */
  verify?(request: WebhookRequest, account: AccountSettings<Config, Credentials>): WebhookVerdict;
  /** A GET verification handshake: the text to answer, or null to refuse. `urlSecret` is the secret in the webhook URL. */
  handshake?(query: Readonly<Record<string, unknown>>, account: AccountSettings<Config, Credentials>, urlSecret: string): string | null;
  /** Pure: throws WebhookFormatError when the body is not what the provider documents. */
  parse(input: WebhookParseInput<Config>): ParsedWebhook;
  /**
   * When the provider says it sent this request (Optiwe's envelope timestamp, the newest of Meta's
   * event times); null when it does not say. A request older than the replay window is refused.
   */
  sentAt?(body: string): Date | null;
  /** The provider's own retry horizon, when it has one (Meta retries for 7 days); absent: the engine's setting. */
  readonly replayWindowMs?: number;
  /** Statuses carry neither a message id nor a reference the engine can rely on, so they are matched by phone. */
  readonly statusesByPhone: boolean;
}

// --- Templates and balance -----------------------------------------------------------------------

/** The engine's template statuses; only `approved` may start a campaign. */
export type TemplateStatus = 'pending' | 'approved' | 'rejected' | 'paused' | 'disabled';

/** One template as the provider lists it, in the engine's shape. */
export type ListedTemplate = {
  /** The provider's id where it gives one (multichat id_template, Optiwe id, Graph id). */
  externalId: string | null;
  name: string;
  language: string;
  /** Null when the provider does not say (multichat): a stored template keeps its own. */
  category: TemplateRef['category'] | null;
  body: string;
  paramCount: number;
  /** Null when the provider has no names for its placeholders: a stored template keeps its own. */
  paramNames: string[] | null;
  status: TemplateStatus;
  /** Null when the provider does not say (multichat): a stored template keeps its own. */
  headerType: TemplateHeaderType | null;
  /** In the provider's order. Null when the provider does not say: a stored template keeps its own. */
  buttons: TemplateButton[] | null;
};

/** One page of a provider's template listing. `skipped`: entries that could not be read, by index in the body's first list. */
export type TemplatePage =
  | { ok: true; templates: ListedTemplate[]; skipped: { index: number; problem: string }[]; nextCursor: string | null }
  | { ok: false; outcome: SendOutcome };

/** A template as the engine asks a provider to create it. */
export type TemplateDraft = {
  name: string;
  /** Body text with {{1}}..{{n}} placeholders. */
  body: string;
  /** The body with sample values, shown to WhatsApp's reviewers. */
  example: string;
  category: string;
  /** A language code ("es", "es_AR", "en") or a provider's own word for it. */
  language: string;
  buttons?: { type: string; text: string; url?: string; urlExample?: string; phoneNumber?: string }[];
};

export type TemplateCreated =
  | { ok: true; template: ListedTemplate }
  | { ok: false; problem: 'already_exists' }
  /** The provider's own validation; `details` in the engine's field names ("body: ..."). */
  | { ok: false; problem: 'invalid'; details: string[] }
  /** Auth, rate limit, outage or an undocumented answer: what the engine must do, as for a send. */
  | { ok: false; problem: 'request_failed'; outcome: SendOutcome };

/** What an operator does with a provider whose templates the engine cannot list or create. */
export const REGISTER_TEMPLATES_BY_HAND = 'register its templates with POST /v1/templates';

export interface TemplatesCapability<Config, Credentials> {
  readonly list?: {
    /**
     * The first page (cursor null) or the page after `cursor`. Throws MessageBuildError('account')
     * when the account lacks a setting the listing needs (Meta's wabaId).
     */
    buildListRequest(account: AccountSettings<Config, Credentials>, cursor: string | null): HttpRequest;
    parseListResponse(response: HttpResponse): TemplatePage;
  };
  readonly create?: {
    /** Every problem the provider's rules find in the draft, in the engine's field names; empty when valid. */
    problems(draft: TemplateDraft): string[];
    buildCreateRequest(draft: TemplateDraft, account: AccountSettings<Config, Credentials>): HttpRequest;
    parseCreateResponse(response: HttpResponse): TemplateCreated;
  };
  /** Without `list`: what the operator does instead, as a clause ("register its templates with POST /v1/templates"). */
  readonly listInstead?: string;
  /** Without `create`: what the operator does instead. */
  readonly createInstead?: string;
}

export type BalanceResult = { ok: true; balance: number } | { ok: false; outcome: SendOutcome };

export interface BalanceCapability<Config, Credentials> {
  buildBalanceRequest(account: AccountSettings<Config, Credentials>): HttpRequest;
  /** The balance in the account's units; the manual may not say whether messages or money. */
  parseBalanceResponse(response: HttpResponse): BalanceResult;
}
