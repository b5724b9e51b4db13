/**
 * Bytes to text, detecting the encoding as the bytes stream in.
 *
 * The head (64 KiB, sniff-bytes.ts) is checked first: a byte-order mark decides (UTF-8,
 * UTF-16 LE/BE; UTF-32 is refused by name), as do NUL patterns of UTF-16 written without one;
 * binary files (zip/xlsx, gzip, programs, images, random bytes) are refused with their own code.
 * A charset declared by the caller (Content-Type "charset=") is honored instead of detection.
 *
 * Otherwise the file is UTF-8 or Windows-1252 (what Excel in Latin America writes), and its
 * first non-ASCII bytes decide, with up to 64 KiB more of evidence: UTF-8 when its valid UTF-8
 * sequences are at least as many as the bytes that are not (so one bad sequence in a UTF-8 file
 * never turns the whole file into mojibake), Windows-1252 when not. While everything seen is
 * plain ASCII the choice stays open, so a file whose first "ñ" is on row 5,000 is still read
 * right.
 *
 * Once decided, the file stays in its encoding:
 * - UTF-8: bytes that are not valid UTF-8 become U+FFFD, and the rows holding them are refused
 *   (ENCODING_INVALID, check-row.ts) with their line; the rest of the file is read as it is.
 * - Windows-1252: a line whose bytes are valid UTF-8 with multi-byte characters (a row pasted
 *   from elsewhere, "PeÃ±a" otherwise) is read as UTF-8; the text of Windows-1252 has such
 *   sequences practically never. Windows-1252 goes through iconv-lite: Node 20's `latin1` and
 *   TextDecoder get bytes 0x80-0x9F wrong (€, curly quotes, …).
 */
import { isAscii, isUtf8 } from 'node:buffer';
import { StringDecoder } from 'node:string_decoder';
import iconv from 'iconv-lite';
import { errors } from '../errors.js';
import { sniffBytes, type SniffedEncoding } from './sniff-bytes.js';

export type TextEncodingName = 'utf-8' | 'windows-1252' | 'utf-16le' | 'utf-16be';

export type DecodedText = {
  chunks: AsyncGenerator<string>;
  /** The encoding read so far; final once `chunks` is done. */
  encoding(): TextEncodingName;
};

export type DecodeOptions = {
  /** The charset the sender declared (Content-Type "charset="); honored over detection. */
  charset?: string;
};

export type ByteInput = AsyncIterable<Buffer | Uint8Array | string> | NodeJS.ReadableStream;

/** Bytes looked at before anything is decoded, and the most kept while UTF-8 vs Windows-1252 is open. */
const SNIFF_BYTES = 64 * 1024;
/** Non-ASCII sequences (valid or not) that are enough to tell UTF-8 from Windows-1252. */
const ENOUGH_EVIDENCE = 16;
/** A Windows-1252 line longer than this is decoded without waiting for its end. */
const MAX_CARRY_BYTES = 1024 * 1024;

// A valid UTF-8 multi-byte sequence, matched on the bytes read as latin1 (one char per byte).
const UTF8_SEQUENCE =
  /[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2}/;
const UTF8_SEQUENCES = new RegExp(UTF8_SEQUENCE.source, 'g');
const HIGH_BYTES = /[\x80-\xff]/g;

type Declared = TextEncodingName | 'utf-16' | null;

