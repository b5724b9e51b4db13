/**
 * Event deliveries go through the outbound guard (src/security/outbound-guard.ts) when they
 * connect: a host name that passes the check when the endpoint is registered but resolves to
 * 127.0.0.1 when the delivery dials it is refused, and the local server never sees a request.
 * Also: no redirect is followed, and a receiver's answer is read only up to a cap.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { LookupAddress } from 'node:dns';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createEventAgent, deliverOnce, MAX_EVENT_ANSWER_BYTES } from '../../src/events/deliver.js';
import type { EventEnvelope } from '../../src/events/catalog.js';
import { outboundHostProblem } from '../../src/security/outbound-guard.js';

const servers: { close(): void }[] = [];
afterAll(() => servers.forEach((s) => s.close()));

async function startServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ port: number; url: string; hits: () => number }> {
  let hits = 0;
  const server = createServer((req, res) => {
    hits += 1;
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  const { port } = server.address() as AddressInfo;
  return { port, url: `http://127.0.0.1:${port}`, hits: () => hits };
}

const EVENT: EventEnvelope = { id: 'e-1', type: 'campaign.completed', createdAt: '2026-12-01T12:00:00.000Z', data: { campaign: { id: 'c-1', name: 'x' } } };
const resolvesTo = (address: string) =>
  ((_host: string, _options: unknown, callback: (e: Error | null, a: LookupAddress[]) => void) => callback(null, [{ address, family: 4 }])) as never;

describe('event delivery through the outbound guard', () => {
  it('a host name resolving to 127.0.0.1 when dialled is refused at delivery; the server sees nothing', async () => {
    const target = await startServer((_req, res) => res.end('internal secret'));
    const url = `https://hooks.example.com:${target.port}/wce`;
    // Registration's first check sees a public address...
    expect(await outboundHostProblem(url, { allowPrivateHosts: false }, resolvesTo('93.184.216.34'))).toBeNull();
    // ...the delivery dials 127.0.0.1, and the guard refuses it.
    const agent = createEventAgent({ allowPrivateHosts: false }, { lookup: resolvesTo('127.0.0.1') });
    const result = await deliverOnce({ url, secret: 's', format: 'json' }, EVENT, { timeoutMs: 2_000, allowPrivateUrls: false, dispatcher: agent });
    expect(result).toMatchObject({ ok: false, statusCode: null });
    expect(result.error).toMatch(/^EVENT_ADDRESS_REFUSED: The event endpoint host hooks\.example\.com resolves to a private, loopback or reserved address; refused\.$/);
    expect(target.hits()).toBe(0);
    await agent.close();
  });

  it('refuses plain http and address literals before connecting, unless private URLs are allowed', async () => {
    const target = await startServer((_req, res) => res.end('ok'));
    for (const url of [`${target.url}/x`, `https://127.0.0.1:${target.port}/x`, `https://[::1]:${target.port}/x`]) {
      const result = await deliverOnce({ url, secret: 's', format: 'json' }, EVENT, { timeoutMs: 2_000, allowPrivateUrls: false });
      expect(result.ok, url).toBe(false);
      expect(result.error, url).toMatch(/^URL refused: it /);
    }
    expect(target.hits()).toBe(0);
    const allowed = await deliverOnce({ url: `${target.url}/x`, secret: 's', format: 'json' }, EVENT, { timeoutMs: 2_000, allowPrivateUrls: true });
    expect(allowed).toMatchObject({ ok: true, statusCode: 200 });
    expect(target.hits()).toBe(1);
  });

  it('follows no redirect, and reads a long answer only up to the cap', async () => {
    const elsewhere = await startServer((_req, res) => res.end('ok'));
    const redirecting = await startServer((_req, res) => {
      res.writeHead(307, { location: `${elsewhere.url}/stolen` });
      res.end();
    });
    const redirected = await deliverOnce({ url: `${redirecting.url}/x`, secret: 's', format: 'json' }, EVENT, { timeoutMs: 2_000, allowPrivateUrls: true });
    expect(redirected).toMatchObject({ ok: false, statusCode: 307 });
    expect(elsewhere.hits()).toBe(0);

    const huge = await startServer((_req, res) => {
      res.writeHead(500);
      res.end('x'.repeat(MAX_EVENT_ANSWER_BYTES * 8));
    });
    const result = await deliverOnce({ url: `${huge.url}/x`, secret: 's', format: 'json' }, EVENT, { timeoutMs: 2_000, allowPrivateUrls: true });
    expect(result).toMatchObject({ ok: false, statusCode: 500 });
    expect(result.error).toBe(`HTTP 500: (an answer over ${MAX_EVENT_ANSWER_BYTES} bytes, not read)`);
  });
});
