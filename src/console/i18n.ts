/**
 * The console's languages: one catalog per language (i18n/es.json, i18n/en.json), every
 * sentence of every page in them. Spanish for browsers whose first language is Spanish (es,
 * es-CL, es-419...), English otherwise; the language switch sets a cookie that wins.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyRequest } from 'fastify';
import { readCookie } from './session-auth.js';

export const LANGUAGES = ['es', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];
export type Catalog = Record<string, string>;
export const LANGUAGE_COOKIE = 'wce_lang';

const catalogs: Record<Language, Catalog> = {
  es: JSON.parse(readFileSync(join(import.meta.dirname, 'i18n', 'es.json'), 'utf8')) as Catalog,
  en: JSON.parse(readFileSync(join(import.meta.dirname, 'i18n', 'en.json'), 'utf8')) as Catalog,
};

export function catalog(language: Language): Catalog {
  return catalogs[language];
}

export function languageOf(request: FastifyRequest): Language {
  const chosen = readCookie(request, LANGUAGE_COOKIE);
  if (chosen === 'es' || chosen === 'en') return chosen;
  const first = (request.headers['accept-language'] ?? '').split(',')[0]?.trim().toLowerCase() ?? '';
  return first === 'es' || first.startsWith('es-') ? 'es' : 'en';
}

/** A catalog entry with {name} placeholders filled; the key itself when missing, so a gap shows. */
export function translate(language: Language, key: string, values: Record<string, string | number> = {}): string {
  const text = catalogs[language][key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name: string) => String(values[name] ?? `{${name}}`));
}
