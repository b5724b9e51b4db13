/**
 * sendHttp tells the rate gate when a request goes on its connection (`onWire`): once, before
 * the provider sees it, whether the connection was kept alive or newly opened; never for a
 * request that found no connection (its place in the account's rate is given back).
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Agent } from 'undici';
import { createProviderAgent, sendHttp } from '../../src/providers/http.js';

/** For each request the server saw: how many onWire calls had been made by then. */
const wiredWhenSeen: number[] = [];
let wired = 0;
const server = createServer((req, res) => {
  wiredWhenSeen.push(wired);
  req.resume();
  req.on('end', () => res.end('{}'));
});
let url = '';
let agent: Agent;

beforeAll(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/messages`;
  agent = createProviderAgent({ allowPrivateHosts: true });
});

afterAll(async () => {
  await agent?.close();
  server.closeAllConnections();
  server.close();
});

const post = (to: string) => ({ method: 'POST' as const, url: to, headers: { 'content-type': 'application/json' }, body: '{"to":"+56911111111"}' });

it('calls onWire once per request, before the provider sees it, on a new connection and on a kept-alive one', async () => {
  for (let i = 1; i <= 3; i += 1) {
    const result = await sendHttp(post(url), 2_000, { dispatcher: agent, onWire: () => (wired += 1) });
    expect(result.ok).toBe(true);
    expect(wired).toBe(i);
  }
  expect(wiredWhenSeen).toEqual([1, 2, 3]);
});

it('never calls onWire for a request that found no connection', async () => {
  // A port nothing listens on: the connection is refused, nothing is written.
  const closed = createServer();
  closed.listen(0, '127.0.0.1');
  await once(closed, 'listening');
  const port = (closed.address() as AddressInfo).port;
  closed.close();
  await once(closed, 'close');
  let called = false;
  const result = await sendHttp(post(`http://127.0.0.1:${port}/v1/messages`), 2_000, { dispatcher: agent, onWire: () => (called = true) });
  expect(result).toMatchObject({ ok: false, outcome: { code: 'PROVIDER_UNREACHABLE' } });
  expect(called).toBe(false);
});
