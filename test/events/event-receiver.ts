/**
 * A tenant's event receiver, for tests: a local HTTP server that records every request with its
 * raw body and headers, and answers as the test says: accept (204), fail (500) or hang (never
 * answer, as a receiver stuck mid-request).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ReceivedRequest = { headers: IncomingMessage['headers']; body: string; answer: Mode; at: number };
export type Mode = 'accept' | 'fail' | 'hang';

export type EventReceiver = {
  url: string;
  requests: ReceivedRequest[];
  /** Requests that were answered 2xx. */
  accepted(): ReceivedRequest[];
  /** How the next requests are answered; `failFirst` fails that many, then falls back to `mode`. */
  set(mode: Mode, failFirst?: number): void;
  close(): Promise<void>;
};

export async function startEventReceiver(initial: { mode?: Mode; failFirst?: number } = {}): Promise<EventReceiver> {
  let mode: Mode = initial.mode ?? 'accept';
  let failFirst = initial.failFirst ?? 0;
  const requests: ReceivedRequest[] = [];
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const answer: Mode = failFirst > 0 ? 'fail' : mode;
      if (failFirst > 0) failFirst -= 1;
      requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), answer, at: Date.now() });
      if (answer === 'hang') {
        hanging.add(res);
        return;
      }
      res.statusCode = answer === 'accept' ? 204 : 500;
      res.end(answer === 'accept' ? undefined : 'receiver down for maintenance');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/wce`,
    requests,
    accepted: () => requests.filter((r) => r.answer === 'accept'),
    set(next, fail = 0) {
      mode = next;
      failFirst = fail;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
