/**
 * The shape of src/, checked: each concept has one owner, and the stage folders depend on each
 * other in one direction only. These are the rules a newcomer relies on when reading the tree.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROVIDERS } from '../../src/providers/types.js';

const SRC = resolve(import.meta.dirname, '../../src');
const STATUS_MODULE = 'recipients/';
const MAX_LINES = 300;

function sourceFiles(dir = SRC): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== 'generated' && name !== 'public') out.push(...sourceFiles(path));
    } else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

const files = sourceFiles().map((path) => ({ path, rel: relative(SRC, path), text: readFileSync(path, 'utf8') }));

function stageOf(rel: string): string {
  const parts = rel.split('/');
  return parts.length > 1 ? parts[0]! : '(top)';
}

/** Runtime imports between stage folders (type-only imports are erased and cannot form a load cycle). */
function stageGraph(): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  const importPattern = /^\s*(import|export)\s+(type\s+)?[^'";]*?from\s+['"](\.[^'"]+)['"]/gm;
  for (const file of files) {
    for (const match of file.text.matchAll(importPattern)) {
      if (match[2]) continue;
      const target = relative(SRC, resolve(dirname(file.path), match[3]!.replace(/\.js$/, '.ts')));
      const from = stageOf(file.rel);
      const to = stageOf(target);
      if (from === to || to === '(top)' || from === '(top)') continue;
      const edges = graph.get(from) ?? new Map<string, string>();
      if (!edges.has(to)) edges.set(to, `${file.rel} -> ${target}`);
      graph.set(from, edges);
    }
  }
  return graph;
}

function findCycles(graph: Map<string, Map<string, string>>): string[] {
  const cycles = new Set<string>();
  const walk = (node: string, path: string[]): void => {
    const at = path.indexOf(node);
    if (at >= 0) {
      const cycle = path.slice(at);
      const evidence = cycle.map((n, i) => graph.get(n)!.get(cycle[(i + 1) % cycle.length]!)!);
      cycles.add(`${[...cycle, node].join(' -> ')} (${evidence.join('; ')})`);
      return;
    }
    if (path.length > 12) return;
    for (const next of graph.get(node)?.keys() ?? []) walk(next, [...path, node]);
  };
  for (const node of graph.keys()) walk(node, []);
  return [...cycles];
}

describe('the tree', () => {
  it('reads the source files it checks', () => {
    expect(files.length).toBeGreaterThan(100);
  });

  it('has no import cycle between stage folders', () => {
    const graph = stageGraph();
    expect(graph.size).toBeGreaterThan(5);
    expect(findCycles(graph)).toEqual([]);
  });

  it('changes recipient rows only in the status module', () => {
    const offenders = files
      .filter((f) => !f.rel.startsWith(STATUS_MODULE) && /UPDATE\s+recipients\b/i.test(f.text))
      .map((f) => f.rel);
    expect(offenders).toEqual([]);
  });

  it('branches on a provider name only inside src/providers', () => {
    const names = PROVIDERS.join('|');
    const branch = new RegExp(`(case\\s+'(${names})'|[!=]==\\s*'(${names})'|'(${names})'\\s*[!=]==)`);
    const offenders = files
      .filter((f) => !f.rel.startsWith('providers/'))
      .flatMap((f) => f.text.split('\n').map((line, i) => ({ line, at: `${f.rel}:${i + 1}` })))
      .filter(({ line }) => branch.test(line))
      .map(({ at, line }) => `${at}: ${line.trim()}`);
    expect(offenders).toEqual([]);
  });

  it(`keeps files under ${MAX_LINES} lines, or says why in the header`, () => {
    const long = files.filter((f) => f.text.split('\n').length > MAX_LINES);
    const unexplained = long.filter((f) => !/(Longer|Over) (than )?300 lines/i.test(f.text.slice(0, 3000))).map((f) => f.rel);
    expect(unexplained).toEqual([]);
  });
});
