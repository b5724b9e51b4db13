/**
 * The security settings every process shares: the credentials vault, where provider HTTP may
 * go, and whether the sandbox provider exists. They are process-wide by nature (one
 * environment per process) and read from modules that are not handed the config (account
 * loaders, the HTTP client), so they live here, built once from the config: entry points call
 * `useSecuritySettings(config)`; anything that runs earlier gets them from `loadConfig()`.
 */
import { loadConfig, type Config } from '../config.js';
import { errors } from '../errors.js';
import type { Logger } from '../logger.js';
import { CredentialVault, type CredentialColumns, type Credentials } from './credential-vault.js';
import type { OutboundPolicy } from './outbound-guard.js';

export type SecuritySettings = Readonly<{ vault: CredentialVault; outbound: OutboundPolicy; sandboxEnabled: boolean }>;

let current: SecuritySettings | undefined;

export function securitySettingsFrom(config: Config): SecuritySettings {
  return Object.freeze({
    vault: new CredentialVault(config.credentialKeys, config.credentialKeyId),
    outbound: Object.freeze({ allowPrivateHosts: config.providerAllowPrivateHosts }),
    sandboxEnabled: config.sandboxProviderEnabled,
  });
}

/** Sets this process's settings from its config; says so in the log when the development key is in use. */
export function useSecuritySettings(config: Config, logger?: Logger): SecuritySettings {
  current = securitySettingsFrom(config);
  if (current.vault.usesDevelopmentKey) {
    logger?.warn('CREDENTIALS_KEYS is not set: provider credentials are encrypted with the public development key (never use this in production)');
  }
  return current;
}

export function securitySettings(): SecuritySettings {
  current ??= securitySettingsFrom(loadConfig());
  return current;
}

/** An account row's credentials, decrypted (or the plaintext of a row not sealed yet). */
export function accountCredentials(row: CredentialColumns): Credentials {
  return securitySettings().vault.read(row);
}

/** The columns to write for an account's credentials: sealed with the active key, plaintext cleared. */
export function sealedCredentials(accountId: string, credentials: Credentials): ReturnType<CredentialVault['seal']> {
  return securitySettings().vault.seal(accountId, credentials);
}

/** Throws SANDBOX_PROVIDER_DISABLED for a stand-in provider (the sandbox) when the operator has not enabled it. */
export function assertProviderEnabled(adapter: { readonly standIn?: true } | undefined): void {
  if (adapter?.standIn && !securitySettings().sandboxEnabled) throw errors.sandboxProviderDisabled();
}
