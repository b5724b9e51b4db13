/**
 * Every provider adapter, by name: one line per provider. The rest of the engine asks an adapter
 * what it can do (webhook, templates, balance...) and never switches on a provider's name, so
 * adding a provider is adding its folder and its line here.
 */
import { aderesoAdapter } from './adereso/index.js';
import { atomchatAdapter } from './atomchat/index.js';
import { metaAdapter } from './meta/index.js';
import { multichatAdapter } from './multichat/index.js';
import { optiweAdapter } from './optiwe/index.js';
import { sandboxAdapter } from './sandbox/index.js';
import type { ProviderAdapter, ProviderName } from './types.js';

export type AnyAdapter = ProviderAdapter<unknown, unknown>;

const adapters = new Map<string, AnyAdapter>(
  [
    sandboxAdapter as AnyAdapter,
    aderesoAdapter as AnyAdapter,
    multichatAdapter as AnyAdapter,
    optiweAdapter as AnyAdapter,
    atomchatAdapter as AnyAdapter,
    metaAdapter as AnyAdapter,
  ].map((adapter) => [adapter.provider, adapter]),
);

export function adapterFor(provider: string): AnyAdapter | undefined {
  return adapters.get(provider);
}

export function supportedProviders(): ProviderName[] {
  return [...adapters.keys()] as ProviderName[];
}

/** The provider as an operator knows it; its name when no adapter has it. */
export function providerLabel(provider: string): string {
  return adapters.get(provider)?.label ?? provider;
}

/** Providers whose webhooks the engine reads. */
export function webhookProviders(): ProviderName[] {
  return [...adapters.values()].filter((a) => a.webhook).map((a) => a.provider);
}

/**
 * Adds an adapter defined outside this list (a test's throwaway provider) and returns how to take
 * it away again. A name already registered is refused: a provider's behaviour never changes under
 * running code.
 */
export function registerAdapter<Config, Credentials>(adapter: ProviderAdapter<Config, Credentials>): () => void {
  if (adapters.has(adapter.provider)) throw new RangeError(`A provider named "${adapter.provider}" is already registered.`);
  adapters.set(adapter.provider, adapter as unknown as AnyAdapter);
  return () => {
    adapters.delete(adapter.provider);
  };
}
