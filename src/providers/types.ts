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
};

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

export interface ProviderAdapter<Config = unknown, Credentials = unknown> {
  readonly provider: ProviderName;
  /** Non-secret settings; a `baseUrl` override for on-premise hosts and tests belongs here. */
  readonly configSchema: z.ZodType<Config>;
  /** Secrets. Never logged, never returned by the API. */
  readonly credentialsSchema: z.ZodType<Credentials>;
  buildSendRequest(message: OutboundMessage, account: AccountSettings<Config, Credentials>): HttpRequest;
  parseSendResponse(response: HttpResponse, message: OutboundMessage): SendOutcome;
  /** A provider's own rule for recipients' numbers, applied at ingest (contacto-multichat: Colombian only). */
  readonly phoneRule?: (e164: string) => { code: string; message: string } | null;
  /** Present when the provider takes many recipients per request (Optiwe bulk). */
  readonly batch?: BatchCapability<Config, Credentials>;
}

export interface BatchCapability<Config, Credentials> {
  /** Most messages one request may carry. */
  readonly maxSize: number;
  buildBatchRequest(messages: readonly OutboundMessage[], account: AccountSettings<Config, Credentials>): HttpRequest;
  /** One outcome per message, in the same order. */
  parseBatchResponse(response: HttpResponse, messages: readonly OutboundMessage[]): SendOutcome[];
}
