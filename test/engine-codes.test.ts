/**
 * Keeps src/engine-codes.ts honest, as test/errors.test.ts does for API errors: every code the
 * engine writes itself has one entry with a real sentence, and no module spells one as a bare
 * string instead of going through the table.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENGINE_CODES, engineCodeEntries, engineCodeSentence } from '../src/engine-codes.js';
import { OUTCOME_CODES } from '../src/providers/outcome.js';

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => join(e.parentPath, e.name));
}

describe('engine codes', () => {
  const entries = engineCodeEntries();

  it('has the recipient codes the engine writes, each once, spelled as their own name', () => {
    for (const code of ['SEND_INTERRUPTED', 'RECIPIENT_SUPPRESSED', 'MESSAGE_EXPIRED', 'CAMPAIGN_CANCELLED', 'QUIET_HOURS', 'DAILY_LIMIT_REACHED', 'ERROR_BUDGET_EXCEEDED', 'PROVIDER_REPORTED_FAILURE']) {
      expect(entries.map((e) => e.code)).toContain(code);
    }
    for (const entry of entries) expect(ENGINE_CODES[entry.code]).toBe(entry.code);
    expect(new Set(entries.map((e) => e.code)).size).toBe(entries.length);
    expect(entries.length).toBeGreaterThanOrEqual(8);
  });

  it('does not reuse a provider outcome code (those have their own table)', () => {
    for (const entry of entries) expect(Object.keys(OUTCOME_CODES)).not.toContain(entry.code);
  });

  it('gives each code a distinct, real sentence', () => {
    const sentences = entries.map((e) => engineCodeSentence(e.code));
    expect(new Set(sentences).size).toBe(sentences.length);
    for (const [i, sentence] of sentences.entries()) {
      const code = entries[i]?.code;
      expect(sentence, code).toMatch(/^[A-Z][^]*[.]$/);
      expect(sentence.split(' ').length, code).toBeGreaterThanOrEqual(6);
      expect(sentence, code).not.toMatch(/TODO|undefined|\$\{|[A-Z]{3,}_[A-Z]/);
    }
  });

  it('no module outside the table spells an engine code as a bare string', async () => {
    const files = (await sourceFiles('src')).filter((f) => !f.endsWith(join('src', 'engine-codes.ts')));
    expect(files.length).toBeGreaterThan(50);
    const bare: string[] = [];
    for (const file of files) {
      const text = await readFile(file, 'utf8');
      for (const { code } of entries) {
        if (new RegExp(`['"\`]${code}['"\`]`).test(text)) bare.push(`${file}: ${code}`);
      }
    }
    expect(bare).toEqual([]);
  });

  it('the bare-string check finds a bare code when there is one', () => {
    const text = "error_code = 'MESSAGE_EXPIRED'";
    expect(new RegExp(`['"\`]MESSAGE_EXPIRED['"\`]`).test(text)).toBe(true);
  });
});
