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
 * An adapter is two pure functions plus schemas: buildSendRequest(message, account) -> request
 * and parseSendResponse(response, message) -> outcome. The one function that does HTTP lives
 * in ./http.ts, shared by every adapter, with timeouts.
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
