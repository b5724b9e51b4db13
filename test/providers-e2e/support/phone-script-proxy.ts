/**
 * A pass-through HTTP proxy in front of a provider fake that can answer for one phone. The
 * Optiwe and Meta fakes script replies only per path, so with many recipients in flight a
 * scripted reply would land on whichever request came next; this proxy scripts by the phone
 * the request body names, and forwards every other request to the fake unchanged.
 */
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ProxyReply = { status: number; body: string; headers?: Record<string, string> } | { hang: true };

export type PhoneScriptProxy = {
  url: string;
  /** The next `times` requests for `phone` get `reply` instead of reaching the fake. */
  script(phone: string, reply: ProxyReply, times?: number): void;
  /** Requests seen for `phone`, scripted or forwarded. */
  requestsFor(phone: string): number;
  close(): Promise<void>;
};

/** `phoneOf` reads the phone from a parsed request body, in the same form `script` is given. */
export async function startPhoneScriptProxy(upstreamUrl: string, phoneOf: (body: unknown) => string | undefined): Promise<PhoneScriptProxy> {
  const scripts: { phone: string; reply: ProxyReply; times: number }[] = [];
  const seen = new Map<string, number>();
  const hanging = new Set<ServerResponse>();

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let parsed: unknown;
      try {
        parsed = JSON.parse(body) as unknown;
      } catch {
        parsed = undefined;
      }
      const phone = phoneOf(parsed);
      if (phone !== undefined) seen.set(phone, (seen.get(phone) ?? 0) + 1);
      const scripted = scripts.find((s) => s.times > 0 && s.phone === phone);
      if (scripted) {
        scripted.times -= 1;
        if ('hang' in scripted.reply) {
          hanging.add(res);
          return;
        }
        res.writeHead(scripted.reply.status, scripted.reply.headers ?? {});
        res.end(scripted.reply.body);
        return;
      }
      void forward(req.method ?? 'GET', req.url ?? '/', req.headers, body, res);
    });
  });

  async function forward(method: string, path: string, headers: NodeJS.Dict<string | string[]>, body: string, res: ServerResponse): Promise<void> {
    const pass: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) {
      if (typeof value === 'string' && !['host', 'content-length', 'connection'].includes(name)) pass[name] = value;
    }
    try {
      const upstream = await fetch(upstreamUrl + path, { method, headers: pass, ...(body === '' ? {} : { body }) });
      const text = await upstream.text();
      const contentType = upstream.headers.get('content-type');
      res.writeHead(upstream.status, contentType ? { 'content-type': contentType } : {});
      res.end(text);
    } catch {
      res.destroy();
    }
  }

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    script: (phone, reply, times = 1) => scripts.push({ phone, reply, times }),
    requestsFor: (phone) => seen.get(phone) ?? 0,
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
