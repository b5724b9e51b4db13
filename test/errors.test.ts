/**
 * Keeps src/errors.ts honest: every factory makes a unique, pinned code, an HTTP error status,
 * and a sentence a person can act on. A new factory fails the type check below until it is
 * given sample arguments and its expected code here.
 */
import { describe, expect, it } from 'vitest';
import { AppError, errors, type ErrorFactoryName } from '../src/errors.js';

type Sample<K extends ErrorFactoryName> = { args: Parameters<(typeof errors)[K]>; code: string; status: number };

const CAMPAIGN_ID = '0b6f3c1e-8d7a-4f62-9a1b-5c2e7d9f0a34';

/** Plausible arguments for each factory, as the code that calls it would pass them. */
const SAMPLES: { [K in ErrorFactoryName]: Sample<K> } = {
  unauthorized: { args: [], code: 'UNAUTHORIZED', status: 401 },
  invalidApiKey: { args: [], code: 'INVALID_API_KEY', status: 401 },
  csrfTokenInvalid: { args: [], code: 'CSRF_TOKEN_INVALID', status: 403 },
  consoleSignedOut: { args: [], code: 'CONSOLE_SIGNED_OUT', status: 401 },
  campaignNotDraft: { args: [CAMPAIGN_ID, 'running'], code: 'CAMPAIGN_NOT_DRAFT', status: 409 },
  insufficientScope: { args: ['read', 'full'], code: 'INSUFFICIENT_SCOPE', status: 403 },
  apiKeyNotFound: { args: [CAMPAIGN_ID], code: 'API_KEY_NOT_FOUND', status: 404 },
  apiKeyInactive: { args: [CAMPAIGN_ID, 'revoked'], code: 'API_KEY_INACTIVE', status: 409 },
  tenantNotFound: { args: [CAMPAIGN_ID], code: 'TENANT_NOT_FOUND', status: 404 },
  rateLimited: { args: [12], code: 'RATE_LIMITED', status: 429 },
  webhookRateLimited: { args: [12], code: 'WEBHOOK_RATE_LIMITED', status: 429 },
  metricsTokenRequired: { args: [], code: 'METRICS_TOKEN_REQUIRED', status: 401 },
  metricsDisabled: { args: [], code: 'METRICS_DISABLED', status: 404 },
  invalidCharacters: { args: ['body.name'], code: 'INVALID_CHARACTERS', status: 400 },
  inputTooDeep: { args: ['body', 32], code: 'INPUT_TOO_DEEP', status: 400 },
  bodyTooLarge: { args: [4 * 1_048_576, 'send larger recipient lists as a file'], code: 'BODY_TOO_LARGE', status: 413 },
  badRequest: { args: ['the URL is not validly percent-encoded'], code: 'BAD_REQUEST', status: 400 },
  requestTimeout: { args: [], code: 'REQUEST_TIMEOUT', status: 408 },
  headersTooLarge: { args: [], code: 'HEADERS_TOO_LARGE', status: 431 },
  webhookNotFound: { args: [], code: 'WEBHOOK_NOT_FOUND', status: 404 },
  webhookUnsupported: { args: ['Adereso', ['meta', 'multichat', 'optiwe']], code: 'WEBHOOK_UNSUPPORTED', status: 404 },
  webhookBodyTooLarge: { args: [256 * 1024], code: 'WEBHOOK_BODY_TOO_LARGE', status: 413 },
  webhookReplayed: { args: [7_200, 3_600], code: 'WEBHOOK_REPLAYED', status: 400 },
  webhookSignatureInvalid: { args: [], code: 'WEBHOOK_SIGNATURE_INVALID', status: 401 },
  webhookSignatureUnconfigured: { args: [], code: 'WEBHOOK_SIGNATURE_UNCONFIGURED', status: 401 },
  webhookMalformed: { args: ['meta', 'entry[0].changes must be an array'], code: 'WEBHOOK_MALFORMED', status: 400 },
  webhookVerifyFailed: { args: [], code: 'WEBHOOK_VERIFY_FAILED', status: 403 },
  recipientNotFound: { args: ['1234'], code: 'RECIPIENT_NOT_FOUND', status: 404 },
  textCampaignUnsupported: { args: ['meta'], code: 'TEXT_CAMPAIGN_UNSUPPORTED', status: 422 },
  templateMediaRequired: { args: ['promo_invierno', 'the template has an image header: give options.headerMedia {type: "image", link or id}'], code: 'TEMPLATE_MEDIA_REQUIRED', status: 422 },
  validation: { args: [['name: Too small: expected string to have >=1 characters', 'accountId: Invalid UUID']], code: 'VALIDATION_FAILED', status: 400 },
  notFound: { args: ['upload', CAMPAIGN_ID], code: 'NOT_FOUND', status: 404 },
  campaignNotFound: { args: [CAMPAIGN_ID], code: 'CAMPAIGN_NOT_FOUND', status: 404 },
  campaignState: { args: [CAMPAIGN_ID, 'draft', 'pause', ['running']], code: 'CAMPAIGN_STATE_CONFLICT', status: 409 },
  campaignEmpty: { args: [CAMPAIGN_ID], code: 'CAMPAIGN_EMPTY', status: 409 },
  templateNotApproved: { args: ['cobranza_junio', 'pending'], code: 'TEMPLATE_NOT_APPROVED', status: 409 },
  templateAccountMismatch: { args: ['cobranza_junio'], code: 'TEMPLATE_ACCOUNT_MISMATCH', status: 400 },
  templateVariableMismatch: { args: [2, 3, ['nombre', 'monto', 'ciudad']], code: 'TEMPLATE_VARIABLE_MISMATCH', status: 422 },
  noPhoneColumn: { args: [['nombre', 'monto']], code: 'NO_PHONE_COLUMN', status: 422 },
  uploadTooLarge: { args: [256 * 1024 * 1024], code: 'UPLOAD_TOO_LARGE', status: 413 },
  unsupportedMediaType: { args: ['application/xml'], code: 'UNSUPPORTED_MEDIA_TYPE', status: 415 },
  uploadNotText: { args: ['a zip archive (an Excel .xlsx workbook is one)', 'open it in the spreadsheet and save it as "CSV UTF-8"'], code: 'UPLOAD_NOT_TEXT', status: 415 },
  workbookNotRead: { args: ['clientes.xlsx'], code: 'WORKBOOK_NOT_READ', status: 415 },
  encodingUnsupported: { args: ['UTF-32'], code: 'ENCODING_UNSUPPORTED', status: 415 },
  contentEncodingUnsupported: { args: ['compress'], code: 'CONTENT_ENCODING_UNSUPPORTED', status: 415 },
  malformedInput: { args: ['"," or "]" was expected after item 1'], code: 'MALFORMED_INPUT', status: 400 },
  malformedJson: { args: [], code: 'MALFORMED_JSON', status: 400 },
  recipientRejected: { args: ['PHONE_INVALID', 'The phone "12345" is not a valid number for CL.'], code: 'RECIPIENT_REJECTED', status: 422 },
  idempotencyConflict: { args: ['create-june-1'], code: 'IDEMPOTENCY_KEY_REUSED', status: 409 },
  accountNotFound: { args: [CAMPAIGN_ID], code: 'ACCOUNT_NOT_FOUND', status: 404 },
  templateNotFound: { args: [CAMPAIGN_ID], code: 'TEMPLATE_NOT_FOUND', status: 404 },
  invalidAccountConfig: { args: ['sandbox', ['config.baseUrl: Invalid URL', 'credentials.token: missing or wrong type']], code: 'INVALID_ACCOUNT_CONFIG', status: 400 },
  providerUrlRefused: { args: ['meta', 'config.baseUrl', 'points at a private, loopback or reserved address'], code: 'PROVIDER_URL_REFUSED', status: 422 },
  sandboxProviderDisabled: { args: [], code: 'SANDBOX_PROVIDER_DISABLED', status: 422 },
  credentialsUnreadable: { args: [CAMPAIGN_ID], code: 'CREDENTIALS_UNREADABLE', status: 409 },
  uploadNotFound: { args: [CAMPAIGN_ID], code: 'UPLOAD_NOT_FOUND', status: 404 },
  suppressionNotFound: { args: ['+56987654321'], code: 'SUPPRESSION_NOT_FOUND', status: 404 },
  serviceUnavailable: { args: ['Postgres'], code: 'SERVICE_UNAVAILABLE', status: 503 },
  internal: { args: [], code: 'INTERNAL_ERROR', status: 500 },
  poolNotFound: { args: [CAMPAIGN_ID], code: 'POOL_NOT_FOUND', status: 404 },
  poolNameTaken: { args: ['Cobranza'], code: 'POOL_NAME_TAKEN', status: 409 },
  poolEmpty: { args: [CAMPAIGN_ID], code: 'POOL_EMPTY', status: 409 },
  poolInUse: { args: [CAMPAIGN_ID], code: 'POOL_IN_USE', status: 409 },
  poolTemplateMissing: { args: [['Tienda CL 2'], 'recordatorio_pago'], code: 'POOL_TEMPLATE_MISSING', status: 409 },
  campaignSender: { args: [], code: 'CAMPAIGN_SENDER_INVALID', status: 400 },
  portfolioNotFound: { args: [CAMPAIGN_ID], code: 'PORTFOLIO_NOT_FOUND', status: 404 },
  portfolioNameTaken: { args: ['ACME'], code: 'PORTFOLIO_NAME_TAKEN', status: 409 },
  templateSyncUnsupported: { args: ['Adereso', 'register its templates with POST /v1/templates'], code: 'TEMPLATE_SYNC_UNSUPPORTED', status: 409 },
  templateCreationUnsupported: { args: ['contacto-multichat', 'create the template in the contacto-multichat dashboard, then sync the account'], code: 'TEMPLATE_CREATION_UNSUPPORTED', status: 409 },
  providerTemplateExists: { args: ['Optiwe', 'recordatorio_turno'], code: 'PROVIDER_TEMPLATE_EXISTS', status: 409 },
  providerTemplateInvalid: { args: ['Optiwe', ['buttons: Buttons length must be greater than 0 and up to 3 buttons']], code: 'PROVIDER_TEMPLATE_INVALID', status: 422 },
  providerRequestFailed: { args: ['Optiwe', 'list templates', 'Optiwe rejected the API token; update the account credentials.', 'ACCOUNT_AUTH_FAILED', 'NOT_AUTHENTICATED'], code: 'PROVIDER_REQUEST_FAILED', status: 502 },
  providerUnavailable: { args: ['Optiwe', 'create the template', true], code: 'PROVIDER_UNAVAILABLE', status: 503 },
  accountBalanceShort: { args: ['Multichat Bogotá', 9, 10], code: 'ACCOUNT_BALANCE_SHORT', status: 409 },
  providerNotSupported: { args: ['A reply inside an Adereso ticket', 'Meta Cloud API', ['Adereso']], code: 'PROVIDER_NOT_SUPPORTED', status: 400 },
  phoneSuppressed: { args: ['+56987654321'], code: 'PHONE_SUPPRESSED', status: 409 },
  idempotencyInFlight: { args: ['reply-ticket-583d'], code: 'IDEMPOTENCY_KEY_IN_FLIGHT', status: 409 },
  providerAccountMisconfigured: {
    args: ['Adereso', 'open a proactive conversation', 'This Adereso WhatsApp account is not allowed to send proactive messages.', 'ACCOUNT_MISCONFIGURED', '202'],
    code: 'PROVIDER_ACCOUNT_MISCONFIGURED',
    status: 409,
  },
  providerRecipientRefused: {
    args: ['Adereso', 'post the reply in the ticket', 'Adereso found no message in this ticket to answer (404).', 'RECIPIENT_INVALID', '404'],
    code: 'PROVIDER_RECIPIENT_REFUSED',
    status: 422,
  },
  providerOutcomeUnknown: { args: ['Adereso', 'post the reply in the ticket', 'PROVIDER_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT'], code: 'PROVIDER_OUTCOME_UNKNOWN', status: 504 },
  providerRetryLater: { args: ['Adereso', 'open a proactive conversation', 'RATE_LIMITED', '429', 30_000], code: 'PROVIDER_RETRY_LATER', status: 503 },
  eventEndpointNotFound: { args: [CAMPAIGN_ID], code: 'EVENT_ENDPOINT_NOT_FOUND', status: 404 },
  eventEndpointUrlRefused: { args: ['http://10.0.0.5/hooks', 'must use https'], code: 'EVENT_ENDPOINT_URL_REFUSED', status: 422 },
};

