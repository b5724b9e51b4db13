/**
 * Writes accepted recipients and rejected rows with COPY FROM STDIN (binary format, see
 * binary-copy-buffer.ts) on the ingest's own transaction.
 *
 * Postgres is the slower side (index upkeep, the campaign foreign key), so it must never wait
 * for Node: recipients stream into an open COPY 64 KiB at a time while Node parses the next
 * rows, on the other core. Database work runs as one queue (a connection runs one statement
 * at a time); Node reads ahead of it by at most MAX_AHEAD_BYTES, which with socket
 * backpressure bounds memory. Every `batchRows` rows the COPY ends and the batch's rejected
 * rows, kept meanwhile, follow in a COPY of their own.
 *
 * COPY rather than createMany (~15k rows/s) or unnest: measured in bench/ingest.ts.
 */
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom, type CopyStreamQuery } from 'pg-copy-streams';
import { BinaryCopyBuffer, COPY_BINARY_HEADER, COPY_BINARY_TRAILER, fieldBound, uuidField } from './binary-copy-buffer.js';

export type UploadScope = { tenantId: string; campaignId: string; uploadId: string };

const RECIPIENTS_COPY =
  'COPY recipients (tenant_id, campaign_id, upload_id, phone, raw_phone, line, variables, time_zone) FROM STDIN (FORMAT binary)';
const REJECTED_COPY = 'COPY rejected_rows (tenant_id, campaign_id, upload_id, line, reason, message, raw) FROM STDIN (FORMAT binary)';
const FIELDS = 7;
/** The three UUID fields and the int4: their bytes with length prefixes. */
const FIXED_BYTES = 3 * 20 + 8;
/** Bytes Node may queue ahead of the socket for one COPY. */
const COPY_HIGH_WATER_MARK = 256 * 1024;
/** Bytes read ahead of what the database queue has taken. */
const MAX_AHEAD_BYTES = 1024 * 1024;

type OpenCopy = { stream: CopyStreamQuery; done: Promise<void> };
type QueuedWork = { done: Promise<void>; bytes: number };

export class RecipientCopyWriter {
  private readonly recipients = new BinaryCopyBuffer();
  private readonly rejected = new BinaryCopyBuffer();
  private rowsInBatch = 0;
  /** The COPY under way, if any: the queue's, kept here so `abort` can stop it. */
  private active: OpenCopy | null = null;
  /** Database work not yet done, oldest first; each runs after the one before. */
  private readonly queue: QueuedWork[] = [];
  private tail: Promise<void> = Promise.resolve();
  private aheadBytes = 0;
  /** tenant_id, campaign_id and upload_id, encoded once. */
  private readonly scope: Buffer;

  /** `batchRows`: rows (recipients and rejected together) per COPY statement. */
  constructor(
    private readonly client: pg.ClientBase,
    scope: UploadScope,
    private readonly batchRows: number,
  ) {
    this.scope = Buffer.concat([uuidField(scope.tenantId), uuidField(scope.campaignId), uuidField(scope.uploadId)]);
  }

  addRecipient(line: number, e164: string, rawPhone: string, variables: readonly string[], timeZone: string | null = null): void {
    const json = JSON.stringify(variables);
    this.recipients
      .startRow(FIELDS + 1, FIXED_BYTES + fieldBound(e164) + fieldBound(rawPhone) + fieldBound(json) + fieldBound(timeZone ?? ''))
      .raw(this.scope)
      .text(e164)
      .text(rawPhone)
      .int4(line)
      .jsonb(json)
      .textOrNull(timeZone);
    this.rowsInBatch++;
  }

  addRejected(line: number, reason: string, message: string, raw: string): void {
    this.rejected
      .startRow(FIELDS, FIXED_BYTES + fieldBound(reason) + fieldBound(message) + fieldBound(raw))
      .raw(this.scope)
      .int4(line)
      .text(reason)
      .text(message)
      .text(raw);
    this.rowsInBatch++;
  }

  /** Hands what is ready to the database queue; waits only when too far ahead of it. Call after each chunk of input. */
  async write(): Promise<void> {
    if (this.recipients.hasFullBuffer) this.enqueueRecipients(this.recipients.takeFull());
    if (this.rowsInBatch >= this.batchRows) this.enqueueEndOfBatch();
    while (this.aheadBytes > MAX_AHEAD_BYTES) await (this.queue[0] as QueuedWork).done;
  }

  /** Writes everything left and waits until Postgres has it all. */
  async finish(): Promise<void> {
    this.enqueueEndOfBatch();
    await this.tail;
  }

  /** Stops a COPY under way (before a rollback) and waits for the queue to settle. */
  async abort(): Promise<void> {
    const copy = this.active;
    if (copy && !copy.stream.writableFinished) copy.stream.destroy(new Error('ingest aborted'));
    await this.tail.catch(() => undefined);
  }

  private enqueueRecipients(buffers: Buffer[]): void {
    this.enqueue(bytesOf(buffers), async () => {
      this.active ??= await this.open(RECIPIENTS_COPY);
      for (const buffer of buffers) await write(this.active, buffer);
    });
  }

  private enqueueEndOfBatch(): void {
    const recipients = this.recipients.take();
    const rejected = this.rejected.take();
    this.rowsInBatch = 0;
    if (recipients.length > 0) this.enqueueRecipients(recipients);
    this.enqueue(bytesOf(rejected), async () => {
      await this.closeActive();
      if (rejected.length === 0) return;
      this.active = await this.open(REJECTED_COPY);
      for (const buffer of rejected) await write(this.active, buffer);
      await this.closeActive();
    });
  }

  private enqueue(bytes: number, work: () => Promise<void>): void {
    const done = this.tail.then(work);
    const entry = { done, bytes };
    this.queue.push(entry);
    this.aheadBytes += bytes;
    this.tail = done;
    // Whoever awaits the queue sees a failure; a failure seen by nobody yet is not unhandled.
    done.then(
      () => this.settled(entry),
      () => this.settled(entry),
    );
  }

  private settled(entry: QueuedWork): void {
    this.aheadBytes -= entry.bytes;
    const index = this.queue.indexOf(entry);
    if (index !== -1) this.queue.splice(index, 1);
  }

  private async open(sql: string): Promise<OpenCopy> {
    const stream = this.client.query(copyFrom(sql, { highWaterMark: COPY_HIGH_WATER_MARK }));
    const done = finished(stream);
    // Awaited when the COPY ends; until then a failure must not count as unhandled.
    done.catch(() => undefined);
    const copy = { stream, done };
    await write(copy, COPY_BINARY_HEADER);
    return copy;
  }

  private async closeActive(): Promise<void> {
    const copy = this.active;
    if (!copy) return;
    await write(copy, COPY_BINARY_TRAILER);
    copy.stream.end();
    await copy.done;
    this.active = null;
  }
}

async function write(copy: OpenCopy, bytes: Buffer): Promise<void> {
  if (!copy.stream.write(bytes)) await Promise.race([once(copy.stream, 'drain'), copy.done]);
}

function bytesOf(buffers: readonly Buffer[]): number {
  let bytes = 0;
  for (const buffer of buffers) bytes += buffer.length;
  return bytes;
}
