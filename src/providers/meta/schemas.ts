/**
 * Meta WhatsApp Cloud API account settings, and the shapes Graph sends back. Responses are
 * parsed leniently (unknown fields ignored); a success is only a success with a message id.
 */
import { z } from 'zod';

export const META_DEFAULT_BASE_URL = 'https://graph.facebook.com';
/** Graph API version used when the account names none; pin one per account to upgrade deliberately. */
export const META_DEFAULT_API_VERSION = 'v24.0';

const graphId = z.string().regex(/^\d+$/, 'a numeric Graph id');

export const metaConfigSchema = z.object({
  /** The business phone number's Graph id (not the phone number itself); sends go to /{phoneNumberId}/messages. */
  phoneNumberId: graphId,
  /** WhatsApp Business Account id; needed only for template sync (/{wabaId}/message_templates). */
  wabaId: graphId.optional(),
  /** Graph API version like "v24.0". Default META_DEFAULT_API_VERSION. */
  apiVersion: z.string().regex(/^v\d+\.\d+$/, 'a Graph version like "v24.0"').optional(),
  /** Override of https://graph.facebook.com, for proxies and tests. */
  baseUrl: z.url({ protocol: /^https?$/ }).optional(),
});
export type MetaConfig = z.infer<typeof metaConfigSchema>;

export const metaCredentialsSchema = z.object({
  /** System-user access token, sent as `Authorization: Bearer <token>`, never in a URL. */
  accessToken: z.string().min(1),
  /** The Meta app's secret: webhook POSTs are signed with it (X-Hub-Signature-256). Without it the receiver refuses them. */
  appSecret: z.string().min(1).optional(),
  /** The verify token typed into Meta's webhook settings for the GET handshake; default: the secret in the webhook URL. */
  webhookVerifyToken: z.string().min(1).optional(),
});
export type MetaCredentials = z.infer<typeof metaCredentialsSchema>;

/** `{error: {code, message, error_data: {details}, fbtrace_id}}`. Graph's code is an integer. */
export const metaErrorBodySchema = z.object({
  error: z.object({
    code: z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)]),
    message: z.string().optional(),
    type: z.string().optional(),
    error_subcode: z.number().optional(),
    error_data: z.object({ details: z.string().optional() }).optional(),
    fbtrace_id: z.string().optional(),
  }),
});

/** `{messaging_product, contacts: [{input, wa_id}], messages: [{id: "wamid..."}]}`. */
export const metaSendSuccessSchema = z.object({
  contacts: z.array(z.object({ input: z.string().optional(), wa_id: z.string().optional() })).optional(),
  messages: z.array(z.object({ id: z.string().min(1), message_status: z.string().optional() })).min(1),
});

export const metaTemplateWireSchema = z.object({
  id: z.string().optional(),
  name: z.string(),
  language: z.string(),
  status: z.string(),
  category: z.string().optional(),
  parameter_format: z.string().optional(),
  components: z
    .array(
      z.object({
        type: z.string(),
        format: z.string().optional(),
        text: z.string().optional(),
        buttons: z
          .array(z.object({ type: z.string(), text: z.string().optional(), url: z.string().optional(), phone_number: z.string().optional(), example: z.array(z.string()).optional() }))
          .optional(),
      }),
    )
    .optional(),
});
export type MetaTemplateWire = z.infer<typeof metaTemplateWireSchema>;

export const metaTemplatePageSchema = z.object({
  data: z.array(z.unknown()),
  paging: z.object({ cursors: z.object({ before: z.string().optional(), after: z.string().optional() }).optional(), next: z.string().optional() }).optional(),
});
