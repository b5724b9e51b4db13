/**
 * The balance check before a campaign starts, for providers whose adapter has a balance
 * capability. contacto-multichat is prepaid: a send with no balance fails (its code 5) and the
 * account stops mid-campaign. Asking for the balance first turns that into a refusal up front,
 * when the shortfall is clear.
 *
 * "Clearly short" means: the balance was read, and it is less than the number of recipients
 * the start would send to. The manual does not say the balance's unit (messages or pesos);
 * either way one message costs at least one unit, so fewer units than recipients cannot cover
 * them. A balance at or above the count may still fall short (a message may cost more than one
 * unit, other campaigns spend the same balance): the engine does not refuse on a guess, and
 * the sender stops the account on its own if the balance runs out.
 *
 * A balance that cannot be read (timeout, outage, credentials, an odd answer) does not block
 * the start: the result carries a warning instead, for the caller to log and show.
 * Providers without a balance query: always ok.
 */
import type { Db } from '../db/database.js';
import { type AppError, errors } from '../errors.js';
import type { Logger } from '../logger.js';
import { checkAccountSettings } from '../providers/account-settings.js';
import { sendHttp } from '../providers/http.js';
import { adapterFor, providerLabel } from '../providers/registry.js';
import type { SendOutcome } from '../providers/types.js';
import { scrubSecrets } from '../security/secret-scrubber.js';
import { accountCredentials } from '../security/security-settings.js';

export type BalanceWarning = { code: 'ACCOUNT_BALANCE_UNKNOWN'; message: string };

export type BalanceCheck =
  /** `balance`: when it was read. `warning`: when it could not be. */
  | { ok: true; balance?: number; warning?: BalanceWarning }
  /** `error`: the AppError to throw (ACCOUNT_BALANCE_SHORT, 409); code and message are its own. */
  | { ok: false; code: string; message: string; balance: number; needed: number; error: AppError };

export type BalanceCheckOptions = {
  /**
   * Wait for the balance query, in ms. Default 5 000: the check runs inside a user's start
   * request, and an unanswered query only costs a warning.
   */
  timeoutMs?: number;
  /** Where the outcome is logged (a request's or a job's child logger). */
  log?: Pick<Logger, 'info' | 'warn'>;
};

export const BALANCE_CHECK_TIMEOUT_MS = 5_000;

export async function checkBalanceBeforeStart(db: Db, accountId: string, recipientsToSend: number, options: BalanceCheckOptions = {}): Promise<BalanceCheck> {
  const account = await db.prisma.providerAccount.findUnique({ where: { id: accountId } });
  if (!account) throw errors.accountNotFound(accountId);
  const balance = adapterFor(account.provider)?.balance;
  if (!balance || recipientsToSend <= 0) return { ok: true };
  const label = providerLabel(account.provider);

  const secrets = accountCredentials(account);
  const unknown = (reason: string): BalanceCheck => {
    const message = `The ${label} balance of account "${account.name}" could not be read (${scrubSecrets(reason, secrets)}); the campaign starts anyway, and its sends stop if the balance runs out.`;
    options.log?.warn({ accountId, code: 'ACCOUNT_BALANCE_UNKNOWN' }, 'balance unknown before start');
    return { ok: true, warning: { code: 'ACCOUNT_BALANCE_UNKNOWN', message } };
  };

  const checked = checkAccountSettings(account.provider, account.id, account.config, secrets);
  if (!checked.ok) return unknown('the account settings are not valid');

  const timeoutMs = options.timeoutMs ?? BALANCE_CHECK_TIMEOUT_MS;
  const http = await sendHttp(balance.buildBalanceRequest(checked.settings), timeoutMs);
  if (!http.ok) return unknown(reasonOf(label, http.outcome, timeoutMs));
  const parsed = balance.parseBalanceResponse(http.response);
  if (!parsed.ok) return unknown(reasonOf(label, parsed.outcome, timeoutMs));

  if (parsed.balance < recipientsToSend) {
    const error = errors.accountBalanceShort(account.name, parsed.balance, recipientsToSend);
    options.log?.warn({ accountId, balance: parsed.balance, needed: recipientsToSend }, 'start refused: balance short');
    return { ok: false, code: error.code, message: error.message, balance: parsed.balance, needed: recipientsToSend, error };
  }
  return { ok: true, balance: parsed.balance };
}

/** Why the balance could not be read, in words for this query (outcome messages speak of sends). */
function reasonOf(label: string, outcome: SendOutcome, timeoutMs: number): string {
  if (outcome.code === 'PROVIDER_UNREACHABLE') return `${label} could not be reached`;
  if (outcome.code === 'PROVIDER_TIMEOUT') return `${label} did not answer within ${timeoutMs} ms`;
  if (outcome.code === 'PROVIDER_UNAVAILABLE' || outcome.code === 'RATE_LIMITED') return `${label} answered HTTP ${outcome.providerCode ?? 'error'}`;
  const text = outcome.message.replace(/[.\s]+$/, '');
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/**
 * The recipients a start or resume still has to send: pending, deferred (an account limit or a
 * per-recipient cap put them off), queued (handed to the queue, or handed back by a pause) and
 * sending (claimed, not answered yet), as the launch planner counts them.
 */
const LEFT_TO_SEND = `('pending', 'deferred', 'queued', 'sending')`;

/**
 * The check for one campaign's start: its account, and the recipients it still has to send
 * (LEFT_TO_SEND). Throws ACCOUNT_BALANCE_SHORT (409) when refused; returns the warnings
 * to log or show otherwise. A campaign that does not exist passes: the start itself reports it.
 */
export async function requireBalanceForStart(db: Db, tenantId: string, campaignId: string, options: BalanceCheckOptions = {}): Promise<BalanceWarning[]> {
  // Recipients are counted only for a provider with a balance: a large campaign's count is not free.
  const { rows } = await db.pool.query<{ account_id: string; provider: string }>(
    `SELECT c.account_id, a.provider::text AS provider FROM campaigns c JOIN provider_accounts a ON a.id = c.account_id WHERE c.id = $1 AND c.tenant_id = $2`,
    [campaignId, tenantId],
  );
  const row = rows[0];
  if (!row || !adapterFor(row.provider)?.balance) return [];
  const counted = await db.pool.query<{ left: string }>(`SELECT count(*) AS left FROM recipients WHERE campaign_id = $1 AND status IN ${LEFT_TO_SEND}`, [campaignId]);
  const check = await checkBalanceBeforeStart(db, row.account_id, Number(counted.rows[0]?.left ?? 0), options);
  if (!check.ok) throw check.error;
  return check.warning ? [check.warning] : [];
}
