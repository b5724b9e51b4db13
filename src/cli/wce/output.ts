/**
 * How results are shown: human text by default, the API's JSON with --json (one document on
 * stdout, nothing else there). Progress and errors go to stderr.
 */
export type Printer = {
  json: boolean;
  /** A result: the JSON document, or the human lines. */
  result(value: unknown, human: () => string | string[]): void;
  /** Human-only information (stderr), silent with --json. */
  note(text: string): void;
};

export function printer(json: boolean): Printer {
  return {
    json,
    result(value, human) {
      if (json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
      else {
        const lines = human();
        process.stdout.write(`${Array.isArray(lines) ? lines.join('\n') : lines}\n`);
      }
    },
    note(text) {
      if (!json) process.stderr.write(`${text}\n`);
    },
  };
}

/** A plain aligned table; cells are stringified, null shows as "-". */
export function table(headers: string[], rows: unknown[][]): string[] {
  const cells = rows.map((row) => row.map((cell) => (cell === null || cell === undefined || cell === '' ? '-' : String(cell))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]?.length ?? 0)));
  const line = (row: string[]) => row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  if (rows.length === 0) return ['(none)'];
  return [line(headers), ...cells.map(line)];
}

/** key: value lines, for one object. */
export function fields(entries: [string, unknown][]): string[] {
  const width = Math.max(...entries.map(([k]) => k.length));
  return entries.map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${v === null || v === undefined || v === '' ? '-' : typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
}
