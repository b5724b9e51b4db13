/**
 * Every error a user can see is made here: a stable code, an HTTP status and a sentence a
 * person can act on. test/errors.test.ts keeps this list honest (unique codes, real sentences).
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

export const errors = {
  unauthorized: () =>
    new AppError('UNAUTHORIZED', 401, 'An API key is required: send it as "Authorization: Bearer <key>" or "X-Api-Key".'),
  invalidApiKey: () => new AppError('INVALID_API_KEY', 401, 'The API key is not valid or has been revoked.'),
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
      `The template has ${expected} placeholder(s) but ${found} variable column(s) were found (${columns.join(', ') || 'none'}); name the columns with the "variables" option.`,
      { expected, found, columns },
    ),
  noPhoneColumn: (columns: readonly string[]) =>
    new AppError(
      'NO_PHONE_COLUMN',
      422,
      `No phone column found among: ${columns.join(', ') || '(no columns)'}. Name it phone, telefono, teléfono, celular, mobile or whatsapp, or pass "phoneColumn".`,
      { columns },
    ),
  uploadTooLarge: (limitBytes: number) =>
    new AppError('UPLOAD_TOO_LARGE', 413, `The upload is larger than the ${Math.round(limitBytes / 1048576)} MB limit; split the file.`, {
      limitBytes,
    }),
  unsupportedMediaType: (type: string) =>
    new AppError(
      'UNSUPPORTED_MEDIA_TYPE',
      415,
      `Content type "${type}" is not accepted; send text/csv, application/json, application/x-ndjson or multipart/form-data.`,
    ),
  malformedInput: (reason: string) => new AppError('MALFORMED_INPUT', 400, `The recipient list could not be read: ${reason}.`),
  idempotencyConflict: (key: string) =>
    new AppError('IDEMPOTENCY_KEY_REUSED', 409, `Idempotency-Key "${key}" was already used with a different request body.`),
  accountNotFound: (id: string) =>
    new AppError('ACCOUNT_NOT_FOUND', 404, `No provider account with id ${id} exists for this tenant.`, { accountId: id }),
  templateNotFound: (id: string) =>
    new AppError('TEMPLATE_NOT_FOUND', 404, `No template with id ${id} exists for this tenant.`, { templateId: id }),
  invalidAccountConfig: (provider: string, problems: string[]) =>
    new AppError('INVALID_ACCOUNT_CONFIG', 400, `The ${provider} account settings are not valid: ${problems.join('; ')}.`, { problems }),
  uploadNotFound: (id: string) => new AppError('UPLOAD_NOT_FOUND', 404, `No upload with id ${id} exists for this campaign.`),
  serviceUnavailable: (what: string) => new AppError('SERVICE_UNAVAILABLE', 503, `${what} is not answering; try again shortly.`),
  internal: () => new AppError('INTERNAL_ERROR', 500, 'Something went wrong on our side; the error was logged.'),
} satisfies Record<string, Factory>;

export type ErrorFactoryName = keyof typeof errors;
