/**
 * Optiwe account settings, and the shapes Optiwe's API sends back. Response shapes are parsed
 * leniently (unknown fields ignored) so an added field never turns a success into an error.
 */
import { z } from 'zod';

export const OPTIWE_DEFAULT_BASE_URL = 'https://backend.optiwe.com';

export const optiweConfigSchema = z.object({
  /** Override of https://backend.optiwe.com, for on-premise hosts and tests. No trailing path. */
  baseUrl: z.url({ protocol: /^https?$/ }).optional(),
  /**
   * Optiwe's `overrideCustomerData` on single sends. Default: not sent, so Optiwe keeps the
   * name it already has for an existing customer (the manual's "false" behaviour).
   */
  overrideCustomerData: z.boolean().optional(),
  /**
   * Argentine mobiles are +54 9 <area> <number> in E.164, but every number in Optiwe's manual
   * is written without the 9 ("1155174499", "+543442567890"). Default `strip`: follow the manual.
   */
  argentineMobileNine: z.enum(['strip', 'keep']).optional(),
});
export type OptiweConfig = z.infer<typeof optiweConfigSchema>;

export const optiweCredentialsSchema = z.object({
  /** Sent as `Authorization: Bearer <token>`. */
  token: z.string().min(1),
});
export type OptiweCredentials = z.infer<typeof optiweCredentialsSchema>;

/** `{"error": {"key", "message", "details"?}}`, the one error envelope of every endpoint. */
export const optiweErrorBodySchema = z.object({
  error: z.object({
    key: z.string().min(1),
    message: z.string().optional(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});

export const OPTIWE_BUTTON_TYPES = ['QUICK_REPLY', 'URL', 'PHONE_NUMBER'] as const;

/** A template button as Optiwe stores it; order matters (it is the order sends must follow). */
export const optiweButtonSchema = z.object({
  type: z.enum(OPTIWE_BUTTON_TYPES),
  /** Up to 20 characters; kept byte for byte, trailing spaces included, since Optiwe matches on it. */
  text: z.string(),
  url: z.string().optional(),
  urlExample: z.string().optional(),
  phoneNumber: z.string().optional(),
});
export type OptiweButton = z.infer<typeof optiweButtonSchema>;

export const optiweTemplateWireSchema = z.object({
  id: z.union([z.number().int(), z.string().min(1)]),
  key: z.string(),
  name: z.string(),
  text: z.string(),
  status: z.string(),
  category: z.string(),
  templateType: z.string().optional(),
  language: z.string(),
  buttons: z.array(optiweButtonSchema).optional(),
});
export type OptiweTemplateWire = z.infer<typeof optiweTemplateWireSchema>;

export const optiweTemplateListSchema = z.object({ templates: z.array(z.unknown()) });

export const optiweBulkCreatedSchema = z.object({
  campaignId: z.union([z.number(), z.string()]).optional(),
  invalidCustomers: z.array(z.object({ phone: z.string(), reason: z.string() })).optional(),
});
