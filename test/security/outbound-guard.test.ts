/**
 * Where provider HTTP may go, checked on the client itself: address classification, URL rules,
 * refusals at connect time (names, address literals, DNS rebinding), no redirects, and the cap
 * on how much of an answer is read. Servers here are plain local HTTP servers that count what
 * reaches them: a refused connection must leave them untouched.
 */
import { once } from 'node:events';
import type { LookupAddress } from 'node:dns';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createProviderAgent, MAX_ANSWER_BYTES, sendHttp } from '../../src/providers/http.js';
import { isPublicAddress, outboundHostProblem, outboundUrlProblem } from '../../src/security/outbound-guard.js';

const strict = { allowPrivateHosts: false } as const;
const open = { allowPrivateHosts: true } as const;

type Counting = { url: string; port: number; hits: number; server: Server };
const servers: Counting[] = [];

async function startServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Counting> {
  const state = { url: '', port: 0, hits: 0, server: undefined as unknown as Server };
  state.server = createServer((req, res) => {
    state.hits += 1;
    handler(req, res);
  });
  state.server.listen(0, '127.0.0.1');
  await once(state.server, 'listening');
  state.port = (state.server.address() as AddressInfo).port;
  state.url = `http://127.0.0.1:${state.port}`;
  servers.push(state);
  return state;
}

afterAll(async () => {
  for (const s of servers) {
    s.server.closeAllConnections();
    s.server.close();
  }
});

const post = (url: string) => ({ method: 'POST' as const, url, headers: { 'content-type': 'application/json' }, body: '{}' });

