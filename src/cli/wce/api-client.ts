/**
 * The CLI's HTTP client: JSON in and out, streamed uploads and downloads, and every failure
 * turned into a CliError with the right exit code (the API's error code in the message).
 */
import { createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { request, type Dispatcher } from 'undici';
import { CliError, EXIT } from './exit-codes.js';
import type { Connection } from './settings.js';

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
type ErrorBody = { error?: { code?: string; message?: string; details?: unknown } };

export class ApiClient {
  constructor(private readonly connection: Connection) {}

  async json<T>(method: Method, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const res = await this.send(method, path, {
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.body.text();
    return (text ? JSON.parse(text) : {}) as T;
  }

  /** POSTs a stream (a file) with its length, so the server can refuse an oversized body early. */
  async upload<T>(path: string, stream: Readable, contentType: string, length: number): Promise<T> {
    const res = await this.send('POST', path, { headers: { 'content-type': contentType, 'content-length': String(length) }, body: stream });
    return (await res.body.json()) as T;
  }

  /** Streams a response body to a file (or stdout), never holding it in memory. Returns bytes written. */
  async download(path: string, destination: string | null): Promise<number> {
    const res = await this.send('GET', path, {});
    let bytes = 0;
    res.body.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    await pipeline(res.body, destination ? createWriteStream(destination) : process.stdout);
    return bytes;
  }

  private async send(method: Method, path: string, options: { headers?: Record<string, string>; body?: string | Readable }): Promise<Dispatcher.ResponseData> {
    let res: Dispatcher.ResponseData;
    try {
      res = await request(`${this.connection.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.connection.apiKey}`, accept: 'application/json', ...options.headers },
        ...(options.body === undefined ? {} : { body: options.body }),
        headersTimeout: 600_000,
        bodyTimeout: 600_000,
      });
    } catch (error) {
      const code = (error as { code?: string }).code ?? (error as Error).name;
      throw new CliError(EXIT.unreachable, `cannot reach the API at ${this.connection.url} (${code}: ${(error as Error).message})`);
    }
    if (res.statusCode >= 400) {
      const text = await res.body.text();
      let body: ErrorBody = {};
      try {
        body = JSON.parse(text) as ErrorBody;
      } catch {
        // Not the API's error shape (a proxy's page): report the status.
      }
      const code = body.error?.code ?? `HTTP_${res.statusCode}`;
      const message = body.error?.message ?? (text.slice(0, 200) || `the API answered ${res.statusCode}`);
      throw new CliError(EXIT.apiError, `${code}: ${message}`, body.error ? body : { error: { code, message } });
    }
    return res;
  }
}
