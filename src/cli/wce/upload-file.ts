/**
 * Uploads a file as a stream (never read into memory), with a progress bar of the bytes sent;
 * once every byte is out, the server is still checking and storing rows, and the bar says so.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { Transform } from 'node:stream';
import type { ApiClient } from './api-client.js';
import { CliError, EXIT } from './exit-codes.js';
import { formatBytes, ProgressLine } from './progress.js';

const TYPES: Record<string, string> = { '.json': 'application/json', '.ndjson': 'application/x-ndjson', '.jsonl': 'application/x-ndjson' };

export async function uploadFile<T>(client: ApiClient, path: string, file: string, showProgress: boolean): Promise<T> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (error) {
    throw new CliError(EXIT.usage, `cannot read ${file}: ${(error as Error).message}`);
  }
  const progress = new ProgressLine(showProgress);
  let sent = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      sent += chunk.length;
      progress.update(size ? sent / size : 1, `${formatBytes(sent)} / ${formatBytes(size)}${sent >= size ? ' sent; the engine is checking the rows...' : ''}`, sent >= size);
      done(null, chunk);
    },
  });
  const stream = createReadStream(file).pipe(counter);
  try {
    return await client.upload<T>(path, stream, TYPES[extname(file).toLowerCase()] ?? 'text/csv', size);
  } finally {
    progress.done();
  }
}
