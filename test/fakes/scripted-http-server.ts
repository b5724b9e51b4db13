/**
 * The plumbing every fake provider shares: a local HTTP server that reads each request whole,
 * lets the fake record it and say which recipient it is for, answers from a scripted reply when
 * one matches (by path and/or recipient) or from the fake's own rules otherwise, and can hang
 * or drop the connection to imitate timeouts and resets.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A reply that answers: a status, a body and headers. */
export type AnswerReply = { status: number; body: string; headers?: Record<string, string> };
/** An answer, or a connection left hanging (a timeout for the client), or one dropped mid-request. */
export type ScriptedReply = AnswerReply | { hang: true } | { drop: true };

/** `path` is without the query string, which is in `query`. */
export type RawRequest = { method: string; path: string; query: URLSearchParams; headers: IncomingMessage['headers']; body: string };

export type ScriptMatch = { path?: string; recipient?: string; times?: number };

export type ScriptedServer = {
  url: string;
  /** Answers the next `times` (default 1) requests that match with `reply`, before the fake's own rules. */
  script(reply: ScriptedReply, match?: ScriptMatch): void;
  close(): Promise<void>;
};

/**
 * `receive` records the request (in the fake's own shape) and returns the recipient it is for,
 * if any, and how the fake would answer it without a script.
 */
export async function startScriptedServer(receive: (request: RawRequest) => { recipient?: string; answer: () => ScriptedReply }): Promise<ScriptedServer> {
  const scripts: { reply: ScriptedReply; path?: string; recipient?: string; times: number }[] = [];
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = new URL(req.url ?? '/', 'http://fake');
      const request: RawRequest = {
        method: req.method ?? '',
        path: target.pathname,
        query: target.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      const { recipient, answer } = receive(request);
      const scripted = scripts.find(
        (s) => s.times > 0 && (s.path === undefined || s.path === request.path) && (s.recipient === undefined || s.recipient === recipient),
      );
      if (scripted) scripted.times -= 1;
      const out = scripted?.reply ?? answer();
      if ('hang' in out) {
        hanging.add(res);
        return;
      }
      if ('drop' in out) {
        req.socket.destroy();
        return;
      }
      res.writeHead(out.status, { 'content-length': Buffer.byteLength(out.body), ...(out.headers ?? {}) });
      res.end(out.body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    script(reply, match = {}) {
      scripts.push({
        reply,
        times: match.times ?? 1,
        ...(match.path ? { path: match.path } : {}),
        ...(match.recipient ? { recipient: match.recipient } : {}),
      });
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** JSON.parse that answers undefined for a body that is not JSON. */
export function parseJsonBody(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

/** What a fake's script() takes: a path, how many times, and the recipient under the provider's own field name. */
export type FakeScriptOptions<K extends string> = { path?: string; times?: number } & { [P in K]?: string };

/** A fake's url, close() and script(), its options naming the recipient as the provider does (`phone`, `mobile`). */
export function fakeControls<K extends string>(server: ScriptedServer, recipientField: K) {
  return {
    url: server.url,
    close: () => server.close(),
    script(reply: ScriptedReply, options: FakeScriptOptions<K> = {}): void {
      const recipient: string | undefined = options[recipientField];
      server.script(reply, {
        ...(options.times !== undefined ? { times: options.times } : {}),
        ...(options.path ? { path: options.path } : {}),
        ...(recipient ? { recipient } : {}),
      });
    },
  };
}
