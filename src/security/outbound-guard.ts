/**
 * Where the engine may send HTTP that a tenant points it at: provider accounts (`baseUrl`) and
 * outbound event endpoints (src/events/). Without this any tenant could make the engine call its
 * own network (loopback, Redis, the cloud metadata service at 169.254.169.254) and read the
 * answer back in an error text or a delivery log (SSRF).
 *
 * Rules, unless the operator allows private hosts (PROVIDER_ALLOW_PRIVATE_HOSTS, for
 * on-premise providers, tests and the demo):
 * - https only (no http, file, gopher...), and no user:password@ in the URL;
 * - the host must resolve only to public addresses: loopback, private, link-local, CGNAT,
 *   multicast, unspecified, documentation, benchmarking and other reserved ranges are
 *   refused, for IPv4 and IPv6 (IPv4-mapped, NAT64 and 6to4 forms by the IPv4 inside).
 *
 * The address is checked when the connection is made, on the address actually dialled (a
 * lookup hook in the HTTP client's connector), so a name that resolves to a public address when
 * the account is created and to 127.0.0.1 later (DNS rebinding) is still refused. The check
 * when an account or an endpoint is saved (`outboundHostProblem`) only gives an early, clear
 * answer. Redirects are never followed, and answers are read only up to a cap (`readCapped`).
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { buildConnector, type Dispatcher } from 'undici';

export type OutboundPolicy = Readonly<{ allowPrivateHosts: boolean }>;

/** A connection the guard would not open. Its `code` is what classifies it (never sent; the URL's owner at fault). */
export class OutboundRefusedError extends Error {
  override name = 'OutboundRefusedError';
  constructor(
    message: string,
    readonly code: string = 'PROVIDER_ADDRESS_REFUSED',
  ) {
    super(message);
  }
}

/** Who the connections are for, in refusal messages and codes: provider HTTP by default. */
export type GuardSubject = { label: string; refusedCode: string };
const PROVIDER_SUBJECT: GuardSubject = { label: 'provider', refusedCode: 'PROVIDER_ADDRESS_REFUSED' };

/** True when an IPv4 or IPv6 address is publicly routable (not loopback, private, reserved...). */
export function isPublicAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 4) return isPublicV4(v4Octets(bare));
  if (family === 6) return isPublicV6(v6Hextets(bare));
  return false;
}

/** [a, b, c, d] of a dotted IPv4 address. */
function v4Octets(address: string): number[] {
  return address.split('.').map(Number);
}

function isPublicV4([a = 0, b = 0, c = 0]: number[]): boolean {
  if (a === 0 || a === 10 || a === 127) return false; // "this network", private, loopback
  if (a === 100 && b >= 64 && b <= 127) return false; // CGNAT 100.64/10
  if (a === 169 && b === 254) return false; // link-local, cloud metadata
  if (a === 172 && b >= 16 && b <= 31) return false; // private
  if (a === 192 && b === 168) return false; // private
  if (a === 192 && b === 0 && (c === 0 || c === 2)) return false; // IETF assignments, TEST-NET-1
  if (a === 192 && b === 88 && c === 99) return false; // 6to4 relay anycast
  if (a === 198 && (b === 18 || b === 19)) return false; // benchmarking
  if (a === 198 && b === 51 && c === 100) return false; // TEST-NET-2
  if (a === 203 && b === 0 && c === 113) return false; // TEST-NET-3
  if (a >= 224) return false; // multicast 224/4, reserved 240/4, broadcast
  return true;
}

/** The eight 16-bit groups of an IPv6 address (a trailing dotted IPv4 part becomes two). */
function v6Hextets(address: string): number[] {
  let text = address.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const [a = 0, b = 0, c = 0, d = 0] = v4Octets(dotted[1]);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const middle = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...middle, ...right].map((h) => parseInt(h, 16));
}

function isPublicV6(h: number[]): boolean {
  const [h0 = 0, h1 = 0, h2 = 0, h3 = 0, h4 = 0, h5 = 0, h6 = 0, h7 = 0] = h;
  const embeddedV4 = [h6 >> 8, h6 & 0xff, h7 >> 8, h7 & 0xff];
  if (h0 === 0 && h1 === 0 && h2 === 0 && h3 === 0 && h4 === 0 && (h5 === 0xffff || h5 === 0)) {
    // ::ffff:a.b.c.d (IPv4-mapped) is the IPv4 address itself; ::a.b.c.d, ::1 and :: are not public.
    return h5 === 0xffff && isPublicV4(embeddedV4);
  }
  if (h0 === 0x64 && h1 === 0xff9b) return h2 === 0 && h3 === 0 && h4 === 0 && h5 === 0 && isPublicV4(embeddedV4); // NAT64
  if (h0 === 0x2002) return isPublicV4([h1 >> 8, h1 & 0xff, h2 >> 8, h2 & 0xff]); // 6to4
  if ((h0 & 0xe000) !== 0x2000) return false; // outside global unicast 2000::/3: ULA, link-local, multicast...
  if (h0 === 0x2001 && h1 < 0x200) return false; // IETF protocol assignments, Teredo
  if (h0 === 0x2001 && h1 === 0xdb8) return false; // documentation
  if ((h0 & 0xfff0) === 0x3ff0) return false; // documentation 3fff::/20
  return true;
}

