/** Request validation with zod; failures become VALIDATION_FAILED with every problem listed. */
import type { z } from 'zod';
import { errors } from '../errors.js';

export function parseInput<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw errors.validation(result.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)));
}
