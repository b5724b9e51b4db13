/**
 * Request validation. Route schemas are zod (parseInput); before any route sees its input, one
 * hook (checkRequestInput, wired in app.ts) refuses what no route can store: text Postgres
 * rejects (NUL, unpaired UTF-16 surrogates) anywhere in the query, the path or a JSON body, and
 * JSON nested deeper than any route needs (deep nesting overflows the stack in JSON.stringify).
 */
import { z } from 'zod';
import { errors } from './errors.js';

/** Deepest nesting any route's JSON needs (campaign options are about 5 levels); a bound, not a tuning knob. */
export const MAX_INPUT_DEPTH = 32;

export function parseInput<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw errors.validation(result.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)));
}

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when Postgres can store the text (text and jsonb both refuse NUL and lone surrogates). */
export function isStorableText(value: string): boolean {
  return !value.includes('\u0000') && !LONE_SURROGATE.test(value);
}

/**
 * Walks a parsed value without recursion (so depth itself cannot overflow the stack) and throws
 * the first problem: INVALID_CHARACTERS naming the field, or INPUT_TOO_DEEP.
 */
export function checkInputValue(value: unknown, where: string): void {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: where, depth: 0 }];
  while (stack.length > 0) {
    const item = stack.pop();
    if (!item) break;
    const current = item.value;
    if (typeof current === 'string') {
      if (!isStorableText(current)) throw errors.invalidCharacters(item.path);
      continue;
    }
    if (current === null || typeof current !== 'object' || Buffer.isBuffer(current) || isStream(current)) continue;
    if (item.depth >= MAX_INPUT_DEPTH) throw errors.inputTooDeep(where, MAX_INPUT_DEPTH);
    for (const [key, child] of Object.entries(current)) {
      const path = Array.isArray(current) ? `${item.path}[${key}]` : `${item.path}.${key}`;
      if (!isStorableText(key)) throw errors.invalidCharacters(item.path);
      stack.push({ value: child, path, depth: item.depth + 1 });
    }
  }
}

function isStream(value: object): boolean {
  return typeof (value as { pipe?: unknown }).pipe === 'function';
}

/** A date-time Postgres can store and people mean: ISO 8601 with offset, years 1970 to 9999. */
export const isoDateTime = z.iso
  .datetime({ offset: true })
  .refine((value) => {
    const time = Date.parse(value);
    return Number.isFinite(time) && time >= 0 && time < Date.UTC(10_000, 0, 1);
  }, 'must be a date between 1970 and 9999');

/** A keyset cursor over bigint ids: digits that fit a Postgres bigint. */
export const bigintCursor = z
  .string()
  // One check: zod runs every refinement even after one failed, and BigInt() throws on non-digits.
  .refine((value) => /^\d{1,19}$/.test(value) && BigInt(value) <= 9_223_372_036_854_775_807n, 'not a cursor this endpoint returned');
