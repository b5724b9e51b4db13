/**
 * The time zone of a phone number, for quiet hours: the country's most populous zone, refined
 * by the area code where one country spans several zones and the area code says which cheaply
 * (Brazil's DDD, Mexico's and North America's area codes, a few landline codes elsewhere). A
 * mobile number keeps the area code of where it was issued, not where its owner is now;
 * anything not listed falls back to the country's zone, and an unknown country to UTC.
 */
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';

/** The zone of a number whose country is unknown (a non-geographic or unparsable number). */
export const FALLBACK_TIME_ZONE = 'UTC';

/** Each country's most populous zone: the answer when the area code does not say otherwise. */
const COUNTRY_ZONES: Partial<Record<CountryCode, string>> = {
  // South America
  AR: 'America/Argentina/Buenos_Aires', // one offset nationwide, no DST
  BO: 'America/La_Paz',
  BR: 'America/Sao_Paulo',
  CL: 'America/Santiago',
  CO: 'America/Bogota',
  EC: 'America/Guayaquil', // Galápagos (Pacific/Galapagos) is not told apart
  GF: 'America/Cayenne',
  GY: 'America/Guyana',
  PE: 'America/Lima',
  PY: 'America/Asuncion',
  SR: 'America/Paramaribo',
  UY: 'America/Montevideo',
  VE: 'America/Caracas',
  // Central America and the Caribbean
  BZ: 'America/Belize',
  CR: 'America/Costa_Rica',
  CU: 'America/Havana',
  DO: 'America/Santo_Domingo',
  GT: 'America/Guatemala',
  HN: 'America/Tegucigalpa',
  HT: 'America/Port-au-Prince',
  JM: 'America/Jamaica',
  MX: 'America/Mexico_City',
  NI: 'America/Managua',
  PA: 'America/Panama',
  PR: 'America/Puerto_Rico',
  SV: 'America/El_Salvador',
  TT: 'America/Port_of_Spain',
  // North America
  CA: 'America/Toronto',
  US: 'America/New_York',
  // Europe
  DE: 'Europe/Berlin',
  ES: 'Europe/Madrid',
  FR: 'Europe/Paris',
  GB: 'Europe/London',
  IE: 'Europe/Dublin',
  IT: 'Europe/Rome',
  NL: 'Europe/Amsterdam',
  PT: 'Europe/Lisbon',
};

/** Builds "area code -> zone" from "zone -> space-separated area codes", which reads better. */
function byAreaCode(zones: Record<string, string>): ReadonlyMap<string, string> {
  const map = new Map<string, string>();
  for (const [zone, codes] of Object.entries(zones)) for (const code of codes.split(/\s+/)) map.set(code, zone);
  return map;
}

/** Brazil by DDD (the national number's first two digits); unlisted DDDs are America/Sao_Paulo. */
const BRAZIL_DDD = byAreaCode({
  'America/Cuiaba': '65 66', // Mato Grosso
  'America/Campo_Grande': '67', // Mato Grosso do Sul
  'America/Rio_Branco': '68', // Acre
  'America/Porto_Velho': '69', // Rondônia
  'America/Manaus': '92 97', // Amazonas (the far west, America/Eirunepe, shares 97)
  'America/Boa_Vista': '95', // Roraima
  'America/Belem': '91 94 96', // Pará (east), Amapá
  'America/Santarem': '93', // Pará (west)
  'America/Araguaina': '63', // Tocantins
  'America/Fortaleza': '83 84 85 86 88 89 98 99', // PB, RN, CE, PI, MA
  'America/Recife': '81 87', // Pernambuco (Fernando de Noronha is not told apart)
  'America/Maceio': '79 82', // Sergipe, Alagoas
  'America/Bahia': '71 73 74 75 77',
});

/**
 * Mexico by three-digit area code; unlisted codes (and the two-digit 33, 55, 56, 81) are central
 * time, America/Mexico_City. Listed: the zones that differ from it today or keep US DST.
 */
const MEXICO_AREA = byAreaCode({
  'America/Tijuana': '616 646 658 661 664 665 686', // Baja California, US Pacific DST
  'America/Hermosillo': '622 631 633 637 638 642 644 645 653 662', // Sonora, no DST
  'America/Mazatlan': '311 319 323 324 325 612 613 615 624 667 668 669 672 673 687 694 696 697 698', // Sinaloa, Nayarit, BCS
  'America/Chihuahua': '614 625 627 628 629 635 636 639 648 649',
  'America/Ciudad_Juarez': '656 657', // US Mountain DST
  'America/Ojinaga': '626', // US Central DST
  'America/Matamoros': '867 868 877 878 899', // border cities with US Central DST
  'America/Cancun': '983 984 987 998', // Quintana Roo, UTC-5
});

