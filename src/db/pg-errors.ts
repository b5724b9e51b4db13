/**
 * What a Postgres error means for the caller: try the same statement again, or give up. One
 * place, so every writer that retries agrees on what is worth retrying.
 */

function codeOf(error: unknown): string | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** Errors that mean "the server went away", not "this statement is wrong". */
const CONNECTION_LOST = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', '57P01', '57P02', '57P03']);

export function isConnectionLoss(error: unknown): boolean {
  const code = codeOf(error);
  if (code !== undefined && (CONNECTION_LOST.has(code) || code.startsWith('08'))) return true;
  const message = error && typeof error === 'object' ? (error as { message?: unknown }).message : undefined;
  return typeof message === 'string' && /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(message);
}

/**
 * Class 40, transaction rollback (a deadlock, a serialization failure): nobody's fault, and the
 * same statement run again usually succeeds.
 */
export function isTransientConflict(error: unknown): boolean {
  return codeOf(error)?.startsWith('40') ?? false;
}
