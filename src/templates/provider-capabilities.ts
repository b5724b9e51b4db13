/**
 * How to name a provider to a person. The label is the adapter's own (src/providers/registry.ts);
 * this re-export keeps the template stage's callers on one import.
 */
export { providerLabel } from '../providers/registry.js';
