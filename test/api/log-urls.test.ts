/** Request URLs as the logs show them (src/logger.ts maskUrl): phones masked, ids and other values kept. */
import { describe, expect, it } from 'vitest';
import { maskUrl } from '../../src/logger.js';

describe('maskUrl', () => {
  it.each([
    ['/v1/suppressions/%2B56987654321', '/v1/suppressions/%2B*******4321'],
    ['/v1/suppressions/56987654321?defaultCountry=CL', '/v1/suppressions/*******4321?defaultCountry=CL'],
    ['/v1/suppressions?cursor=%2B56987654321&limit=2', '/v1/suppressions?cursor=%2B*******4321&limit=2'],
    ['/v1/suppressions?phone=+56987654321', '/v1/suppressions?phone=*******4321'],
    ['/v1/other?to=%2B56987654321', '/v1/other?to=%2B*******4321'],
    ['/webhooks/7d0c3a52-5f4e-4b0e-9a53-0d6f0a4b9e21/s3cr3t?hub.verify_token=tok', '/webhooks/7d0c3a52-5f4e-4b0e-9a53-0d6f0a4b9e21/***?hub.verify_token=***'],
  ])('%s', (url, logged) => {
    expect(maskUrl(url)).toBe(logged);
  });

  it('keeps ids, plain numbers and the routes under /v1/suppressions that are not phones', () => {
    for (const url of ['/v1/campaigns/7d0c3a52-5f4e-4b0e-9a53-0d6f0a4b9e21/recipients/1234567/history?after=99887766', '/v1/suppressions/export.csv', '/v1/suppressions/import?detail=x']) {
      expect(maskUrl(url)).toBe(url);
    }
  });
});
