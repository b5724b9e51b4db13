/**
 * A tenant's provider account, with its settings checked by the adapter's schemas, ready for a
 * request builder (credentials decrypted). Also how a provider's failure becomes the error a
 * user sees, with every credential value scrubbed from the wording first.
 */
import type { Db, ProviderAccount } from '../db/database.js';
import { type AppError, errors } from '../errors.js';
import { checkAccountSettings } from '../providers/account-settings.js';
import { adapterFor, providerLabel } from '../providers/registry.js';
import { scrubSecrets } from '../security/secret-scrubber.js';
import { accountCredentials, assertProviderEnabled } from '../security/security-settings.js';
import type { AccountSettings, ProviderName, SendOutcome } from '../providers/types.js';

export type LoadedAccount = { row: ProviderAccount; provider: ProviderName; settings: AccountSettings };

export async function loadProviderAccount(db: Db, tenantId: string, accountId: string): Promise<LoadedAccount> {
  const row = await db.prisma.providerAccount.findFirst({ where: { id: accountId, tenantId } });
  if (!row) throw errors.accountNotFound(accountId);
  return { row, provider: row.provider, settings: validatedSettings(row) };
}

/** The account's settings as its adapter reads them; problems name the field, never a value. */
export function validatedSettings(row: ProviderAccount): AccountSettings {
  assertProviderEnabled(adapterFor(row.provider));
  const checked = checkAccountSettings(row.provider, row.id, row.config, readCredentials(row));
  if (!checked.ok) throw errors.invalidAccountConfig(row.provider, checked.problems);
  return checked.settings;
}

/** The row's credentials, decrypted; a value sealed with a key this process lacks is an operator's problem. */
function readCredentials(row: ProviderAccount): unknown {
  try {
    return accountCredentials(row);
  } catch {
    throw errors.credentialsUnreadable(row.id);
  }
}

/**
 * A provider's failure, by what the user can do about it: try later (unreachable, timed out,
 * rate limited, an outage) or fix something (credentials, permissions, an odd answer).
 * `mayHaveHappened`: for a request that changes something at the provider, a timeout means it
 * may have gone through.
 */
export function providerCallError(
  account: LoadedAccount,
  action: string,
  outcome: SendOutcome,
  options: { mayHaveHappened?: boolean } = {},
): AppError {
  const label = providerLabel(account.provider);
  if (outcome.kind === 'ambiguous') return errors.providerUnavailable(label, action, options.mayHaveHappened ?? false);
  if (outcome.kind === 'retry' && outcome.code !== 'PROVIDER_UNDOCUMENTED_RESPONSE') return errors.providerUnavailable(label, action, false);
  if (outcome.kind === 'rate_limited') return errors.providerUnavailable(label, action, false);
  const secrets = account.settings.credentials;
  const reason = scrubSecrets(`${outcome.message}${outcome.providerText ? ` (provider: ${outcome.providerText})` : ''}`, secrets);
  return errors.providerRequestFailed(
    label,
    action,
    reason,
    outcome.code,
    outcome.providerCode === undefined ? undefined : scrubSecrets(outcome.providerCode, secrets),
  );
}
