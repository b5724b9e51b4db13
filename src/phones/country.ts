/**
 * The one country schema: an ISO 3166-1 alpha-2 code that phone numbers are known for, as the
 * API takes it ("cl" and " CL " are CL). Campaigns, suppressions and single messages read
 * national numbers in this country.
 */
import { isSupportedCountry, type CountryCode } from 'libphonenumber-js/max';
import { z } from 'zod';

export type { CountryCode };

export function isCountryCode(value: string): value is CountryCode {
  return isSupportedCountry(value);
}

export const countryCodeSchema = z
  .string()
  .transform((value) => value.trim().toUpperCase())
  .refine((value): value is CountryCode => isCountryCode(value), 'not a country code phone numbers are known for (ISO 3166-1 alpha-2, like CL)');

/** The schema with the engine's default, CL. */
export const defaultCountrySchema = countryCodeSchema.default('CL');
