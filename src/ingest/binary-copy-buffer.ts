/**
 * Rows in PostgreSQL's binary COPY format, written straight into 64 KiB buffers.
 *
 * Binary rather than text COPY: building COPY text was the largest single cost in the ingest's
 * profile (three UUIDs spelt out on every row, escaping, then ~170 MB of strings turned into
 * bytes per million rows). Here a row's UUIDs are 62 pre-encoded bytes, and only the phone,
 * raw phone and variables are encoded, once, in place.
 *
 * Format ("Binary Format" in https://www.postgresql.org/docs/15/sql-copy.html): a header,
 * then per row an int16 field count and per field an int32 byte length and the bytes, then an
 * int16 -1. uuid is 16 bytes, int4 4 bytes big-endian, text its UTF-8, jsonb a version byte
 * (1) and the JSON text.
 */
/** "PGCOPY\n\xff\r\n\0", no flags, no header extension. */
export const COPY_BINARY_HEADER = Buffer.from([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]);
export const COPY_BINARY_TRAILER = Buffer.from([0xff, 0xff]);
/** Buffer size: below glibc's mmap threshold, so freed buffers are reused instead of mapped anew. */
const BUFFER_BYTES = 64 * 1024;
/** UTF-8 takes at most 3 bytes per UTF-16 code unit. */
const MAX_BYTES_PER_CHAR = 3;

export class BinaryCopyBuffer {
  private buf = Buffer.allocUnsafe(BUFFER_BYTES);
  private pos = 0;
  private readonly filled: Buffer[] = [];

  /** True once at least one whole buffer is ready to send. */
  get hasFullBuffer(): boolean {
    return this.filled.length > 0;
  }

  /** Starts a row of `fieldCount` fields; `maxBytes` bounds what the row's fields will take. */
  startRow(fieldCount: number, maxBytes: number): this {
    const needed = maxBytes + 2;
    if (this.buf.length - this.pos < needed) {
      if (this.pos > 0) this.filled.push(this.buf.subarray(0, this.pos));
      this.buf = Buffer.allocUnsafe(Math.max(BUFFER_BYTES, needed));
      this.pos = 0;
    }
    this.pos = this.buf.writeInt16BE(fieldCount, this.pos);
    return this;
  }

  /** Bytes already in the format (length prefixes included), such as a row's fixed UUIDs. */
  raw(bytes: Buffer): this {
    this.pos += bytes.copy(this.buf, this.pos);
    return this;
  }

  text(value: string): this {
    const length = this.buf.write(withoutNul(value), this.pos + 4, 'utf8');
    this.buf.writeInt32BE(length, this.pos);
    this.pos += 4 + length;
    return this;
  }

  /** A nullable text field: null is length -1 in the binary format. */
  textOrNull(value: string | null): this {
    if (value !== null) return this.text(value);
    this.pos = this.buf.writeInt32BE(-1, this.pos);
    return this;
  }

  int4(value: number): this {
    this.buf.writeInt32BE(4, this.pos);
    this.buf.writeInt32BE(value, this.pos + 4);
    this.pos += 8;
    return this;
  }

  jsonb(json: string): this {
    const length = this.buf.write(withoutNul(json), this.pos + 5, 'utf8');
    this.buf.writeInt32BE(length + 1, this.pos);
    this.buf[this.pos + 4] = 1;
    this.pos += 5 + length;
    return this;
  }

  /** Everything written so far, as buffers to send in order; the writer starts afresh. */
  take(): Buffer[] {
    if (this.pos > 0) this.filled.push(this.buf.subarray(0, this.pos));
    const taken = this.filled.splice(0);
    this.buf = Buffer.allocUnsafe(BUFFER_BYTES);
    this.pos = 0;
    return taken;
  }

  /** The full buffers only, leaving the one being written. */
  takeFull(): Buffer[] {
    return this.filled.splice(0);
  }
}

/** Bytes a text or jsonb field of `value` may take, length prefix included. */
export function fieldBound(value: string): number {
  return 5 + value.length * MAX_BYTES_PER_CHAR;
}

/** A field of 16 bytes (uuid) with its length prefix. */
export function uuidField(uuid: string): Buffer {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new TypeError(`not a UUID: ${uuid}`);
  const field = Buffer.alloc(20);
  field.writeInt32BE(16, 0);
  field.write(hex, 4, 'hex');
  return field;
}

/** Postgres text cannot hold NUL; it becomes U+FFFD. */
function withoutNul(value: string): string {
  return value.includes('\u0000') ? value.replaceAll('\u0000', '\ufffd') : value;
}
