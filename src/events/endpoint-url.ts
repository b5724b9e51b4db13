/**
 * Which URLs the engine will POST a tenant's events to. The one place this is decided (a
 * shared outbound guard can replace it). By default only https to a public host name or
 * address: a tenant must not make the engine call into its own network (the database, a cloud
 * metadata service). An operator running receivers on a private network, or tests, allow
 * private and plain-http hosts with EVENTS_ALLOW_PRIVATE_URLS.
 */
import { isIP } from 'node:net';

export function endpointUrlProblem(raw: string, allowPrivate: boolean): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'is not a valid absolute URL';
  }
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:')) return allowPrivate ? 'must use http or https' : 'must use https';
  if (url.username || url.password) return 'must not carry a user name or password; the signature authenticates the engine';
  if (allowPrivate) return null;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local') || host.endsWith('.internal')) return 'must be a public host';
  if (isIP(host) && isPrivateAddress(host)) return 'must be a public address';
  return null;
}

function isPrivateAddress(ip: string): boolean {
  if (isIP(ip) === 4) {
    const [a = 0, b = 0] = ip.split('.').map(Number);
    return a === 0 || a === 10 || a === 127 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127);
  }
  const v6 = ip.toLowerCase();
  if (v6.startsWith('::ffff:')) {
    // IPv4-mapped; the URL parser writes it in hex (::ffff:a00:1 is 10.0.0.1).
    const rest = v6.slice(7);
    if (rest.includes('.')) return isPrivateAddress(rest);
    const [high = 0, low = 0] = rest.split(':').map((group) => parseInt(group, 16));
    return isPrivateAddress([high >> 8, high & 255, low >> 8, low & 255].join('.'));
  }
  return v6 === '::' || v6 === '::1' || v6.startsWith('fc') || v6.startsWith('fd') || v6.startsWith('fe80');
}