/**
 * North America (US and Canada share +1) by area code; unlisted codes fall back to the
 * country's zone (America/New_York, America/Toronto). Codes that straddle zones take the
 * zone of most of their people.
 */
const NANP_AREA = byAreaCode({
  'America/Chicago':
    '205 210 214 217 218 224 225 228 251 254 256 262 274 281 308 309 312 314 316 318 319 320 325 331 334 337 346 361 402 405 409 ' +
    '414 417 430 432 447 464 469 479 501 504 507 512 515 531 534 539 557 563 572 573 580 601 605 608 612 615 618 620 629 630 636 ' +
    '641 651 659 660 662 682 701 708 712 713 715 726 731 737 763 769 773 779 785 806 815 816 817 830 832 847 870 872 901 903 913 ' +
    '918 920 936 938 940 945 952 956 972 975 979 985',
  'America/Denver': '208 303 307 385 406 435 505 575 719 720 801 915 970 983 986',
  'America/Phoenix': '480 520 602 623 928', // Arizona, no DST
  'America/Los_Angeles':
    '206 209 213 253 279 310 323 341 350 360 369 408 415 424 425 442 458 503 509 510 530 541 559 562 564 619 626 628 650 657 661 ' +
    '669 702 707 714 725 747 760 775 805 818 820 831 840 858 909 916 925 949 951 971',
  'America/Anchorage': '907',
  'Pacific/Honolulu': '808',
  // Canada
  'America/Vancouver': '236 250 604 672 778',
  'America/Edmonton': '368 403 587 780 825',
  'America/Regina': '306 474 639', // Saskatchewan, no DST
  'America/Winnipeg': '204 431 584',
  'America/Halifax': '782 902',
  'America/Moncton': '428 506',
  'America/St_Johns': '709 879',
});

/** Landline codes elsewhere (mobile numbers there carry no region). */
const CHILE_AREA = byAreaCode({ 'America/Punta_Arenas': '61', 'America/Coyhaique': '67' }); // Magallanes, Aysén: UTC-3 all year
const SPAIN_AREA = byAreaCode({ 'Atlantic/Canary': '822 828 922 928' });
const PORTUGAL_AREA = byAreaCode({ 'Atlantic/Azores': '292 295 296' });

/** The recipient's IANA time zone, from the phone's country and, where it tells, its area code. */
export function timeZoneForPhone(e164: string): string {
  const phone = parsePhoneNumberFromString(e164);
  if (!phone) return FALLBACK_TIME_ZONE;
  const national = phone.nationalNumber;
  // A +1 number in an area code the metadata does not know yet still dials the US.
  const country = phone.country ?? (phone.countryCallingCode === '1' ? 'US' : undefined);
  if (!country) return FALLBACK_TIME_ZONE;
  const countryZone = COUNTRY_ZONES[country] ?? FALLBACK_TIME_ZONE;
  switch (country) {
    case 'BR':
      return BRAZIL_DDD.get(national.slice(0, 2)) ?? countryZone;
    case 'MX': {
      // "+52 1 664 ..." is the old mobile form (and some wa_ids): the 1 is not part of the area code.
      const digits = national.length === 11 && national.startsWith('1') ? national.slice(1) : national;
      return MEXICO_AREA.get(digits.slice(0, 3)) ?? countryZone;
    }
    case 'US':
    case 'CA':
      return NANP_AREA.get(national.slice(0, 3)) ?? countryZone;
    case 'CL':
      return CHILE_AREA.get(national.slice(0, 2)) ?? countryZone;
    case 'ES':
      return SPAIN_AREA.get(national.slice(0, 3)) ?? countryZone;
    case 'PT':
      return PORTUGAL_AREA.get(national.slice(0, 3)) ?? countryZone;
    default:
      return countryZone;
  }
}

/** Every zone `timeZoneForPhone` can answer, for checking them against the running ICU. */
export function phoneTimeZones(): string[] {
  const zones = new Set<string>([FALLBACK_TIME_ZONE, ...Object.values(COUNTRY_ZONES)]);
  for (const table of [BRAZIL_DDD, MEXICO_AREA, NANP_AREA, CHILE_AREA, SPAIN_AREA, PORTUGAL_AREA]) {
    for (const zone of table.values()) zones.add(zone);
  }
  return [...zones].sort();
}
