/**
 * A campaign's `options` JSON: the parts of each message that are the same for every recipient
 * (header media, button parameters) and provider options (Adereso's no_manual_reopen and
 * no_manual_merge). Validated when the campaign is created; read leniently when sending.
 */
import { z } from 'zod';
import { TEMPLATE_HEADER_TYPES, type MediaRef, type OutboundMessage, type TemplateButton, type TemplateHeaderType } from '../providers/types.js';

export const mediaSchema = z
  .object({
    type: z.enum(['image', 'video', 'document']),
    /** A public https URL of the file. */
    link: z.url({ protocol: /^https?$/ }).optional(),
    /** A provider media id (Meta). */
    id: z.string().min(1).optional(),
    filename: z.string().min(1).max(240).optional(),
  })
  .refine((m) => Boolean(m.link) !== Boolean(m.id), { message: 'give exactly one of link or id' });

export const campaignOptionsSchema = z.object({
  /** Header media for templates with an image, video or document header. */
  headerMedia: mediaSchema.optional(),
  /** Per-button parameters (quick-reply payload, URL suffix), by button index. */
  buttonParams: z.array(z.object({ index: z.number().int().min(0).max(9), subType: z.enum(['quick_reply', 'url']), value: z.string().min(1).max(2000) })).max(10).optional(),
  /** Adereso proactive conversations: keep agents from reopening or merging the ticket. */
  noManualReopen: z.boolean().optional(),
  noManualMerge: z.boolean().optional(),
});
export type CampaignOptions = z.infer<typeof campaignOptionsSchema>;

const buttonSchema = z.object({ type: z.enum(['QUICK_REPLY', 'URL', 'PHONE_NUMBER']), text: z.string(), value: z.string().optional() });

export function parseCampaignOptions(value: unknown): CampaignOptions {
  const parsed = campaignOptionsSchema.safeParse(value ?? {});
  return parsed.success ? parsed.data : {};
}

export function parseHeaderType(value: string): TemplateHeaderType {
  return (TEMPLATE_HEADER_TYPES as readonly string[]).includes(value) ? (value as TemplateHeaderType) : 'none';
}

export function parseButtons(value: unknown): TemplateButton[] {
  const parsed = z.array(buttonSchema).safeParse(value ?? []);
  return parsed.success ? parsed.data : [];
}

/** Why a template cannot be sent with these options, or null. */
export function mediaProblem(headerType: TemplateHeaderType, options: CampaignOptions): string | null {
  if (headerType !== 'image' && headerType !== 'video' && headerType !== 'document') return null;
  if (!options.headerMedia) return `the template has a${headerType === 'image' ? 'n' : ''} ${headerType} header: give options.headerMedia {type: "${headerType}", link or id}`;
  if (options.headerMedia.type !== headerType) return `the template's header is ${headerType}, but options.headerMedia is ${options.headerMedia.type}`;
  return null;
}

/** The campaign-wide parts of a message. */
export function messageExtras(options: CampaignOptions): Pick<OutboundMessage, 'media' | 'buttonParams'> {
  const media: MediaRef | undefined = options.headerMedia
    ? {
        type: options.headerMedia.type,
        ...(options.headerMedia.link ? { link: options.headerMedia.link } : {}),
        ...(options.headerMedia.id ? { id: options.headerMedia.id } : {}),
        ...(options.headerMedia.filename ? { filename: options.headerMedia.filename } : {}),
      }
    : undefined;
  return { ...(media ? { media } : {}), ...(options.buttonParams ? { buttonParams: options.buttonParams } : {}) };
}
