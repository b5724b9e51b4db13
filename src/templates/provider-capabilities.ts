/**
 * What each provider lets the engine do with templates, and how to name the provider to a
 * person. One table, so the sync and create routes refuse an unsupported provider in the same
 * words, with the step the operator should take instead.
 */
import type { ProviderName } from '../providers/types.js';

type Capability = {
  /** The provider as an operator knows it. */
  label: string;
  /** Null when the engine can list the provider's templates; otherwise what to do instead. */
  syncInstead: string | null;
  /** Null when the engine can create templates at the provider; otherwise what to do instead. */
  createInstead: string | null;
};

const REGISTER_BY_HAND = 'register its templates with POST /v1/templates';

export const TEMPLATE_CAPABILITIES: Readonly<Record<ProviderName, Capability>> = {
  sandbox: { label: 'The sandbox', syncInstead: REGISTER_BY_HAND, createInstead: REGISTER_BY_HAND },
  // Adereso's manual: templates are loaded by its support team, by hand.
  adereso: {
    label: 'Adereso',
    syncInstead: `ask Adereso support to load the template, then ${REGISTER_BY_HAND}`,
    createInstead: `ask Adereso support to load the template, then ${REGISTER_BY_HAND}`,
  },
  multichat: {
    label: 'contacto-multichat',
    syncInstead: null,
    createInstead: 'create the template in the contacto-multichat dashboard, then sync the account with POST /v1/accounts/:id/templates/sync',
  },
  optiwe: { label: 'Optiwe', syncInstead: null, createInstead: null },
  // AtomChat's manual names a listing endpoint but does not document it.
  atomchat: {
    label: 'AtomChat',
    syncInstead: `its listing endpoint is not documented, so ${REGISTER_BY_HAND} (with paramNames)`,
    createInstead: `create the template in AtomChat, then ${REGISTER_BY_HAND} (with paramNames)`,
  },
  // Graph can create templates, but the engine does not build that request yet.
  meta: {
    label: 'Meta Cloud API',
    syncInstead: null,
    createInstead: 'create the template in WhatsApp Manager, then sync the account with POST /v1/accounts/:id/templates/sync',
  },
};

export function providerLabel(provider: ProviderName): string {
  return TEMPLATE_CAPABILITIES[provider].label;
}
