/**
 * What the first bytes of an upload say before any of it is read as text: a byte-order mark
 * (UTF-8, UTF-16, UTF-32), UTF-16 or UTF-32 written without one (every other byte NUL, the
 * way Excel's "Unicode text" and some exports write), or a file that is not text at all (a
 * zip such as an .xlsx, an old .xls, gzip, a program, an image, random bytes).
 *
 * Nothing here echoes the bytes: a refusal names what the file looks like and what to do.
 */
import { errors } from '../errors.js';

export type SniffedEncoding = 'utf-8' | 'utf-16le' | 'utf-16be';

/** `encoding` null: UTF-8 or Windows-1252, which the text itself decides (decode-text.ts). */
export type ByteSniff = { encoding: SniffedEncoding | null; byteOrderMark: number };

type Signature = { bytes: readonly number[]; what: string; advice: string };

const EXPORT_CSV = 'open it in the spreadsheet and save it as "CSV UTF-8", then upload that file';
const SIGNATURES: readonly Signature[] = [
  {
    bytes: [0x50, 0x4b, 0x03, 0x04],
    what: 'a zip archive (an Excel .xlsx workbook is one)',
    advice: EXPORT_CSV,
  },
  { bytes: [0x50, 0x4b, 0x05, 0x06], what: 'an empty zip archive', advice: EXPORT_CSV },
  { bytes: [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1], what: 'an old Excel (.xls) or other Office file', advice: EXPORT_CSV },
  { bytes: [0x1f, 0x8b], what: 'gzip-compressed', advice: 'send it uncompressed, or with the header "Content-Encoding: gzip"' },
  { bytes: [0x28, 0xb5, 0x2f, 0xfd], what: 'zstd-compressed', advice: 'send it uncompressed' },
  { bytes: [0x42, 0x5a, 0x68], what: 'bzip2-compressed', advice: 'send it uncompressed' },
  { bytes: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c], what: 'a 7-Zip archive', advice: 'extract the CSV file and upload it' },
  { bytes: [0x52, 0x61, 0x72, 0x21], what: 'a RAR archive', advice: 'extract the CSV file and upload it' },
  { bytes: [0x7f, 0x45, 0x4c, 0x46], what: 'a program (ELF executable)', advice: 'upload the recipient list instead' },
  { bytes: [0x25, 0x50, 0x44, 0x46], what: 'a PDF document', advice: `export the list from where it was made as CSV, or ${EXPORT_CSV}` },
  { bytes: [0x89, 0x50, 0x4e, 0x47], what: 'a PNG image', advice: 'upload the recipient list instead' },
  { bytes: [0xff, 0xd8, 0xff], what: 'a JPEG image', advice: 'upload the recipient list instead' },
  { bytes: [0x47, 0x49, 0x46, 0x38], what: 'a GIF image', advice: 'upload the recipient list instead' },
  { bytes: [0x53, 0x51, 0x4c, 0x69, 0x74, 0x65, 0x20, 0x66], what: 'an SQLite database', advice: 'export the table as CSV' },
];

/** Bytes looked at for NUL patterns and control characters. */
const PATTERN_BYTES = 8 * 1024;
/** Share of control bytes (NUL and others but tab, line breaks, form feed) above which a file is not text. */
const MAX_CONTROL_SHARE = 0.01;
/** A few stray control bytes in a small file are rows to reject, not a binary file. */
const MIN_CONTROL_BYTES = 4;

/** True when the head starts like a zip archive (an .xlsx workbook). */
export function looksLikeZip(head: Buffer): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
}

/**
 * Reads the head of an upload (up to 64 KiB, or all of a smaller one). Throws
 * errors.uploadNotText for a binary file and errors.encodingUnsupported for UTF-32.
 */
export function sniffBytes(head: Buffer): ByteSniff {
  if (startsWith(head, [0xff, 0xfe, 0x00, 0x00]) || startsWith(head, [0x00, 0x00, 0xfe, 0xff])) throw errors.encodingUnsupported('UTF-32');
  if (startsWith(head, [0xef, 0xbb, 0xbf])) return { encoding: 'utf-8', byteOrderMark: 3 };
  if (startsWith(head, [0xff, 0xfe])) return { encoding: 'utf-16le', byteOrderMark: 2 };
  if (startsWith(head, [0xfe, 0xff])) return { encoding: 'utf-16be', byteOrderMark: 2 };
  for (const signature of SIGNATURES) {
    if (startsWith(head, signature.bytes)) throw errors.uploadNotText(signature.what, signature.advice);
  }
  const sample = head.subarray(0, PATTERN_BYTES);
  const wide = wideEncoding(sample);
  if (wide === 'utf-32') throw errors.encodingUnsupported('UTF-32');
  if (wide) return { encoding: wide, byteOrderMark: 0 };
  if (!looksLikeText(sample)) throw errors.uploadNotText('binary data, not text', `send the recipient list as CSV, JSON or NDJSON text, or ${EXPORT_CSV}`);
  return { encoding: null, byteOrderMark: 0 };
}

function startsWith(head: Buffer, bytes: readonly number[]): boolean {
  if (head.length < bytes.length) return false;
  for (let i = 0; i < bytes.length; i++) if (head[i] !== bytes[i]) return false;
  return true;
}

/**
 * UTF-16 or UTF-32 without a byte-order mark, from where the NUL bytes fall: text that is
 * mostly ASCII has a NUL as the high byte of nearly every character.
 */
function wideEncoding(sample: Buffer): 'utf-16le' | 'utf-16be' | 'utf-32' | null {
  const nulByPosition = [0, 0, 0, 0];
  let nuls = 0;
  for (let i = 0; i < sample.length; i++) {
    if (sample[i] === 0) {
      nulByPosition[i % 4] = (nulByPosition[i % 4] as number) + 1;
      nuls++;
    }
  }
  if (nuls === 0 || sample.length < 4) return null;
  const quarter = sample.length / 4;
  const share = nulByPosition.map((count) => count / quarter);
  const [p0, p1, p2, p3] = share as [number, number, number, number];
  // UTF-32: three NULs of every four bytes (LE: "a\0\0\0", BE: "\0\0\0a").
  if ((p1 > 0.9 && p2 > 0.9 && p3 > 0.9 && p0 < 0.1) || (p0 > 0.9 && p1 > 0.9 && p2 > 0.9 && p3 < 0.1)) return 'utf-32';
  const even = (p0 + p2) / 2;
  const odd = (p1 + p3) / 2;
  if (odd > 0.3 && even < 0.05) return 'utf-16le';
  if (even > 0.3 && odd < 0.05) return 'utf-16be';
  return null;
}

/** Hardly any control bytes: what every CSV and JSON file is, and random bytes are not (about 1 byte in 9). */
function looksLikeText(sample: Buffer): boolean {
  let controls = 0;
  for (let i = 0; i < sample.length; i++) {
    const byte = sample[i] as number;
    if (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d && byte !== 0x0c) controls++;
  }
  return controls <= Math.max(MIN_CONTROL_BYTES, sample.length * MAX_CONTROL_SHARE);
}