/**
 * Why this URL is refused, or null when it may be used. Checks what can be known without DNS:
 * the scheme, credentials in the URL, and a host that is an address or localhost.
 */
export function outboundUrlProblem(url: string, policy: OutboundPolicy): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a valid URL';
  }
  if (parsed.protocol !== 'https:' && !(policy.allowPrivateHosts && parsed.protocol === 'http:')) return 'must be an https:// URL';
  if (parsed.username || parsed.password) return 'must not carry a user name or password';
  if (policy.allowPrivateHosts) return null;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) return isPublicAddress(host) ? null : 'points at a private, loopback or reserved address';
  if (host === 'localhost' || host.endsWith('.localhost') || !host.includes('.')) return 'points at a local host name';
  return null;
}

/**
 * outboundUrlProblem, plus a DNS lookup: a name that resolves to a non-public address now is
 * refused now. A name that does not resolve is left to the connect-time check (the host's DNS
 * may be down, or only reachable from the workers).
 */
export async function outboundHostProblem(url: string, policy: OutboundPolicy, lookup: typeof dnsLookup = dnsLookup): Promise<string | null> {
  const problem = outboundUrlProblem(url, policy);
  if (problem || policy.allowPrivateHosts) return problem;
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) return null;
  const addresses = await new Promise<LookupAddress[]>((resolve) => {
    const timer = setTimeout(() => resolve([]), 2_000);
    lookup(host, { all: true }, (error, found) => {
      clearTimeout(timer);
      resolve(error ? [] : found);
    });
  });
  return addresses.some((a) => !isPublicAddress(a.address)) ? 'resolves to a private, loopback or reserved address' : null;
}

/**
 * A DNS lookup for the HTTP client that fails when any address of the name is not public:
 * the socket then never opens. Every address is checked (not only the first), so a name with
 * one public and one private address cannot be raced onto the private one.
 */
export function guardedLookup(lookup: typeof dnsLookup = dnsLookup, subject: GuardSubject = PROVIDER_SUBJECT): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const refused = addresses.find((a) => !isPublicAddress(a.address));
      if (refused || addresses.length === 0) {
        return callback(new OutboundRefusedError(`The ${subject.label} host ${hostname} resolves to a private, loopback or reserved address; refused.`, subject.refusedCode), '', 0);
      }
      if (options.all) return callback(null, addresses);
      const [first] = addresses as [LookupAddress];
      return callback(null, first.address, first.family);
    });
  };
}

/**
 * The connector every guarded connection goes through. Refuses plain http and non-public
 * addresses (an address literal is checked here; a name, in its lookup) unless the policy
 * allows private hosts.
 */
export function guardedConnector(policy: OutboundPolicy, options: { timeoutMs: number; lookup?: typeof dnsLookup; subject?: GuardSubject }): buildConnector.connector {
  if (policy.allowPrivateHosts) return buildConnector({ timeout: options.timeoutMs });
  const subject = options.subject ?? PROVIDER_SUBJECT;
  const connect = buildConnector({ timeout: options.timeoutMs, lookup: guardedLookup(options.lookup, subject) });
  return (target, callback) => {
    const host = target.hostname.replace(/^\[|\]$/g, '');
    const refuse = (message: string) => callback(new OutboundRefusedError(message, subject.refusedCode), null);
    if (target.protocol !== 'https:') return refuse(`${subject.label[0]?.toUpperCase() ?? ''}${subject.label.slice(1)} URLs must use https; ${target.protocol} refused.`);
    if (isIP(host) && !isPublicAddress(host)) return refuse(`The ${subject.label} address ${host} is private, loopback or reserved; refused.`);
    return connect(target, callback);
  };
}

/** An answer's body as text, or null once it passes `limit` bytes (the rest is not read; the connection is dropped). */
export async function readCapped(body: Dispatcher.ResponseData['body'], limit: number): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      return null;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