/** A declared charset as the decoder takes it: null to detect. Throws for one it cannot read. */
export function declaredEncoding(charset: string): Declared {
  const name = charset.trim().replace(/^["']|["']$/g, '').toLowerCase();
  if (name === 'utf-8' || name === 'utf8') return 'utf-8';
  if (name === 'utf-16le' || name === 'utf-16be') return name;
  if (name === 'utf-16' || name === 'ucs-2' || name === 'unicode') return 'utf-16';
  // Browsers read every one of these labels as Windows-1252 (WHATWG Encoding).
  if (['windows-1252', 'cp1252', 'x-cp1252', 'iso-8859-1', 'iso8859-1', 'latin1', 'l1', 'iso_8859-1', 'ansi'].includes(name)) return 'windows-1252';
  if (name === 'us-ascii' || name === 'ascii') return null;
  if (name.startsWith('utf-32') || name.startsWith('utf32') || name === 'ucs-4') throw errors.encodingUnsupported('UTF-32');
  throw errors.encodingUnsupported(`"${name.slice(0, 40)}"`);
}

type Decoder = { write(bytes: Buffer): string; end(): string };

export function decodeText(input: ByteInput, options: DecodeOptions = {}): DecodedText {
  const declared = options.charset ? declaredEncoding(options.charset) : null;
  let encoding: TextEncodingName | null = null;
  let decoder: Decoder | null = null;

  function start(head: Buffer): Buffer {
    let chosen: TextEncodingName | null;
    let skip: number;
    if (declared === 'utf-16' || declared === 'utf-16le' || declared === 'utf-16be') {
      const bom = head[0] === 0xff && head[1] === 0xfe ? 'utf-16le' : head[0] === 0xfe && head[1] === 0xff ? 'utf-16be' : null;
      chosen = declared === 'utf-16' ? (bom ?? sniffedWide(head) ?? 'utf-16le') : declared;
      skip = bom === chosen ? 2 : 0;
    } else {
      const sniffed = sniffBytes(head);
      skip = sniffed.byteOrderMark;
      // A byte-order mark is stronger than a label; otherwise the label wins.
      chosen = skip > 0 ? sniffed.encoding : (declared ?? sniffed.encoding);
    }
    if (chosen) choose(chosen);
    return head.subarray(skip);
  }

  function choose(chosen: TextEncodingName): void {
    encoding = chosen;
    decoder = chosen === 'utf-8' ? utf8Decoder() : chosen === 'windows-1252' ? new Windows1252Decoder() : iconvDecoder(chosen);
  }

  const undecided = new UndecidedText((chosen) => {
    choose(chosen);
    return decoder as Decoder;
  });
  const decode = (bytes: Buffer): string => (decoder ? decoder.write(bytes) : undecided.write(bytes));

  async function* chunks(): AsyncGenerator<string> {
    const head: Buffer[] = [];
    let headBytes = 0;
    let started = false;
    let alreadyText = false;
    for await (const chunk of input as AsyncIterable<Buffer | Uint8Array | string>) {
      if (typeof chunk === 'string' && (alreadyText || (!started && headBytes === 0))) {
        // The caller decoded it already: nothing to detect.
        alreadyText = true;
        encoding = 'utf-8';
        if (chunk.length > 0) yield chunk;
        continue;
      }
      const bytes = toBuffer(chunk);
      if (!started) {
        head.push(bytes);
        headBytes += bytes.length;
        if (headBytes < SNIFF_BYTES) continue;
        started = true;
        const text = decode(start(Buffer.concat(head)));
        head.length = 0;
        if (text.length > 0) yield text;
        continue;
      }
      const text = decode(bytes);
      if (text.length > 0) yield text;
    }
    if (!started && headBytes > 0) {
      const text = decode(start(Buffer.concat(head)));
      if (text.length > 0) yield text;
    }
    const rest = decoder ? decoder.end() : undecided.end();
    if (rest.length > 0) yield rest;
  }

  return { chunks: chunks(), encoding: () => encoding ?? 'utf-8' };
}

/** UTF-16 without a mark, declared "utf-16": its NUL bytes say which byte order. */
function sniffedWide(head: Buffer): SniffedEncoding | null {
  try {
    return sniffBytes(head).encoding;
  } catch {
    return null;
  }
}

function utf8Decoder(): Decoder {
  const decoder = new StringDecoder('utf8');
  return { write: (bytes) => decoder.write(bytes), end: () => decoder.end() };
}

function iconvDecoder(encoding: 'utf-16le' | 'utf-16be'): Decoder {
  const decoder = iconv.getDecoder(encoding);
  return { write: (bytes) => decoder.write(bytes), end: () => decoder.end() ?? '' };
}

/**
 * Plain ASCII so far: passes it through, and on the first non-ASCII bytes gathers evidence
 * (up to ENOUGH_EVIDENCE sequences or SNIFF_BYTES more bytes) before choosing.
 */
class UndecidedText {
  private held: Buffer[] = [];
  private heldBytes = 0;
  /** The end of the held bytes, when it may be the start of a character cut between chunks. */
  private tail: Buffer | null = null;
  private valid = 0;
  private invalid = 0;

  constructor(private readonly decide: (encoding: 'utf-8' | 'windows-1252') => Decoder) {}

  write(bytes: Buffer): string {
    if (this.heldBytes === 0 && isAscii(bytes)) return bytes.toString('latin1');
    this.held.push(bytes);
    this.heldBytes += bytes.length;
    const segment = this.tail ? Buffer.concat([this.tail, bytes]) : bytes;
    const complete = completeCharacters(segment);
    this.tail = complete.length < segment.length ? Buffer.from(segment.subarray(complete.length)) : null;
    this.count(complete);
    const seen = this.valid + this.invalid;
    if (seen === 0 || (seen < ENOUGH_EVIDENCE && this.heldBytes < SNIFF_BYTES)) return '';
    return this.flush(false);
  }

  end(): string {
    if (this.heldBytes === 0) return '';
    if (this.tail) this.count(this.tail);
    return this.flush(true);
  }

  private count(bytes: Buffer): void {
    const found = evidence(bytes);
    this.valid += found.valid;
    this.invalid += found.invalid;
  }

  private flush(final: boolean): string {
    const all = Buffer.concat(this.held);
    this.held = [];
    this.heldBytes = 0;
    const decoder = this.decide(this.valid > 0 && this.invalid <= this.valid ? 'utf-8' : 'windows-1252');
    return decoder.write(all) + (final ? decoder.end() : '');
  }
}

/** Valid UTF-8 multi-byte sequences, and high bytes that are in none. */
function evidence(bytes: Buffer): { valid: number; invalid: number } {
  const latin = bytes.toString('latin1');
  const valid = latin.match(UTF8_SEQUENCES) ?? [];
  const inValid = valid.reduce((sum, sequence) => sum + sequence.length, 0);
  const high = latin.match(HIGH_BYTES)?.length ?? 0;
  return { valid: valid.length, invalid: high - inValid };
}

/** Windows-1252, except lines that are valid UTF-8 with multi-byte characters in them. */
class Windows1252Decoder implements Decoder {
  private carry: Buffer | null = null;

  write(input: Buffer): string {
    const bytes = this.carry ? Buffer.concat([this.carry, input]) : input;
    this.carry = null;
    // Keep the last, unfinished line for the next chunk: a UTF-8 character may be cut there.
    const lastLf = bytes.lastIndexOf(0x0a);
    if (lastLf === -1 && bytes.length < MAX_CARRY_BYTES) {
      this.carry = Buffer.from(bytes);
      return '';
    }
    const upTo = lastLf === -1 ? bytes.length : lastLf + 1;
    if (upTo < bytes.length) this.carry = Buffer.from(bytes.subarray(upTo));
    return decodeLines(bytes.subarray(0, upTo));
  }

  end(): string {
    const rest = this.carry;
    this.carry = null;
    return rest ? decodeLines(rest) : '';
  }
}

function decodeLines(bytes: Buffer): string {
  const latin = bytes.toString('latin1');
  if (!UTF8_SEQUENCE.test(latin)) return iconv.decode(bytes, 'win1252');
  const sequences = new RegExp(UTF8_SEQUENCE.source, 'g');
  let out = '';
  let from = 0;
  for (let match = sequences.exec(latin); match; match = sequences.exec(latin)) {
    const lineStart = latin.lastIndexOf('\n', match.index) + 1;
    const lf = latin.indexOf('\n', match.index);
    const lineEnd = lf === -1 ? latin.length : lf + 1;
    const line = bytes.subarray(lineStart, lineEnd);
    if (isUtf8(line)) {
      out += iconv.decode(bytes.subarray(from, lineStart), 'win1252') + line.toString('utf8');
      from = lineEnd;
    }
    sequences.lastIndex = lineEnd;
  }
  return out + iconv.decode(bytes.subarray(from), 'win1252');
}

function toBuffer(chunk: Buffer | Uint8Array | string): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** `bytes` without a UTF-8 sequence cut at its end (the rest of it is in the next chunk). */
function completeCharacters(bytes: Buffer): Buffer {
  for (let back = 1; back <= Math.min(4, bytes.length); back++) {
    const byte = bytes[bytes.length - back] as number;
    if ((byte & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return needed > back ? bytes.subarray(0, bytes.length - back) : bytes;
  }
  return bytes;
}
