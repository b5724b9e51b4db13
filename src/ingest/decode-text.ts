/**
 * Bytes to text, detecting the encoding as the bytes stream in: a UTF-8 byte-order mark means
 * UTF-8 (the mark is dropped); otherwise the first 64 KiB decide, UTF-8 when they are valid
 * UTF-8, Windows-1252 (what Excel in Latin America writes) when not. While everything seen is
 * plain ASCII the choice stays open, so a file whose first "ñ" is on row 5,000 is still read
 * right. Windows-1252 goes through iconv-lite: Node 20's `latin1` and TextDecoder get bytes
 * 0x80-0x9F wrong (€, curly quotes, …).
 *
 * Bytes that are not valid in a file already read as UTF-8 become U+FFFD; rows with them are
 * refused by the row checks rather than failing the whole file.
 */
import { isAscii, isUtf8 } from 'node:buffer';
import { StringDecoder } from 'node:string_decoder';
import iconv from 'iconv-lite';
import { errors } from '../errors.js';

export type TextEncodingName = 'utf-8' | 'windows-1252';

export type DecodedText = {
  chunks: AsyncGenerator<string>;
  /** The encoding read so far; final once `chunks` is done. */
  encoding(): TextEncodingName;
};

/** Bytes looked at before deciding between UTF-8 and Windows-1252. */
const SNIFF_BYTES = 64 * 1024;

export type ByteInput = AsyncIterable<Buffer | Uint8Array | string> | NodeJS.ReadableStream;

export function decodeText(input: ByteInput): DecodedText {
  let mode: 'undecided' | 'ascii' | TextEncodingName = 'undecided';
  const utf8 = new StringDecoder('utf8');
  let carry: Buffer | null = null;

  function decode(input: Buffer, more: boolean): string {
    let bytes = input;
    if (mode === 'ascii') {
      if (carry) {
        bytes = Buffer.concat([carry, bytes]);
        carry = null;
      }
      if (isAscii(bytes)) return bytes.toString('latin1');
      const complete = more ? completeCharacters(bytes) : bytes;
      if (isAscii(complete)) {
        // Only a cut character at the end: decide when its other bytes arrive.
        carry = Buffer.from(bytes.subarray(complete.length));
        return complete.toString('latin1');
      }
      mode = isUtf8(complete) ? 'utf-8' : 'windows-1252';
    }
    return mode === 'windows-1252' ? iconv.decode(bytes, 'win1252') : utf8.write(bytes);
  }

  /** Drops a byte-order mark; the content decides later, on its first non-ASCII bytes. */
  function readByteOrderMark(head: Buffer): Buffer {
    if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) {
      mode = 'utf-8';
      return head.subarray(3);
    }
    if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) {
      throw errors.malformedInput('the file is UTF-16 ("Unicode text"); save it as "CSV UTF-8" or "CSV (comma delimited)"');
    }
    mode = 'ascii';
    return head;
  }

  async function* chunks(): AsyncGenerator<string> {
    const head: Buffer[] = [];
    let headBytes = 0;
    let alreadyText = false;
    for await (const chunk of input as AsyncIterable<Buffer | Uint8Array | string>) {
      if (typeof chunk === 'string' && (alreadyText || (mode === 'undecided' && headBytes === 0))) {
        // The caller decoded it already: nothing to detect.
        alreadyText = true;
        mode = 'utf-8';
        if (chunk.length > 0) yield chunk;
        continue;
      }
      const bytes = toBuffer(chunk);
      if (mode === 'undecided') {
        head.push(bytes);
        headBytes += bytes.length;
        if (headBytes < SNIFF_BYTES) continue;
        const text = decode(readByteOrderMark(Buffer.concat(head)), true);
        head.length = 0;
        if (text.length > 0) yield text;
        continue;
      }
      const text = decode(bytes, true);
      if (text.length > 0) yield text;
    }
    if (mode === 'undecided') {
      if (headBytes === 0) {
        mode = 'utf-8';
        return;
      }
      const text = decode(readByteOrderMark(Buffer.concat(head)), true);
      if (text.length > 0) yield text;
    }
    if (carry) {
      const text = decode(Buffer.alloc(0), false);
      if (text.length > 0) yield text;
    }
    const rest = mode === 'utf-8' ? utf8.end() : '';
    if (rest.length > 0) yield rest;
  }

  return {
    chunks: chunks(),
    encoding: () => (mode === 'windows-1252' ? 'windows-1252' : 'utf-8'),
  };
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
