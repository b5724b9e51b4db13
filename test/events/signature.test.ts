/** The signature receivers check, and the retry backoff. (Endpoint URLs: test/events/endpoint-guard.test.ts.) */
import { describe, expect, it } from 'vitest';
import { retryDelayMs } from '../../src/events/delivery-loop.js';
import { signPayload, verifySignature } from '../../src/events/signature.js';

const SECRET = 'whsec_test';
const BODY = '{"id":"e1","type":"campaign.completed"}';

describe('event signatures', () => {
  const now = 1_800_000_000;
  const signature = signPayload(SECRET, now, BODY);

  it('verifies HMAC-SHA256 over timestamp and body', () => {
    expect(signature).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(verifySignature(SECRET, { signature, timestamp: String(now) }, BODY, { nowSeconds: now + 10 })).toEqual({ ok: true });
  });

  it('refuses a changed body, another secret, another timestamp', () => {
    expect(verifySignature(SECRET, { signature, timestamp: String(now) }, BODY.replace('e1', 'e2'), { nowSeconds: now })).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifySignature('whsec_other', { signature, timestamp: String(now) }, BODY, { nowSeconds: now })).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifySignature(SECRET, { signature, timestamp: String(now + 1) }, BODY, { nowSeconds: now })).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifySignature(SECRET, { signature: undefined, timestamp: String(now) }, BODY)).toEqual({ ok: false, reason: 'missing_headers' });
  });

  it('refuses a replay outside the window (5 minutes by default)', () => {
    expect(verifySignature(SECRET, { signature, timestamp: String(now) }, BODY, { nowSeconds: now + 300 })).toEqual({ ok: true });
    expect(verifySignature(SECRET, { signature, timestamp: String(now) }, BODY, { nowSeconds: now + 301 })).toEqual({ ok: false, reason: 'stale_timestamp' });
  });
});

describe('retry backoff', () => {
  it('doubles from the base up to the cap, with at most half of it random', () => {
    for (let attempt = 1; attempt <= 30; attempt += 1) {
      const full = Math.min(3_600_000, 10_000 * 2 ** (attempt - 1));
      const delay = retryDelayMs(attempt, 10_000, 3_600_000);
      expect(delay).toBeGreaterThanOrEqual(full / 2);
      expect(delay).toBeLessThanOrEqual(full);
    }
  });
});
