/**
 * Memory stays flat whatever the file size: the live heap (after a full GC) barely moves
 * between row 20,000 and row 100,000 of a 25 MB file. Time is not asserted anywhere; the
 * throughput figures come from bench/ingest.ts.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect, it } from 'vitest';
import { ingestRecipients } from '../../src/ingest/ingest-recipients.js';
import { contextForFile } from '../support/test-context.js';
import { createCampaign } from './campaign-fixture.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const ROWS = 100_000;
const NOTE = 'Cliente preferente, llamar después de las 18:00 hrs. '.repeat(4);

const ctx = contextForFile();

/** Live memory now: JS heap plus buffers, after a full collection. */
function liveBytes(): number {
  gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

it('keeps memory flat through a 100,000-row file', async () => {
  const samples = new Map<number, number>();
  let inputBytes = 0;
  // The file is made as it is read, 64 KiB at a time, so only the ingest can hold it.
  async function* body(): AsyncGenerator<Buffer> {
    let text = 'telefono;{{1}};{{2}};nota\n';
    for (let row = 0; row < ROWS; row++) {
      if (row % 20_000 === 0 && row > 0) samples.set(row, liveBytes());
      text += `+56 9 ${String(20_000_000 + row * 7).slice(0, 4)} ${String(20_000_000 + row * 7).slice(4)};Nombre ${row};${row % 1000};${NOTE}${row}\n`;
      if (text.length >= 64 * 1024) {
        const chunk = Buffer.from(text, 'utf8');
        inputBytes += chunk.length;
        text = '';
        yield chunk;
      }
    }
    const chunk = Buffer.from(text, 'utf8');
    inputBytes += chunk.length;
    yield chunk;
    samples.set(ROWS, liveBytes());
  }

  const { options } = await createCampaign(ctx);
  const summary = await ingestRecipients(ctx.db, body(), { ...options, batchRows: 5_000 });
  expect(summary).toMatchObject({ totalRows: ROWS, accepted: ROWS, rejected: 0, duplicates: 0 });
  expect(inputBytes).toBeGreaterThan(24 * 1024 * 1024);

  const start = samples.get(20_000) as number;
  const growth = Math.max(...[...samples.values()]) - start;
  // Holding the rows would grow by well over the 20 MB read after the first sample; the
  // phone set for 100,000 numbers is 2 MB.
  console.log(`live memory growth: ${(growth / 1048576).toFixed(1)} MB`);
  expect(growth, `live memory grew by ${(growth / 1048576).toFixed(1)} MB`).toBeLessThan(8 * 1024 * 1024);
});
