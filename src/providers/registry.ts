/** Every provider adapter, by name. */
import { aderesoAdapter } from './adereso/index.js';
import { atomchatAdapter } from './atomchat/index.js';
import { metaAdapter } from './meta/index.js';
import { multichatAdapter } from './multichat/index.js';
import { optiweAdapter } from './optiwe/index.js';
import { sandboxAdapter } from './sandbox/sandbox-adapter.js';
import type { ProviderAdapter, ProviderName } from './types.js';

type AnyAdapter = ProviderAdapter<unknown, unknown>;

const adapters: Record<ProviderName, AnyAdapter> = {
  sandbox: sandboxAdapter as AnyAdapter,
  adereso: aderesoAdapter as AnyAdapter,
  multichat: multichatAdapter as AnyAdapter,
  optiwe: optiweAdapter as AnyAdapter,
  atomchat: atomchatAdapter as AnyAdapter,
  meta: metaAdapter as AnyAdapter,
};

export function adapterFor(provider: ProviderName): AnyAdapter | undefined {
  return adapters[provider];
}

export function supportedProviders(): ProviderName[] {
  return Object.keys(adapters) as ProviderName[];
}
