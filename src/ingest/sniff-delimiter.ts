/**
 * Which character separates the columns of a CSV: ";" (spreadsheets in Latin America, where
 * the comma is the decimal mark), "," or a tab. Counted outside quotes on the first lines: the
 * delimiter is the candidate found in the header that gives the most following lines the same
 * count. csv-parse's own detection throws on any quoted field, hence this.
 *
 * null when the header has none of them: a single column (a list of phone numbers).
 */
export type Delimiter = ';' | ',' | '\t';

const CANDIDATES: readonly Delimiter[] = [';', ',', '\t'];

export function isDelimiter(text: string): text is Delimiter {
  return (CANDIDATES as readonly string[]).includes(text);
}
const SAMPLE_LINES = 20;

export function sniffDelimiter(sample: string): Delimiter | null {
  const lines = countPerLine(sample);
  const header = lines[0];
  if (!header) return null;
  let best: Delimiter | null = null;
  let bestScore = -1;
  for (const [index, candidate] of CANDIDATES.entries()) {
    const inHeader = header[index] as number;
    if (inHeader === 0) continue;
    const rows = lines.slice(1);
    const agreeing = rows.filter((counts) => counts[index] === inHeader).length;
    // Agreement first, then more columns; the order of CANDIDATES breaks what is left.
    const score = (rows.length === 0 ? 1 : agreeing / rows.length) * 1000 + Math.min(inHeader, 999);
    if (score > bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  return best;
}

/** Counts of each candidate outside quotes, per non-empty line, for the first lines of `sample`. */
function countPerLine(sample: string): number[][] {
  const lines: number[][] = [];
  let counts = [0, 0, 0];
  let quoted = false;
  let empty = true;
  for (let i = 0; i < sample.length && lines.length < SAMPLE_LINES; i++) {
    const c = sample[i];
    if (c === '"') {
      quoted = !quoted;
      empty = false;
    } else if (quoted) {
      continue;
    } else if (c === '\n' || c === '\r') {
      if (!empty) lines.push(counts);
      counts = [0, 0, 0];
      empty = true;
    } else {
      const index = CANDIDATES.indexOf(c as Delimiter);
      if (index >= 0) counts[index] = (counts[index] as number) + 1;
      else if (c !== ' ') empty = false;
    }
  }
  // The last line of the sample may be cut; count it only when it is the header.
  if (!empty && lines.length === 0) lines.push(counts);
  return lines;
}
