/**
 * An account's settings checked by its provider's schemas: the one place that does it, for the
 * API (create, update) and for everything that loads an account to call its provider (template
 * sync and creation, balance, webhooks). Problems name the field, never a credential's value.
 */
import { adapterFor, supportedProviders } from './registry.js';
import type { AccountSettings } from './types.js';

export type SettingsCheck = { ok: true; settings: AccountSettings } | { ok: false; problems: string[] };

export function checkAccountSettings(provider: string, id: string, config: unknown, credentials: unknown): SettingsCheck {
  const adapter = adapterFor(provider);
  if (!adapter) return { ok: false, problems: [`provider "${provider}" is not supported (supported: ${supportedProviders().join(', ')})`] };
  const c = adapter.configSchema.safeParse(config);
  const k = adapter.credentialsSchema.safeParse(credentials);
  if (c.success && k.success) return { ok: true, settings: { id, config: c.data, credentials: k.data } };
  return {
    ok: false,
    problems: [
      ...(c.success ? [] : c.error.issues.map((i) => `config.${i.path.join('.')}: ${i.message}`)),
      ...(k.success ? [] : k.error.issues.map((i) => `credentials.${i.path.join('.')}: ${i.code === 'invalid_type' ? 'missing or wrong type' : 'invalid'}`)),
    ],
  };
}
