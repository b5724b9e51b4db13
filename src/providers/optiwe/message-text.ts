/**
 * Optiwe's single send carries no template id: it matches the text we send against its
 * approved templates. So the text must be the template rendered exactly: placeholders filled,
 * then each button appended as ` | [text,value]` (quick reply: ` | [text]`) in the order Optiwe
 * stores the buttons (the order its API returns them).
 */
import { z } from 'zod';
import type { OutboundMessage, TemplateRef } from '../types.js';
import { optiweButtonSchema, type OptiweButton } from './schemas.js';

/**
 * A TemplateRef carrying the template's buttons. TemplateRef has no `buttons` field yet; until
 * it does, the engine passes them structurally (see withOptiweButtons).
 */
export type OptiweTemplateRef = TemplateRef & { readonly buttons?: readonly OptiweButton[] };

/** The same template, with its buttons in Optiwe's order (as synced), for the adapter to render. */
export function withOptiweButtons(template: TemplateRef, buttons: readonly OptiweButton[]): OptiweTemplateRef {
  return { ...template, buttons };
}

const buttonsField = z.object({ buttons: z.array(optiweButtonSchema) });

/** The buttons a template carries, or none. */
export function templateButtons(template: TemplateRef): OptiweButton[] {
  const parsed = buttonsField.safeParse(template);
  return parsed.success ? parsed.data.buttons : [];
}

const POSITIONAL = /\{\{(\d+)\}\}/g;

/**
 * Renders the text Optiwe matches. Throws when a placeholder has no value: the engine checks
 * variable counts against the template before a campaign starts, so this is a bug upstream.
 */
export function renderOptiweText(
  body: string,
  variables: readonly string[],
  buttons: readonly OptiweButton[] = [],
  buttonParams: OutboundMessage['buttonParams'] = [],
): string {
  const text = body.replace(POSITIONAL, (_match, position: string) => {
    const value = variables[Number(position) - 1];
    if (value === undefined) throw new RangeError(`Template placeholder {{${position}}} has no value (${variables.length} variable(s) given).`);
    return value;
  });
  const suffix = buttons.map((button, index) => {
    if (button.type === 'QUICK_REPLY') return ` | [${button.text}]`;
    if (button.type === 'PHONE_NUMBER') return ` | [${button.text},${button.phoneNumber ?? ''}]`;
    return ` | [${button.text},${renderUrl(button, index, buttonParams)}]`;
  });
  return text + suffix.join('');
}

function renderUrl(button: OptiweButton, index: number, buttonParams: OutboundMessage['buttonParams']): string {
  const url = button.url ?? '';
  if (!/\{\{\d+\}\}/.test(url)) return url;
  const param = buttonParams?.find((p) => p.index === index && p.subType === 'url');
  if (!param) throw new RangeError(`URL button ${index} ("${button.text}") has a placeholder but the message carries no url parameter for it.`);
  // A function replacement, so a `$&` in the value is taken literally.
  return url.replace(/\{\{\d+\}\}/, () => param.value);
}