describe('address classification', () => {
  it.each([
    '127.0.0.1', '127.255.255.254', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '100.127.255.255',
    '0.0.0.0', '0.1.2.3', '224.0.0.1', '239.255.255.250', '255.255.255.255', '240.0.0.1', '192.0.2.10', '198.51.100.7', '203.0.113.9', '198.18.0.1', '192.0.0.8',
    '::', '::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:169.254.169.254', '::ffff:10.0.0.1', '::127.0.0.1', 'fe80::1', 'fe80::1%eth0', 'fc00::1', 'fd12:3456::1',
    'ff02::1', '64:ff9b::127.0.0.1', '2002:7f00:1::', '2001:db8::1', '2001::1', '3fff::1', '[::1]', '::ffff:0:0', 'not-an-ip',
  ])('%s is not public', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(['8.8.8.8', '1.1.1.1', '157.240.1.1', '172.32.0.1', '100.128.0.1', '::ffff:8.8.8.8', '2a03:2880:f10c:83:face:b00c:0:25de', '2606:4700:4700::1111', '64:ff9b::8.8.8.8', '2002:0808:0808::1'])(
    '%s is public',
    (address) => {
      expect(isPublicAddress(address)).toBe(true);
    },
  );
});

describe('provider URL rules', () => {
  it.each([
    ['http://127.0.0.1:6379/', 'https'],
    ['http://api.example.com/', 'https'],
    ['file:///etc/passwd', 'https'],
    ['gopher://127.0.0.1:6379/_INFO', 'https'],
    ['https://127.0.0.1/', 'private'],
    ['https://169.254.169.254/latest/meta-data/', 'private'],
    ['https://[::1]:8443/', 'private'],
    ['https://[::ffff:127.0.0.1]/', 'private'],
    ['https://0x7f000001/', 'private'],
    ['https://2130706433/', 'private'],
    ['https://localhost:6379/', 'local'],
    ['https://redis/', 'local'],
    ['https://user:pass@api.example.com/', 'user name'],
  ])('%s is refused (%s)', (url, why) => {
    expect(outboundUrlProblem(url, strict)).toContain(why);
  });

  it('a public https URL is accepted; the operator setting allows http and private hosts', () => {
    expect(outboundUrlProblem('https://graph.facebook.com', strict)).toBeNull();
    expect(outboundUrlProblem('http://127.0.0.1:9/', open)).toBeNull();
    expect(outboundUrlProblem('gopher://127.0.0.1:6379/', open)).toContain('https');
  });

  it('a name that resolves to a private address is refused at creation; one that does not resolve is left to connect time', async () => {
    const resolvesTo = (address: string) => ((_host: string, _options: unknown, callback: (e: Error | null, a: LookupAddress[]) => void) => callback(null, [{ address, family: address.includes(':') ? 6 : 4 }])) as never;
    expect(await outboundHostProblem('https://internal.example.com/', strict, resolvesTo('10.0.0.7'))).toContain('resolves');
    expect(await outboundHostProblem('https://api.example.com/', strict, resolvesTo('93.184.216.34'))).toBeNull();
    const fails = ((_h: string, _o: unknown, callback: (e: Error) => void) => callback(Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' }))) as never;
    expect(await outboundHostProblem('https://nowhere.example.com/', strict, fails)).toBeNull();
  });
});

describe('at connect time', () => {
  it('refuses a name that resolves to loopback (https://localhost): the server never sees a request', async () => {
    const target = await startServer((_req, res) => res.end('internal secret'));
    const result = await sendHttp(post(`https://localhost:${target.port}/`), 2_000, { dispatcher: createProviderAgent(strict) });
    expect(result).toMatchObject({ ok: false, outcome: { code: 'ACCOUNT_MISCONFIGURED', providerCode: 'PROVIDER_ADDRESS_REFUSED' } });
    expect(target.hits).toBe(0);
  });

  it('refuses plain http and address literals, v4 and v6', async () => {
    const target = await startServer((_req, res) => res.end('internal secret'));
    const agent = createProviderAgent(strict);
    for (const url of [`${target.url}/`, `https://127.0.0.1:${target.port}/`, `https://[::ffff:127.0.0.1]:${target.port}/`, `https://[::1]:${target.port}/`]) {
      const result = await sendHttp(post(url), 2_000, { dispatcher: agent });
      expect(result, url).toMatchObject({ ok: false, outcome: { code: 'ACCOUNT_MISCONFIGURED' } });
    }
    expect(target.hits).toBe(0);
  });

  it('DNS rebinding: a name public when the account was checked and loopback when dialled is refused', async () => {
    const target = await startServer((_req, res) => res.end('internal secret'));
    let answers = 0;
    // First answer public (the creation check), every later one 127.0.0.1 (the connection).
    const rebinding = ((_host: string, _options: unknown, callback: (e: Error | null, a: LookupAddress[]) => void) => {
      answers += 1;
      callback(null, [{ address: answers === 1 ? '93.184.216.34' : '127.0.0.1', family: 4 }]);
    }) as never;
    const url = `https://rebind.example.com:${target.port}/`;
    expect(await outboundHostProblem(url, strict, rebinding)).toBeNull();
    const result = await sendHttp(post(url), 2_000, { dispatcher: createProviderAgent(strict, { lookup: rebinding }) });
    expect(result).toMatchObject({ ok: false, outcome: { code: 'ACCOUNT_MISCONFIGURED' } });
    expect(answers).toBeGreaterThanOrEqual(2);
    expect(target.hits).toBe(0);
  });

  it('a name with one public and one private address is refused (no racing onto the private one)', async () => {
    const target = await startServer((_req, res) => res.end('internal secret'));
    const mixed = ((_h: string, _o: unknown, callback: (e: Error | null, a: LookupAddress[]) => void) =>
      callback(null, [{ address: '93.184.216.34', family: 4 }, { address: '127.0.0.1', family: 4 }])) as never;
    const result = await sendHttp(post(`https://mixed.example.com:${target.port}/`), 2_000, { dispatcher: createProviderAgent(strict, { lookup: mixed }) });
    expect(result).toMatchObject({ ok: false, outcome: { code: 'ACCOUNT_MISCONFIGURED' } });
    expect(target.hits).toBe(0);
  });

  it('with private hosts allowed (tests, on-premise), the same local server is reached', async () => {
    const target = await startServer((_req, res) => res.end('{"ok":true}'));
    const result = await sendHttp(post(`${target.url}/`), 2_000, { dispatcher: createProviderAgent(open) });
    expect(result).toMatchObject({ ok: true, response: { status: 200, body: '{"ok":true}' } });
    expect(target.hits).toBe(1);
  });
});

// Through the process's own client (this suite's settings allow the local servers), as every provider call goes.
describe('answers', () => {
  it('a redirect is not followed: the 3xx is the answer', async () => {
    const elsewhere = await startServer((_req, res) => res.end('followed'));
    const redirecting = await startServer((_req, res) => {
      res.writeHead(307, { location: `${elsewhere.url}/internal` });
      res.end();
    });
    const result = await sendHttp(post(`${redirecting.url}/`), 2_000);
    expect(result).toMatchObject({ ok: true, response: { status: 307 } });
    expect(elsewhere.hits).toBe(0);
  });

  it('an endless answer is cut at 64 KB, not read until the timeout', async () => {
    const endless = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(16 * 1024, 'a');
      const timer = setInterval(() => res.write(chunk), 1);
      res.on('close', () => clearInterval(timer));
    });
    // A generous timeout: a client that kept reading would still be at it when the test times out.
    const result = await sendHttp(post(`${endless.url}/`), 120_000);
    expect(result).toMatchObject({ ok: false, outcome: { code: 'PROVIDER_ANSWER_TOO_LARGE', kind: 'ambiguous', providerCode: '200' } });
  });

  it('an oversized error answer is a provider error (retried), and its stored text is short', async () => {
    const big = await startServer((_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('x'.repeat(MAX_ANSWER_BYTES + 1));
    });
    const result = await sendHttp(post(`${big.url}/`), 5_000);
    expect(result).toMatchObject({ ok: false, outcome: { code: 'PROVIDER_UNDOCUMENTED_RESPONSE', kind: 'retry', providerCode: '500' } });
    if (result.ok) throw new Error('expected a refusal');
    expect(result.outcome.providerText?.length ?? 0).toBeLessThanOrEqual(500);
  });

  it('an answer of exactly 64 KB is read whole', async () => {
    const body = 'y'.repeat(MAX_ANSWER_BYTES);
    const fits = await startServer((_req, res) => res.end(body));
    const result = await sendHttp(post(`${fits.url}/`), 5_000);
    expect(result.ok && result.response.body.length).toBe(MAX_ANSWER_BYTES);
  });
});
