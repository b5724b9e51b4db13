/**
 * verifyMetaSignature: Meta's X-Hub-Signature-256 over the raw body, checked in constant time;
 * every malformed or missing header is false, never an exception.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { verifyMetaSignature } from '../../src/providers/meta/signature.js';
import { META_STATUS_SENT, META_TEXT_REPLY } from './payloads.js';

const APP_SECRET = 'c0ffee5ecret4webhooks';

function sign(body: string | Buffer, secret = APP_SECRET): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

describe('verifyMetaSignature', () => {
  it('accepts the signature of the raw body, as a string or as bytes', () => {
    expect(verifyMetaSignature(META_STATUS_SENT, sign(META_STATUS_SENT), APP_SECRET)).toBe(true);
    expect(verifyMetaSignature(Buffer.from(META_TEXT_REPLY), sign(META_TEXT_REPLY), APP_SECRET)).toBe(true);
  });

  it('signs bytes, not characters: a non-ASCII body verifies as UTF-8', () => {
    const body = '{"text":"¿hasta cuándo? 🙏"}';
    expect(verifyMetaSignature(Buffer.from(body, 'utf8'), sign(Buffer.from(body, 'utf8')), APP_SECRET)).toBe(true);
    expect(verifyMetaSignature(body, sign(body), APP_SECRET)).toBe(true);
  });

  it('accepts upper-case hex and surrounding whitespace in the header', () => {
    const header = sign(META_STATUS_SENT);
    expect(verifyMetaSignature(META_STATUS_SENT, `  sha256=${header.slice(7).toUpperCase()} `, APP_SECRET)).toBe(true);
  });

  it('rejects a body changed after signing (even re-serialized JSON)', () => {
    const header = sign(META_STATUS_SENT);
    expect(verifyMetaSignature(`${META_STATUS_SENT} `, header, APP_SECRET)).toBe(false);
    expect(verifyMetaSignature(JSON.stringify(JSON.parse(META_STATUS_SENT), null, 2), header, APP_SECRET)).toBe(false);
  });

  it('rejects a signature made with another secret', () => {
    expect(verifyMetaSignature(META_STATUS_SENT, sign(META_STATUS_SENT, 'another-secret'), APP_SECRET)).toBe(false);
  });

  it('is false for an empty app secret, even with a matching signature', () => {
    expect(verifyMetaSignature(META_STATUS_SENT, sign(META_STATUS_SENT, ''), '')).toBe(false);
  });

  const valid = sign(META_STATUS_SENT);
  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['no prefix', valid.slice(7)],
    ['sha1', `sha1=${createHmac('sha1', APP_SECRET).update(META_STATUS_SENT).digest('hex')}`],
    ['too short', valid.slice(0, -2)],
    ['too long', `${valid}00`],
    ['not hex', `${valid.slice(0, -1)}z`],
    ['base64', `sha256=${createHmac('sha256', APP_SECRET).update(META_STATUS_SENT).digest('base64')}`],
    ['two signatures', `${valid},${valid}`],
  ])('header %s: false, no exception', (_name, header) => {
    expect(verifyMetaSignature(META_STATUS_SENT, header, APP_SECRET)).toBe(false);
  });
});
