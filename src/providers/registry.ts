/** Every provider adapter, by name. */
import { sandboxAdapter } from './sandbox/sandbox-adapter.js';
import type { ProviderAdapter, ProviderName } from './types.js';

const adapters: Partial<Record<ProviderName, ProviderAdapter<unknown, unknown>>> = {
  sandbox: sandboxAdapter as ProviderAdapter<unknown, unknown>,
};

export function adapterFor(provider: ProviderName): ProviderAdapter<unknown, unknown> | undefined {
  return adapters[provider];
}

export function supportedProviders(): ProviderName[] {
  return Object.keys(adapters) as ProviderName[];
}
