/**
 * An account's price per message, for the launch planner's cost estimate (src/queue/launch-plan.ts):
 * by template category, then by the recipient's country (ISO 3166 alpha-2), with "*" for every
 * other country. `{"MARKETING": {"CL": 0.0889, "*": 0.0625}, "UTILITY": {"*": 0.02}}`. The
 * currency is the operator's; the engine only multiplies.
 */
import { z } from 'zod';

const CATEGORIES = ['MARKETING', 'UTILITY', 'AUTHENTICATION'] as const;
const perCountry = z.record(z.string().regex(/^([A-Z]{2}|\*)$/, 'a country is two capital letters (ISO 3166), or "*" for the rest'), z.number().min(0).max(1_000));

export const messagePricesSchema = z.partialRecord(z.enum(CATEGORIES), perCountry);
export type MessagePrices = z.infer<typeof messagePricesSchema>;

/** The price of one message of `category` to `country`, or null when the table has none. */
export function priceOf(prices: MessagePrices | null, category: string, country: string | null): number | null {
  const table = prices?.[category as (typeof CATEGORIES)[number]];
  if (!table) return null;
  return (country ? table[country] : undefined) ?? table['*'] ?? null;
}

/** A stored value read back; anything that no longer parses counts as no prices. */
export function readMessagePrices(value: unknown): MessagePrices | null {
  if (value === null || value === undefined) return null;
  const parsed = messagePricesSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}
