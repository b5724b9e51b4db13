/**
 * Everything a route needs to take a file body as a stream, for every upload route (recipient
 * lists, the suppression import): the content types each format is sent with, the declared
 * charset, the Content-Encoding (gzip, deflate and br are decompressed as the body streams in;
 * anything else is 415), and the size limit, applied to the bytes as received AND to the bytes
 * after decompression, so a small compressed "bomb" is refused with 413 like a big file.
 *
 * Every stage is lazy: bytes are read only as the ingest pulls them, so a limit or a corrupt
 * stream surfaces through the ingest (its transaction rolls back, nothing is stored) and never
 * as an unhandled stream error.
 */
import { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate, type BrotliDecompress, type Gunzip, type Inflate } from 'node:zlib';
import { errors } from '../errors.js';

export type UploadFormat = 'csv' | 'json' | 'ndjson';

export const CSV_TYPES = ['text/csv', 'application/csv', 'text/plain', 'application/vnd.ms-excel', 'text/comma-separated-values', 'text/tab-separated-values'];
export const JSON_TYPES = ['application/json'];
export const NDJSON_TYPES = ['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/x-jsonlines'];
/** Sent by clients that do not know better; the file name or the content decides. */
export const GENERIC_TYPES = ['application/octet-stream'];

/** Excel workbooks: refused with their own sentence (see the README, "Recipient lists"). */
export const WORKBOOK_TYPES = ['application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'application/vnd.ms-excel.sheet.macroenabled.12'];

/** True for an Excel workbook, by media type or file name (.xlsx, .xlsm, .xls). */
export function isWorkbook(contentType: string, filename: string | undefined): boolean {
  return WORKBOOK_TYPES.includes(mediaType(contentType)) || /\.(xlsx|xlsm|xls)$/i.test(filename ?? '');
}

/** The media type alone, lower case: "text/csv; charset=utf-8" -> "text/csv". */
export function mediaType(contentType: string): string {
  return contentType.split(';')[0]?.trim().toLowerCase() ?? '';
}

/** The `charset` parameter of a Content-Type, when given. */
export function charsetOf(contentType: string): string | undefined {
  const match = /;\s*charset\s*=\s*("?)([^";\s]+)\1/i.exec(contentType);
  return match?.[2];
}

/** The format of a body from its media type, else its file name; null when neither says. */
export function uploadFormat(contentType: string, filename: string | undefined, accepted: readonly UploadFormat[]): UploadFormat | null {
  const type = mediaType(contentType);
  const name = filename?.toLowerCase() ?? '';
  const format: UploadFormat | null =
    JSON_TYPES.includes(type) || name.endsWith('.json')
      ? 'json'
      : NDJSON_TYPES.includes(type) || /\.(ndjson|jsonl)$/.test(name)
        ? 'ndjson'
        : CSV_TYPES.includes(type) || GENERIC_TYPES.includes(type) || /\.(csv|txt|tsv)$/.test(name)
          ? 'csv'
          : null;
  return format && accepted.includes(format) ? format : null;
}

/** The content types a route of these formats must stream rather than parse. */
export function streamedTypes(formats: readonly UploadFormat[]): string[] {
  const types = [...GENERIC_TYPES, ...WORKBOOK_TYPES];
  if (formats.includes('csv')) types.push(...CSV_TYPES);
  if (formats.includes('json')) types.push(...JSON_TYPES);
  if (formats.includes('ndjson')) types.push(...NDJSON_TYPES);
  return types;
}

/**
 * Passes the body through until more than `limit` bytes went by, then fails with 413. Lazy:
 * it reads only as the consumer pulls.
 */
export async function* limitBytes(source: AsyncIterable<Buffer>, limit: number): AsyncGenerator<Buffer> {
  let seen = 0;
  for await (const chunk of source) {
    seen += chunk.length;
    if (seen > limit) throw errors.uploadTooLarge(limit);
    yield chunk;
  }
}

type Decompressor = Gunzip | Inflate | BrotliDecompress;
const DECOMPRESSORS: Record<string, () => Decompressor> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/**
 * The body as the ingest reads it: decompressed per its Content-Encoding, and limited to
 * `limit` bytes both as received and as decompressed. Throws 415 at once for an encoding it
 * does not know, before anything is read.
 */
export function uploadBody(body: AsyncIterable<Buffer>, contentEncoding: string | undefined, limit: number): AsyncIterable<Buffer> {
  const codings = (contentEncoding ?? '')
    .split(',')
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== '' && coding !== 'identity');
  if (codings.length === 0) return limitBytes(body, limit);
  if (codings.length > 1) throw errors.contentEncodingUnsupported(codings.join(', '));
  const make = DECOMPRESSORS[codings[0] as string];
  if (!make) throw errors.contentEncodingUnsupported(codings[0] as string);
  return limitBytes(decompress(limitBytes(body, limit), make, codings[0] as string), limit);
}

async function* decompress(source: AsyncIterable<Buffer>, make: () => Decompressor, coding: string): AsyncGenerator<Buffer> {
  const input = Readable.from(source);
  const output = make();
  input.on('error', (error) => output.destroy(error));
  input.pipe(output);
  try {
    for await (const chunk of output as AsyncIterable<Buffer>) yield chunk;
  } catch (error) {
    // Our own errors (the limit) pass as they are; zlib's mean a body that is not what it says.
    if (error instanceof Error && 'code' in error && typeof error.code === 'string' && error.code.startsWith('Z_')) {
      throw errors.malformedInput(`the body is not valid ${coding} data (Content-Encoding: ${coding})`);
    }
    throw error;
  } finally {
    input.destroy();
    output.destroy();
  }
}
