/**
 * Every error a user can see is made here: a stable code, an HTTP status and a sentence a
 * person can act on. test/errors.test.ts keeps this list honest (unique codes, real sentences).
 *
 * Over 300 lines on purpose: one table of every error is the point (a reader, a reviewer and
 * the test see every code and its sentence in one place).
 */
export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly code: string,
    readonly statusCode: number,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }

  toJSON(): { error: { code: string; message: string; details?: Record<string, unknown> } } {
    return { error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) } };
  }
}

type Factory = (...args: never[]) => AppError;

function formatBytes(bytes: number): string {
  return bytes % 1_048_576 === 0 ? `${bytes / 1_048_576} MB` : `${bytes.toLocaleString('en-US')}-byte`;
}

/** Names shown in a message: at most this many, then "and N more". */
const NAMES_IN_MESSAGE = 5;
/** Names kept in an error's details. */
const NAMES_IN_DETAILS = 20;
const NAME_CHARS = 40;

/** A name from a file as it can be shown: control characters out, at most NAME_CHARS characters. */
function shownName(name: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what it removes
  const plain = name.replace(/[\u0000-\u001f\u007f-\u009f\ufffd]/g, '').trim();
  return plain.length > NAME_CHARS ? `${plain.slice(0, NAME_CHARS)}…` : plain;
}

/** "a, b, c, d, e and 4,995 more": a file with 5,000 columns still gets a short sentence. */
export function someNames(names: readonly string[], none = 'none'): string {
  if (names.length === 0) return none;
  const shown = names.slice(0, NAMES_IN_MESSAGE).map((name) => `"${shownName(name)}"`).join(', ');
  const more = names.length - NAMES_IN_MESSAGE;
  return more > 0 ? `${shown} and ${more.toLocaleString('en-US')} more` : shown;
}

/** The names for an error's details: the first NAME_IN_DETAILS, shortened, and how many were left out. */
function namesDetail(key: string, names: readonly string[]): Record<string, unknown> {
  const kept = names.slice(0, NAMES_IN_DETAILS).map(shownName);
  return names.length > NAMES_IN_DETAILS ? { [key]: kept, [`${key}LeftOut`]: names.length - NAMES_IN_DETAILS } : { [key]: kept };
}