const NAMES = Object.keys(errors) as ErrorFactoryName[];

function make(name: ErrorFactoryName): AppError {
  const factory = errors[name] as (...args: unknown[]) => AppError;
  return factory(...SAMPLES[name].args);
}

describe('errors', () => {
  it('every factory has sample arguments here', () => {
    expect(Object.keys(SAMPLES).sort()).toEqual([...NAMES].sort());
  });

  it.each(NAMES)('%s makes an AppError with its pinned code and an HTTP error status', (name) => {
    const error = make(name);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toBeInstanceOf(Error);
    expect({ code: error.code, status: error.statusCode }).toEqual({ code: SAMPLES[name].code, status: SAMPLES[name].status });
    expect(error.code).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
    expect(error.statusCode).toBeGreaterThanOrEqual(400);
    expect(error.statusCode).toBeLessThanOrEqual(599);
  });

  it.each(NAMES)('%s says a real sentence', (name) => {
    const { message } = make(name);
    expect(message).toMatch(/^[A-Z]/);
    expect(message).toMatch(/[^.]\.$/);
    expect(message).not.toMatch(/undefined|null|NaN|\[object |\.\./);
    expect(message.length).toBeGreaterThan(20);
  });

  it('no two factories share a code', () => {
    const codes = NAMES.map((name) => make(name).code);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('serializes as { error: { code, message, details? } }, leaving details out when there are none', () => {
    expect(errors.internal().toJSON()).toEqual({ error: { code: 'INTERNAL_ERROR', message: 'Something went wrong on our side; the error was logged.' } });
    expect(JSON.parse(JSON.stringify(errors.campaignEmpty(CAMPAIGN_ID)))).toEqual({
      error: { code: 'CAMPAIGN_EMPTY', message: `Campaign ${CAMPAIGN_ID} has no recipients to send to; upload some first.`, details: { campaignId: CAMPAIGN_ID } },
    });
  });

  it('messages stay sentences with empty lists', () => {
    expect(errors.noPhoneColumn([]).message).toMatch(/^No phone column found among: \(no columns\)\. /);
    expect(errors.templateVariableMismatch(2, 0, []).message).toContain('0 variable column(s) were found (none)');
  });

  it('a message puts the caller\'s values where a person looks for them', () => {
    expect(errors.campaignState(CAMPAIGN_ID, 'paused', 'start', ['draft']).message).toBe(`Campaign ${CAMPAIGN_ID} is paused; "start" needs it to be draft.`);
    expect(errors.campaignState(CAMPAIGN_ID, 'completed', 'cancel', ['draft', 'running', 'paused']).message).toContain('needs it to be draft or running or paused.');
    expect(errors.uploadTooLarge(256 * 1024 * 1024).message).toContain('256 MB');
    expect(errors.validation(['a: bad', 'b: worse']).message).toBe('The request is not valid: a: bad; b: worse.');
  });
});
