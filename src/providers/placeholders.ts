/** Template and text placeholders: {{1}}..{{n}}, each number used at least once, none skipped. */

export function countPlaceholders(body: string): { count: number; problem: string | null } {
  const numbers = new Set([...body.matchAll(/\{\{\s*(\d+)\s*\}\}/g)].map((m) => Number(m[1])));
  const count = numbers.size;
  for (let n = 1; n <= count; n++) {
    if (!numbers.has(n)) return { count, problem: `placeholders must be numbered {{1}} to {{${count}}} without gaps; {{${n}}} is missing` };
  }
  return { count, problem: null };
}

/** The text with {{n}} replaced by variables[n-1]. */
export function renderPlaceholders(body: string, variables: readonly string[]): string {
  return body.replace(/\{\{\s*(\d+)\s*\}\}/g, (_, n: string) => variables[Number(n) - 1] ?? '');
}
