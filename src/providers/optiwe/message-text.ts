/**
 * Optiwe's single send carries no template id: it matches the text we send against its
 * approved templates. So the text must be the template rendered exactly: placeholders filled,
 * then each button appended as ` | [text,value]` (quick reply: ` | [text]`) in the order Optiwe
 * stores the buttons (the order its API returns them).
 */
import { z } from 'zod';
import { MessageBuildError, type OutboundMessage, type TemplateRef } from '../types.js';
import { optiweButtonSchema, type OptiweButton } from './schemas.js';

/**
 * A TemplateRef whose buttons are in Optiwe's own shape (`url`, `urlExample`, `phoneNumber`), as
 * its template listing gives them. The engine's shape (`{type, text, value}`) is read too.
 */
export type OptiweTemplateRef = TemplateRef & { readonly buttons?: readonly OptiweButton[] };

/** The same template, with its buttons in Optiwe's order (as synced), for the adapter to render. */
export function withOptiweButtons(template: TemplateRef, buttons: readonly OptiweButton[]): OptiweTemplateRef {
  return { ...template, buttons };
}

// Either shape: Optiwe's (url / phoneNumber) or the engine's TemplateButton (value).
const buttonsField = z.object({ buttons: z.array(optiweButtonSchema.extend({ value: z.string().optional() })) });

/**
 * The buttons a template carries, in Optiwe's shape, or none. An engine button's `value` is the
 * URL of a URL button and the number of a PHONE_NUMBER button.
 */
export function templateButtons(template: TemplateRef): OptiweButton[] {
  const parsed = buttonsField.safeParse(template);
  if (!parsed.success) return [];
  return parsed.data.buttons.map(({ value, ...button }) => {
    if (value === undefined) return button;
    if (button.type === 'URL') return { ...button, url: button.url ?? value };
    if (button.type === 'PHONE_NUMBER') return { ...button, phoneNumber: button.phoneNumber ?? value };
    return button;
  });
}

const POSITIONAL = /\{\{(\d+)\}\}/g;
/** How the text marks a button (` | [text,value]`): a variable holding it would read as one. */
const BUTTON_MARK = /\|\s*\[/;

/**
 * Renders the text Optiwe matches. Throws MessageBuildError when it cannot: a placeholder with
 * no value or a URL button with no parameter ('template': ingest gives every recipient the
 * template's count, so the template or campaign is at fault), or a variable holding the button
 * mark ` | [` ('recipient': Optiwe would read it as a button and match no template).
 */
export function renderOptiweText(
  body: string,
  variables: readonly string[],
  buttons: readonly OptiweButton[] = [],
  buttonParams: OutboundMessage['buttonParams'] = [],
): string {
  const marked = variables.findIndex((value) => BUTTON_MARK.test(value));
  if (marked >= 0) {
    throw new MessageBuildError('recipient', `Variable ${marked + 1} holds " | [", which Optiwe reads as the start of a button; the message would match no template.`);
  }
  const text = body.replace(POSITIONAL, (_match, position: string) => {
    const value = variables[Number(position) - 1];
    if (value === undefined) throw new MessageBuildError('template', `Template placeholder {{${position}}} has no value (${variables.length} variable(s) given).`);
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
  if (!param) throw new MessageBuildError('template', `URL button ${index} ("${button.text}") has a placeholder but the message carries no url parameter for it.`);
  // A function replacement, so a `$&` in the value is taken literally.
  return url.replace(/\{\{\d+\}\}/, () => param.value);
}