export const errors = {
  unauthorized: () =>
    new AppError('UNAUTHORIZED', 401, 'An API key is required: send it as "Authorization: Bearer <key>" or "X-Api-Key".'),
  invalidApiKey: () => new AppError('INVALID_API_KEY', 401, 'The API key is not valid, has expired or has been revoked.'),
  insufficientScope: (scope: string, required: string) =>
    new AppError('INSUFFICIENT_SCOPE', 403, `This API key's scope is ${scope}; this request needs a ${required} key.`, { scope, required }),
  apiKeyNotFound: (id: string) => new AppError('API_KEY_NOT_FOUND', 404, `No API key with id ${id} exists for this tenant.`, { apiKeyId: id }),
  apiKeyInactive: (id: string, state: string) =>
    new AppError('API_KEY_INACTIVE', 409, `API key ${id} is ${state}; only an active key can be rotated. Create a new key instead.`, { apiKeyId: id, state }),
  tenantNotFound: (id: string) => new AppError('TENANT_NOT_FOUND', 404, `No tenant with id ${id} exists; list tenants in the database or create one with create-tenant.`, { tenantId: id }),
  webhookRateLimited: (retryAfterSeconds: number) =>
    new AppError('WEBHOOK_RATE_LIMITED', 429, `This webhook URL is receiving more requests than the engine accepts from one account; the provider should retry in ${retryAfterSeconds} s.`, { retryAfterSeconds }),
  rateLimited: (retryAfterSeconds: number) =>
    new AppError('RATE_LIMITED', 429, `Too many requests with this API key; try again in ${retryAfterSeconds} s.`, { retryAfterSeconds }),
  metricsTokenRequired: () =>
    new AppError('METRICS_TOKEN_REQUIRED', 401, 'GET /metrics needs the operator token (METRICS_TOKEN) as "Authorization: Bearer <token>"; tenant API keys do not work here.'),
  metricsDisabled: () => new AppError('METRICS_DISABLED', 404, 'Metrics are off on this API: the operator has not set METRICS_TOKEN.'),
  invalidCharacters: (where: string) =>
    new AppError('INVALID_CHARACTERS', 400, `The text in ${where} contains a NUL character or an unpaired UTF-16 surrogate, which cannot be stored; remove it.`, { where }),
  inputTooDeep: (where: string, maxDepth: number) =>
    new AppError('INPUT_TOO_DEEP', 400, `The ${where} is nested more than ${maxDepth} levels deep; no request needs that.`, { where, maxDepth }),
  bodyTooLarge: (limitBytes: number, hint: string) =>
    new AppError('BODY_TOO_LARGE', 413, `The request body is larger than this route's ${formatBytes(limitBytes)} limit; ${hint}.`, { limitBytes }),
  badRequest: (reason: string) => new AppError('BAD_REQUEST', 400, `The HTTP request could not be read: ${reason.replace(/[.\s]+$/, '')}.`),
  requestTimeout: () => new AppError('REQUEST_TIMEOUT', 408, 'The request was not received in time; send it again, faster or in smaller parts.'),
  headersTooLarge: () => new AppError('HEADERS_TOO_LARGE', 431, 'The request headers are larger than the server accepts; send fewer or shorter headers.'),
  csrfTokenInvalid: () =>
    new AppError('CSRF_TOKEN_INVALID', 403, 'This console request lacks its session\'s CSRF token; reload the page and try again.'),
  consoleSignedOut: () => new AppError('CONSOLE_SIGNED_OUT', 401, 'The console session has ended; sign in again with an API key.'),
  campaignNotDraft: (id: string, status: string) =>
    new AppError('CAMPAIGN_NOT_DRAFT', 409, `Campaign ${id} is ${status}; its schedule and options can only be changed while it is a draft.`, { id, status }),
  webhookNotFound: () =>
    new AppError('WEBHOOK_NOT_FOUND', 404, 'No webhook is registered at this address; use the URL the engine gave when the account was created or its webhook secret was rotated.'),
  webhookUnsupported: (provider: string, supported: readonly string[]) =>
    new AppError('WEBHOOK_UNSUPPORTED', 404, `The ${provider} provider sends no webhooks the engine understands (supported: ${supported.join(', ')}).`, { provider }),
  webhookBodyTooLarge: (limitBytes: number) =>
    new AppError('WEBHOOK_BODY_TOO_LARGE', 413, `The webhook body is larger than the ${limitBytes % 1024 === 0 ? `${limitBytes / 1024} KB` : `${limitBytes}-byte`} limit for webhooks; no provider sends bodies that large.`, { limitBytes }),
  /** `ageSeconds`: how long before now the provider stamped the request (negative: in the future). */
  webhookReplayed: (ageSeconds: number, windowSeconds: number) =>
    new AppError(
      'WEBHOOK_REPLAYED',
      400,
      `The webhook request is stamped ${Math.abs(ageSeconds)} seconds ${ageSeconds < 0 ? 'in the future' : 'ago'}, outside the ${windowSeconds}-second window webhooks are accepted in; it is taken for a replay.`,
      { ageSeconds, windowSeconds },
    ),
  webhookSignatureInvalid: () =>
    new AppError('WEBHOOK_SIGNATURE_INVALID', 401, 'The X-Hub-Signature-256 header is missing or does not match the body signed with the app secret.'),
  webhookSignatureUnconfigured: () =>
    new AppError(
      'WEBHOOK_SIGNATURE_UNCONFIGURED',
      401,
      "This Meta account has no app secret to check webhook signatures with; set credentials.appSecret on the account (Meta retries the events for up to 7 days).",
    ),
  webhookMalformed: (provider: string, reason: string) =>
    new AppError('WEBHOOK_MALFORMED', 400, `The webhook body is not what ${provider} documents: ${reason.replace(/[.\s]+$/, '')}.`, { provider }),
  webhookVerifyFailed: () =>
    new AppError('WEBHOOK_VERIFY_FAILED', 403, 'The verification handshake failed: hub.mode must be "subscribe" and hub.verify_token must match the account\'s verify token.'),
  textCampaignUnsupported: (provider: string) =>
    new AppError('TEXT_CAMPAIGN_UNSUPPORTED', 422, `A ${provider} account cannot send free-text campaigns; only Adereso's proactive conversations can. Use an approved template instead.`, { provider }),
  templateMediaRequired: (name: string, problem: string) =>
    new AppError('TEMPLATE_MEDIA_REQUIRED', 422, `Template "${name}" cannot be sent as configured: ${problem}.`, { template: name }),
  recipientNotFound: (id: string) =>
    new AppError('RECIPIENT_NOT_FOUND', 404, `No recipient with id ${id} exists in this campaign.`, { recipientId: id }),
  validation: (problems: string[]) =>
    new AppError('VALIDATION_FAILED', 400, `The request is not valid: ${problems.join('; ')}.`, { problems }),
  notFound: (what: string, id: string) => new AppError('NOT_FOUND', 404, `No ${what} with id ${id} exists for this tenant.`, { what, id }),
  campaignNotFound: (id: string) =>
    new AppError('CAMPAIGN_NOT_FOUND', 404, `No campaign with id ${id} exists for this tenant.`, { campaignId: id }),
  campaignState: (id: string, state: string, action: string, allowed: readonly string[]) =>
    new AppError(
      'CAMPAIGN_STATE_CONFLICT',
      409,
      `Campaign ${id} is ${state}; "${action}" needs it to be ${allowed.join(' or ')}.`,
      { campaignId: id, state, action, allowed },
    ),
  campaignEmpty: (id: string) =>
    new AppError('CAMPAIGN_EMPTY', 409, `Campaign ${id} has no recipients to send to; upload some first.`, { campaignId: id }),
  templateNotApproved: (name: string, status: string) =>
    new AppError('TEMPLATE_NOT_APPROVED', 409, `Template "${name}" is ${status}; only approved templates can be sent.`, { template: name, status }),
  templateAccountMismatch: (name: string) =>
    new AppError('TEMPLATE_ACCOUNT_MISMATCH', 400, `Template "${name}" belongs to another provider account than the campaign's.`),
  templateVariableMismatch: (expected: number, found: number, columns: readonly string[]) =>
    new AppError(
      'TEMPLATE_VARIABLE_MISMATCH',
      422,
      `The template has ${expected} placeholder(s) but ${found} variable column(s) were found (${someNames(columns)}); name the columns with the "variables" option.`,
      { expected, found, ...namesDetail('columns', columns) },
    ),
  noPhoneColumn: (columns: readonly string[]) =>
    new AppError(
      'NO_PHONE_COLUMN',
      422,
      `No phone column found among: ${someNames(columns, '(no columns)')}. Name it phone, telefono, teléfono, celular, mobile or whatsapp, or pass "phoneColumn".`,
      namesDetail('columns', columns),
    ),
  uploadNotText: (what: string, advice: string) =>
    new AppError('UPLOAD_NOT_TEXT', 415, `The file is ${what}, not a text list of recipients: ${advice}.`, { detected: what }),
  workbookNotRead: (filename?: string) =>
    new AppError(
      'WORKBOOK_NOT_READ',
      415,
      `The file${filename ? ` "${shownName(filename)}"` : ''} is an Excel workbook, which the engine does not read directly: in Excel choose File > Save As > "CSV UTF-8 (comma delimited)" and upload that file.`,
    ),
  encodingUnsupported: (name: string) =>
    new AppError(
      'ENCODING_UNSUPPORTED',
      415,
      `The file's text is in ${name}, which the engine does not read: save it as "CSV UTF-8" (or declare charset=utf-8, utf-16 or windows-1252) and upload it again.`,
      { encoding: name },
    ),
  contentEncodingUnsupported: (encoding: string) =>
    new AppError(
      'CONTENT_ENCODING_UNSUPPORTED',
      415,
      `Content-Encoding "${shownName(encoding)}" is not accepted: send the body uncompressed, or compressed with gzip, deflate or br.`,
      { contentEncoding: shownName(encoding) },
    ),
  uploadTooLarge: (limitBytes: number) =>
    new AppError('UPLOAD_TOO_LARGE', 413, `The upload is larger than the ${formatBytes(limitBytes)} limit; split the file.`, {
      limitBytes,
    }),
  unsupportedMediaType: (type: string) =>
    new AppError(
      'UNSUPPORTED_MEDIA_TYPE',
      415,
      `Content type "${type}" is not accepted; send text/csv, application/json, application/x-ndjson or multipart/form-data.`,
    ),
  malformedInput: (reason: string) => new AppError('MALFORMED_INPUT', 400, `The recipient list could not be read: ${reason}.`),
  recipientRejected: (reason: string, message: string) =>
    new AppError('RECIPIENT_REJECTED', 422, `The recipient was rejected (${reason}): ${message.replace(/[.\s]+$/, '')}.`, { reason }),
  malformedJson: () => new AppError('MALFORMED_JSON', 400, 'The request body is not valid JSON.'),
  idempotencyConflict: (key: string) =>
    new AppError('IDEMPOTENCY_KEY_REUSED', 409, `Idempotency-Key "${key}" was already used with a different request body.`),
  accountNotFound: (id: string) =>
    new AppError('ACCOUNT_NOT_FOUND', 404, `No provider account with id ${id} exists for this tenant.`, { accountId: id }),
  templateNotFound: (id: string) =>
    new AppError('TEMPLATE_NOT_FOUND', 404, `No template with id ${id} exists for this tenant.`, { templateId: id }),
  invalidAccountConfig: (provider: string, problems: string[]) =>
    new AppError('INVALID_ACCOUNT_CONFIG', 400, `The ${provider} account settings are not valid: ${problems.join('; ')}.`, { problems }),
  uploadNotFound: (id: string) => new AppError('UPLOAD_NOT_FOUND', 404, `No upload with id ${id} exists for this campaign.`),
  suppressionNotFound: (phone: string) =>
    new AppError('SUPPRESSION_NOT_FOUND', 404, `The phone ${phone} is not on this tenant's suppression list.`, { phone }),
  serviceUnavailable: (what: string) => new AppError('SERVICE_UNAVAILABLE', 503, `${what} is not answering; try again shortly.`),
  internal: () => new AppError('INTERNAL_ERROR', 500, 'Something went wrong on our side; the error was logged.'),
  poolNotFound: (id: string) => new AppError('POOL_NOT_FOUND', 404, `No sender pool with id ${id} exists for this tenant.`, { poolId: id }),
  poolNameTaken: (name: string) => new AppError('POOL_NAME_TAKEN', 409, `This tenant already has a sender pool named "${name}".`, { name }),
  poolEmpty: (id: string) => new AppError('POOL_EMPTY', 409, `Sender pool ${id} has no accounts; add at least one before sending through it.`, { poolId: id }),
  poolInUse: (id: string) =>
    new AppError('POOL_IN_USE', 409, `Sender pool ${id} is used by campaigns; cancel or finish them, or keep the pool.`, { poolId: id }),
  poolTemplateMissing: (accounts: readonly string[], template: string) =>
    new AppError(
      'POOL_TEMPLATE_MISSING',
      409,
      `The pool's account(s) ${someNames(accounts)} have no approved template matching "${template}"; sync or create it there, or map each account's template on the pool.`,
      { template, ...namesDetail('accounts', accounts) },
    ),
  campaignSender: () =>
    new AppError('CAMPAIGN_SENDER_INVALID', 400, 'A campaign is sent either by one account ("accountId") or by a sender pool ("poolId"): give exactly one.'),
  portfolioNotFound: (id: string) =>
    new AppError('PORTFOLIO_NOT_FOUND', 404, `No business portfolio with id ${id} exists for this tenant.`, { portfolioId: id }),
  portfolioNameTaken: (name: string) => new AppError('PORTFOLIO_NAME_TAKEN', 409, `This tenant already has a business portfolio named "${name}".`, { name }),
  templateSyncUnsupported: (provider: string, hint: string) =>
    new AppError('TEMPLATE_SYNC_UNSUPPORTED', 409, `Template sync is not available for ${provider}: it has no template listing API the engine can read; ${hint}.`, {
      provider,
    }),
  templateCreationUnsupported: (provider: string, hint: string) =>
    new AppError(
      'TEMPLATE_CREATION_UNSUPPORTED',
      409,
      `Template creation is not available for ${provider}: it has no template creation API the engine can call; ${hint}.`,
      { provider },
    ),
  providerTemplateExists: (provider: string, name: string) =>
    new AppError(
      'PROVIDER_TEMPLATE_EXISTS',
      409,
      `A template named "${name}" already exists at ${provider}; pick another name, or sync the account's templates to import it.`,
      { provider, template: name },
    ),
  providerTemplateInvalid: (provider: string, problems: string[]) =>
    new AppError('PROVIDER_TEMPLATE_INVALID', 422, `The template was refused by ${provider}: ${problems.join('; ')}.`, { provider, problems }),
  /** The provider answered, and said no: credentials, permissions, or an answer its manual does not describe. */
  providerRequestFailed: (provider: string, action: string, reason: string, outcomeCode: string, providerCode?: string) =>
    new AppError('PROVIDER_REQUEST_FAILED', 502, `The request to ${action} at ${provider} failed: ${reason.replace(/[.\s]+$/, '')}.`, {
      provider,
      outcomeCode,
      ...(providerCode === undefined ? {} : { providerCode }),
    }),
  /** The provider could not be reached, timed out or asked us to slow down: trying again later may work. */
  providerUnavailable: (provider: string, action: string, mayHaveHappened: boolean) =>
    new AppError(
      'PROVIDER_UNAVAILABLE',
      503,
      mayHaveHappened
        ? `No answer came from ${provider} in time to ${action}, so it may or may not have been done; sync the account's templates before trying again.`
        : `Could not ${action} at ${provider} right now (unreachable, busy or rate limited); try again shortly.`,
      { provider },
    ),
  accountBalanceShort: (accountName: string, balance: number, needed: number) =>
    new AppError(
      'ACCOUNT_BALANCE_SHORT',
      409,
      `The balance of account "${accountName}" is ${balance}, less than the ${needed} message(s) this campaign would send; top it up, then start again.`,
      { balance, needed },
    ),
  /** A route that speaks one provider's own API, called with an account of another provider. */
  providerNotSupported: (feature: string, provider: string, supported: readonly string[]) =>
    new AppError('PROVIDER_NOT_SUPPORTED', 400, `${feature} works only with ${supported.join(' or ')} accounts, and this account is on ${provider}.`, {
      provider,
      supported,
    }),
  phoneSuppressed: (phone: string) =>
    new AppError(
      'PHONE_SUPPRESSED',
      409,
      `The phone ${phone} is on this tenant's suppression list, so nothing is sent to it; take it off the list (DELETE /v1/suppressions/:phone) only if the person asked to be contacted again.`,
      { phone },
    ),
  idempotencyInFlight: (key: string) =>
    new AppError('IDEMPOTENCY_KEY_IN_FLIGHT', 409, `A request with Idempotency-Key "${key}" is still in progress; retry once it has finished to get its answer.`),
  /** The provider refused a send because of how the account is set up (credentials, or a setting at the provider). */
  providerAccountMisconfigured: (provider: string, action: string, reason: string, outcomeCode: string, providerCode?: string) =>
    new AppError('PROVIDER_ACCOUNT_MISCONFIGURED', 409, `The ${provider} account cannot ${action} as it is set up: ${reason.replace(/[.\s]+$/, '')}.`, {
      provider,
      outcomeCode,
      ...(providerCode === undefined ? {} : { providerCode }),
    }),
  /** The provider refused a send for this recipient (no such ticket or client, nothing to answer). */
  providerRecipientRefused: (provider: string, action: string, reason: string, outcomeCode: string, providerCode?: string) =>
    new AppError('PROVIDER_RECIPIENT_REFUSED', 422, `${provider} would not ${action} for this recipient: ${reason.replace(/[.\s]+$/, '')}.`, {
      provider,
      outcomeCode,
      ...(providerCode === undefined ? {} : { providerCode }),
    }),
  /** A send that may or may not have happened: the connection failed after the request went out. */
  providerOutcomeUnknown: (provider: string, action: string, outcomeCode: string, providerCode?: string) =>
    new AppError(
      'PROVIDER_OUTCOME_UNKNOWN',
      504,
      `No answer came from ${provider} in time to ${action}, so it may or may not have been done; check at ${provider} before sending it again.`,
      { provider, outcomeCode, ...(providerCode === undefined ? {} : { providerCode }) },
    ),
  /** A send the provider did not take (unreachable, busy, rate limited): nothing happened, and trying again later may work. */
  providerRetryLater: (provider: string, action: string, outcomeCode: string, providerCode?: string, retryAfterMs?: number) =>
    new AppError(
      'PROVIDER_RETRY_LATER',
      503,
      `Could not ${action} at ${provider} right now (unreachable, failing or rate limited) and it did not take the request; try again ${retryAfterMs === undefined ? 'shortly' : `in ${Math.ceil(retryAfterMs / 1000)} s`}.`,
      { provider, outcomeCode, ...(providerCode === undefined ? {} : { providerCode }), ...(retryAfterMs === undefined ? {} : { retryAfterMs }) },
    ),
  /** A provider URL (config.baseUrl...) the engine will not call: plain http, or a private, loopback or reserved address. */
  providerUrlRefused: (provider: string, field: string, problem: string) =>
    new AppError(
      'PROVIDER_URL_REFUSED',
      422,
      `The ${provider} account's ${field} ${problem}: provider URLs must be public https addresses (an operator can allow private hosts for on-premise providers with PROVIDER_ALLOW_PRIVATE_HOSTS).`,
      { field },
    ),
  sandboxProviderDisabled: () =>
    new AppError(
      'SANDBOX_PROVIDER_DISABLED',
      422,
      'The sandbox provider is disabled on this engine; it sends no real messages and exists only when an operator sets SANDBOX_PROVIDER_ENABLED=true (development, tests, the demo).',
    ),
  /** Stored credentials sealed with a key this process does not have: list the key again, or send every credential anew. */
  credentialsUnreadable: (accountId: string) =>
    new AppError(
      'CREDENTIALS_UNREADABLE',
      409,
      `The stored credentials of account ${accountId} cannot be decrypted with the configured keys; an operator must list their key in CREDENTIALS_KEYS, or PATCH the account with all of its credentials again.`,
      { accountId },
    ),
  eventEndpointNotFound: (id: string) =>
    new AppError('EVENT_ENDPOINT_NOT_FOUND', 404, `No event endpoint with id ${id} exists for this tenant.`, { endpointId: id }),
  eventEndpointUrlRefused: (url: string, problem: string) =>
    new AppError('EVENT_ENDPOINT_URL_REFUSED', 422, `The endpoint URL ${url} cannot receive events: it ${problem}.`, { url, problem }),
} satisfies Record<string, Factory>;

export type ErrorFactoryName = keyof typeof errors;
