/**
 * Template buttons in the engine's shape (TemplateButton: {type, text, value?}), the shape the
 * `buttons` column holds: converted from a provider's listing (here, where the listings are
 * read), and compared with a stored row (by the template sync).
 */
import type { TemplateButton } from './types.js';

/** A button as Optiwe lists it and as the Graph parser reads it: the value under its own key. */
export type ProviderButton = { readonly type: string; readonly text: string; readonly url?: string; readonly phoneNumber?: string };

const ENGINE_TYPES = new Set<string>(['QUICK_REPLY', 'URL', 'PHONE_NUMBER']);

/**
 * The provider's buttons in its order, which is the order Optiwe matches a single send's text
 * against. `value` is a URL button's url (placeholder included) and a PHONE_NUMBER button's
 * number; a quick reply has none. Text is kept byte for byte (Optiwe matches trailing spaces).
 * Types the engine has no kind for (Graph's COPY_CODE, OTP, FLOW...) are left out: no adapter
 * renders them, and a campaign's buttonParams use the provider's own indices anyway.
 */
export function toTemplateButtons(buttons: readonly ProviderButton[]): TemplateButton[] {
  return buttons.flatMap((button): TemplateButton[] => {
    if (!ENGINE_TYPES.has(button.type)) return [];
    const type = button.type as TemplateButton['type'];
    const value = type === 'URL' ? button.url : type === 'PHONE_NUMBER' ? button.phoneNumber : undefined;
    return [{ type, text: button.text, ...(value === undefined ? {} : { value }) }];
  });
}

/**
 * Whether a stored `buttons` value (JSON as the row holds it) is exactly these buttons, in this
 * order. Anything else (extra keys, a null value, not an array) differs, so a sync rewrites it.
 */
export function sameButtons(listed: readonly TemplateButton[], stored: unknown): boolean {
  if (!Array.isArray(stored) || stored.length !== listed.length) return false;
  return listed.every((button, i) => sameButton(button, stored[i]));
}

function sameButton(button: TemplateButton, stored: unknown): boolean {
  if (typeof stored !== 'object' || stored === null || Array.isArray(stored)) return false;
  const expected: Record<string, string> = { type: button.type, text: button.text, ...(button.value === undefined ? {} : { value: button.value }) };
  const actual = stored as Record<string, unknown>;
  const keys = Object.keys(expected);
  return Object.keys(actual).length === keys.length && keys.every((key) => actual[key] === expected[key]);
}
