/**
 * Template buttons as the template sync needs them. The conversion from a provider's listing
 * lives beside the listings (src/providers/template-buttons.ts); this stage only compares.
 */
export { sameButtons, toTemplateButtons, type ProviderButton } from '../providers/template-buttons.js';
