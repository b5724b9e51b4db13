/**
 * A tenant's provider account, with its settings checked by the adapter's schemas, ready for a
 * request builder. Also how a provider's failure becomes the error a user sees, with every
 * credential value scrubbed from the wording first.
 */
import type { Db, ProviderAccount } from '../db/database.js';
import { type AppError, errors } from '../errors.js';
import { checkAccountSettings } from '../providers/account-settings.js';
import { providerLabel } from '../providers/registry.js';
import type { AccountSettings, ProviderName, SendOutcome } from '../providers/types.js';

export type LoadedAccount = { row: ProviderAccount; provider: ProviderName; settings: AccountSettings };

export async function loadProviderAccount(db: Db, tenantId: string, accountId: string): Promise<LoadedAccount> {
  const row = await db.prisma.providerAccount.findFirst({ where: { id: accountId, tenantId } });
  if (!row) throw errors.accountNotFound(accountId);
  return { row, provider: row.provider, settings: validatedSettings(row) };
}

/** The account's settings as its adapter reads them; problems name the field, never a value. */
export function validatedSettings(row: ProviderAccount): AccountSettings {
  const checked = checkAccountSettings(row.provider, row.id, row.config, row.credentials);
  if (!checked.ok) throw errors.invalidAccountConfig(row.provider, checked.problems);
  return checked.settings;
}

/** Every string credential value, longest first, so a token that contains another is scrubbed whole. */
function secretValues(credentials: unknown): string[] {
  const found: string[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === 'string' && value.length >= 4) found.push(value);
    else if (Array.isArray(value)) value.forEach(walk);
    else if (typeof value === 'object' && value !== null) Object.values(value).forEach(walk);
  };
  walk(credentials);
  return found.sort((a, b) => b.length - a.length);
}

/**
 * The text with every credential value of the account replaced: provider texts can echo what
 * they were sent. By value, not by pattern: the adapters' pattern redaction (redactSecrets)
 * would also eat ordinary words ("Key and name are only allowed...", Optiwe's own wording).
 */
export function scrubSecrets(text: string, credentials: unknown): string {
  return secretValues(credentials).reduce((out, secret) => out.split(secret).join('[redacted]'), text);
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
  const secrets = account.row.credentials;
  const reason = scrubSecrets(`${outcome.message}${outcome.providerText ? ` (provider: ${outcome.providerText})` : ''}`, secrets);
  return errors.providerRequestFailed(
    label,
    action,
    reason,
    outcome.code,
    outcome.providerCode === undefined ? undefined : scrubSecrets(outcome.providerCode, secrets),
  );
}
