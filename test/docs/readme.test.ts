/**
 * The README is a promise: every setting the engine reads is documented there, every local link
 * in it and in docs/ points at a file that exists, and nothing points outside the repository.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const readme = readFileSync(resolve(ROOT, 'README.md'), 'utf8');
const docs = ['README.md', 'BENCHMARKS.md', ...readdirSync(resolve(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

describe('the README', () => {
  it('documents every environment variable src/config.ts reads', () => {
    const config = readFileSync(resolve(ROOT, 'src/config.ts'), 'utf8');
    const variables = [...new Set([...config.matchAll(/^ {2}([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]!))];
    expect(variables.length).toBeGreaterThan(30);
    expect(variables.filter((v) => !readme.includes(`\`${v}\``))).toEqual([]);
  });

  it('links only to files that exist, and never outside the repository', () => {
    const broken: string[] = [];
    for (const doc of docs) {
      const text = readFileSync(resolve(ROOT, doc), 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue;
        const path = resolve(dirname(resolve(ROOT, doc)), target!);
        if (!path.startsWith(ROOT + '/') || !existsSync(path)) broken.push(`${doc}: ${target}`);
      }
      if (/shared\/seeds|PLATFORM-NOTES|\.\.\/shared/.test(text)) broken.push(`${doc}: names a file outside the repository`);
    }
    expect(broken).toEqual([]);
  });

  it('nothing in the code names a file outside the repository', () => {
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? (e.name === 'generated' || e.name === 'node_modules' ? [] : walk(resolve(dir, e.name))) : [resolve(dir, e.name)],
      );
    const files = ['src', 'test', 'bench', 'scripts', 'workers'].flatMap((d) => walk(resolve(ROOT, d))).filter((f) => /\.(ts|mjs|js|md)$/.test(f) && f !== import.meta.filename);
    expect(files.length).toBeGreaterThan(200);
    const outside = files.filter((f) => /shared\/seeds|PLATFORM-NOTES|\.\.\/shared\//.test(readFileSync(f, 'utf8')));
    expect(outside).toEqual([]);
  });

  it('shows the two commands a new user runs', () => {
    expect(readme).toContain('npm ci && npm run demo');
    expect(readme).toContain('npm test');
  });
});
