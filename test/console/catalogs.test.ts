/**
 * The console's text lives in one catalog per language: both catalogs have the same keys, no
 * entry is empty, the placeholders of each sentence match across languages, and every key the
 * pages ask for by name exists.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const DIR = resolve(import.meta.dirname, '../../src/console');
const es = JSON.parse(readFileSync(join(DIR, 'i18n/es.json'), 'utf8')) as Record<string, string>;
const en = JSON.parse(readFileSync(join(DIR, 'i18n/en.json'), 'utf8')) as Record<string, string>;
const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('console catalogs', () => {
  it('es and en have the same keys, none empty, with the same placeholders', () => {
    expect(Object.keys(es).sort()).toEqual(Object.keys(en).sort());
    for (const [key, text] of Object.entries(es)) {
      expect(text.trim(), key).not.toBe('');
      expect(placeholders(text), key).toEqual(placeholders(en[key] ?? ''));
    }
  });

  it('every key a page asks for by name is in the catalogs', () => {
    const used = new Set<string>();
    const files = [
      ...readdirSync(join(DIR, 'public')).filter((f) => f.endsWith('.js')).map((f) => join(DIR, 'public', f)),
      join(DIR, 'page-shell.ts'),
      join(DIR, 'console-routes.ts'),
    ];
    for (const file of files) {
      const source = readFileSync(file, 'utf8');
      for (const m of source.matchAll(/\bt\('([a-zA-Z]+\.[a-zA-Z.]+)'/g)) used.add(m[1] as string);
      // The server side names its keys as plain strings ('nav.campaigns', 'signIn.title').
      if (file.endsWith('.ts')) for (const m of source.matchAll(/'((?:nav|app|lang|common|signIn|campaigns?|wizard|accounts|suppressions|notFound)\.[a-zA-Z]+)'/g)) used.add(m[1] as string);
    }
    expect(used.size).toBeGreaterThan(100);
    expect([...used].filter((key) => !(key in es))).toEqual([]);
  });

  it('has a sentence for every status a recipient or campaign can have', () => {
    for (const status of ['draft', 'running', 'paused', 'completed', 'cancelled', 'pending', 'deferred', 'queued', 'sending', 'accepted', 'sent', 'delivered', 'read', 'failed', 'unknown']) {
      expect(es[`status.${status}`], status).toBeTruthy();
    }
  });
});
