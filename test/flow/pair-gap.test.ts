/**
 * The pair gap across processes: each "process" is its own ioredis connection and its own
 * PairGap, sharing one Redis. Gaps in the racing tests are long (a minute), so no result
 * depends on how fast the calls ran; the one expiry test only waits at least the gap.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { PairGap, type PairReservation } from '../../src/flow/pair-gap.js';
import { redisKeys } from '../../src/redis-keys.js';
import { sleep, twoProcessRedis } from './two-processes.js';

const { prefix, connections, both } = twoProcessRedis();
// Every process derives the same hash key from its environment: both "processes" share one here.
const HASH_KEY = Buffer.alloc(32, 7);
const [a, b] = both((redis, keyPrefix) => new PairGap(redis, keyPrefix, HASH_KEY));
const GAP = 60_000;

const waitOf = (r: PairReservation | undefined) => (r && !r.ok ? r.waitMs : undefined);

it('two connections racing for one phone: exactly one reserves it, the rest wait at most the gap', async () => {
  const account = randomUUID();
  const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).reserve(account, '+56911111111', GAP)));
  expect(results.filter((r) => r.ok)).toHaveLength(1);
  for (const r of results.filter((r) => !r.ok)) {
    expect(waitOf(r)).toBeGreaterThan(0);
    expect(waitOf(r)).toBeLessThanOrEqual(GAP);
  }
});

it('batches racing on two connections never reserve a phone twice', async () => {
  const account = randomUUID();
  const phones = Array.from({ length: 300 }, (_, i) => `+5691${String(i).padStart(7, '0')}`);
  const [fromA, fromB] = await Promise.all([a.reserveMany(account, phones, GAP), b.reserveMany(account, [...phones].reverse(), GAP)]);
  for (const phone of phones) {
    const won = [fromA.get(phone)?.ok, fromB.get(phone)?.ok].filter(Boolean);
    expect(won, phone).toHaveLength(1);
  }
});

it('reserveMany gives mixed results in one call, and a phone listed twice once', async () => {
  const account = randomUUID();
  expect(await a.reserve(account, '+56922222222', GAP)).toEqual({ ok: true });
  const results = await b.reserveMany(account, ['+56922222222', '+56933333333', '+56933333333', '+56944444444'], GAP);
  expect([...results.keys()]).toEqual(['+56922222222', '+56933333333', '+56944444444']);
  expect(results.get('+56933333333')).toEqual({ ok: true });
  expect(results.get('+56944444444')).toEqual({ ok: true });
  const wait = waitOf(results.get('+56922222222'));
  expect(wait).toBeGreaterThan(0);
  expect(wait).toBeLessThanOrEqual(GAP);
  expect(await a.reserve(account, '+56944444444', GAP)).toMatchObject({ ok: false });
});

it('the gap is per account', async () => {
  const phone = '+56955555555';
  expect(await a.reserve(randomUUID(), phone, GAP)).toEqual({ ok: true });
  expect(await b.reserve(randomUUID(), phone, GAP)).toEqual({ ok: true });
});

it('the phone is free again once the gap has passed', async () => {
  const account = randomUUID();
  expect(await a.reserve(account, '+56966666666', 30)).toEqual({ ok: true });
  await sleep(50);
  expect(await b.reserve(account, '+56966666666', 30)).toEqual({ ok: true });
});

it('release frees only the releasing process’s own reservation', async () => {
  const account = randomUUID();
  const phone = '+56977777777';
  expect(await a.reserve(account, phone, GAP)).toEqual({ ok: true });
  await b.release(account, phone); // not b's reservation
  expect(await b.reserve(account, phone, GAP)).toMatchObject({ ok: false });
  await a.release(account, phone);
  expect(await b.reserve(account, phone, GAP)).toEqual({ ok: true });
});

it('gapMs 0 always allows, without a round trip to Redis', async () => {
  // A client that never connects and refuses to queue: any command would reject.
  const offline = connections[0].duplicate({ lazyConnect: true, enableOfflineQueue: false });
  const gap = new PairGap(offline, prefix, HASH_KEY);
  const account = randomUUID();
  await expect(gap.reserve(account, '+56988888888', GAP)).rejects.toThrow();
  expect(await gap.reserve(account, '+56988888888', 0)).toEqual({ ok: true });
  expect(await gap.reserve(account, '+56988888888', 0)).toEqual({ ok: true });
  expect([...(await gap.reserveMany(account, ['+56988888888', '+56999999999'], 0)).values()]).toEqual([{ ok: true }, { ok: true }]);
  offline.disconnect();
});

it('Redis keys carry a keyed hash of the phone, never the phone itself (nor its digits)', async () => {
  const account = randomUUID();
  const phone = '+56912345678';
  expect(await a.reserve(account, phone, GAP)).toEqual({ ok: true });
  const keys = await connections[0].keys(redisKeys.pairGap(prefix, account, '*'));
  expect(keys).toHaveLength(1);
  expect(keys[0]).not.toContain('56912345678');
  expect(keys[0]).not.toContain('12345678');
  // Keyed: another key names the same phone differently, so the name cannot be looked up in a table of phone hashes.
  const other = new PairGap(connections[0], prefix, Buffer.alloc(32, 9));
  expect(await other.reserve(account, phone, GAP)).toEqual({ ok: true });
  expect(await connections[0].keys(redisKeys.pairGap(prefix, account, '*'))).toHaveLength(2);
});
