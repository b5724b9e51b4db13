/**
 * npm run bench:bullmq — two behaviours of BullMQ itself that the engine is built around, with
 * plain BullMQ and none of the engine, so they can be measured again after a BullMQ upgrade.
 *
 * 1. A concurrency raise (src/queue/in-flight.ts, `concurrencyFor`): a Worker at 75, jobs of
 *    BENCH_BULLMQ_JOB_MS (200) ms on average (0.5-1.5x), raised to BENCH_BULLMQ_RAISE_TO (800) after a second. Shown:
 *    the longest time without a job start from the raise on, the fewest jobs in flight then, and
 *    how long until the new room was full. Baseline in the same run: the same Worker left at 75,
 *    over the same stretch.
 * 2. A bulk add (src/queue/send-jobs.ts, ADD_CHUNK): BENCH_BULLMQ_ADDS (5,000) jobs added in
 *    bulks of 1,000 and of ADD_CHUNK, while another connection sends PINGs one after another.
 *    Shown: the PINGs' p50/p99/max while the jobs are added, and how long the adds took. Baseline
 *    in the same run: the PINGs with nothing else going on.
 */
import { Queue, Worker } from 'bullmq';
import { ADD_CHUNK } from '../src/queue/send-jobs.js';
import { redisConnection } from '../src/redis-client.js';
import { deleteKeys, ratio, report, REDIS_URL } from './support.js';

const JOB_MS = Number(process.env.BENCH_BULLMQ_JOB_MS ?? 200);
const START_AT = 75;
const RAISE_TO = Number(process.env.BENCH_BULLMQ_RAISE_TO ?? 800);
const ADDS = Number(process.env.BENCH_BULLMQ_ADDS ?? 5_000);
/** How long each raise run watches after the raise (or where it would be), ms. */
const WATCH_MS = Number(process.env.BENCH_BULLMQ_WATCH_MS ?? 1_500);
const PREFIX = `bench-bullmq-${process.pid}`;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
}

type RaiseRun = { longestGapMs: number; fewestInFlight: number; fullAfterMs: number | null };

/** One Worker at START_AT for a second, then raised to `raiseTo` (or left as it is), watched for WATCH_MS. */
async function raiseRun(name: string, raiseTo: number | null): Promise<RaiseRun> {
  const connection = redisConnection(REDIS_URL);
  const queue = new Queue(name, { connection, prefix: PREFIX });
  const jobs = Array.from({ length: Math.ceil(((1_000 + WATCH_MS) / JOB_MS) * Math.max(START_AT, raiseTo ?? 0)) + 1_000 }, (_, i) => ({ name: 'job', data: { i }, opts: { removeOnComplete: true } }));
  for (let i = 0; i < jobs.length; i += ADD_CHUNK) await queue.addBulk(jobs.slice(i, i + ADD_CHUNK));
  const starts: number[] = [];
  const inFlightSeen: { at: number; n: number }[] = [];
  let inFlight = 0;
  const worker = new Worker(
    name,
    async () => {
      inFlight += 1;
      const at = performance.now();
      starts.push(at);
      inFlightSeen.push({ at, n: inFlight });
      // Spread around JOB_MS (as a provider's latency is), so the jobs do not move in lockstep waves.
      await sleep(JOB_MS * (0.5 + Math.random()));
      inFlight -= 1;
      inFlightSeen.push({ at: performance.now(), n: inFlight });
    },
    { connection: redisConnection(REDIS_URL), prefix: PREFIX, concurrency: START_AT },
  );
  // A second at START_AT, so the raise comes to a worker in its steady state.
  await sleep(1_000);
  const raisedAt = performance.now();
  if (raiseTo !== null) worker.concurrency = raiseTo;
  await sleep(WATCH_MS);
  const until = raisedAt + WATCH_MS;
  await worker.close(true);
  await queue.obliterate({ force: true }).catch(() => undefined);
  await queue.close();
  connection.disconnect();

  const watched = [raisedAt, ...starts.filter((t) => t >= raisedAt && t <= until), until];
  let longestGapMs = 0;
  for (let i = 1; i < watched.length; i += 1) longestGapMs = Math.max(longestGapMs, (watched[i] ?? 0) - (watched[i - 1] ?? 0));
  const during = inFlightSeen.filter((s) => s.at >= raisedAt && s.at <= until);
  const fewestInFlight = Math.min(...during.map((s) => s.n), START_AT);
  const full = raiseTo === null ? undefined : during.find((s) => s.n >= raiseTo);
  return { longestGapMs, fewestInFlight, fullAfterMs: full ? full.at - raisedAt : null };
}

type PingRun = { p50: number; p99: number; max: number; addsMs: number | null };

/** PINGs one after another on a connection of their own while `work` runs (or for `idleMs`). */
async function pingsDuring(work: (() => Promise<void>) | null, idleMs: number): Promise<PingRun> {
  const pinger = redisConnection(REDIS_URL);
  await pinger.ping();
  const latencies: number[] = [];
  let done = false;
  const pinging = (async () => {
    while (!done) {
      const sent = performance.now();
      await pinger.ping();
      latencies.push(performance.now() - sent);
    }
  })();
  const started = performance.now();
  if (work) await work();
  else await sleep(idleMs);
  const addsMs = work ? performance.now() - started : null;
  done = true;
  await pinging;
  pinger.disconnect();
  const sorted = latencies.sort((a, b) => a - b);
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted[sorted.length - 1] ?? 0, addsMs };
}

async function addInBulks(name: string, bulk: number): Promise<() => Promise<void>> {
  const connection = redisConnection(REDIS_URL);
  const queue = new Queue(name, { connection, prefix: PREFIX });
  await queue.waitUntilReady();
  return async () => {
    const jobs = Array.from({ length: ADDS }, (_, i) => ({ name: 'job', data: { recipientId: String(i), campaignId: 'bench' }, opts: { jobId: `${bulk}-${i}` } }));
    for (let i = 0; i < jobs.length; i += bulk) await queue.addBulk(jobs.slice(i, i + bulk));
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    connection.disconnect();
  };
}

const steady = await raiseRun('steady', null);
const raised = await raiseRun('raised', RAISE_TO);
const idle = await pingsDuring(null, 1_000);
const former = await pingsDuring(await addInBulks('bulk-1000', 1_000), 0);
const current = await pingsDuring(await addInBulks(`bulk-${ADD_CHUNK}`, ADD_CHUNK), 0);
await deleteKeys(PREFIX);

const ms = (v: number): string => `${v.toFixed(1)} ms`;
const pings = (r: PingRun): string => `${ms(r.p50)} / ${ms(r.p99)} / ${ms(r.max)}`;
report({
  name: 'bullmq',
  title: `bench:bullmq — plain BullMQ: a Worker's concurrency raised from ${START_AT} to ${RAISE_TO} (jobs of ${JOB_MS / 2}-${(JOB_MS * 3) / 2} ms), and a PING's wait while ${ADDS.toLocaleString('en')} jobs are added in bulks`,
  about:
    `Two behaviours of BullMQ the engine is built around, with none of the engine. A raise: one Worker at concurrency ${START_AT}, jobs of ${JOB_MS / 2}-${(JOB_MS * 3) / 2} ms, set to ${RAISE_TO} after a second and watched for ${WATCH_MS} ms; ` +
    `BullMQ fetches the room a raise makes one job per round trip and starts no job until it has them all, not even the next jobs of those that finish, so the engine raises rarely (src/queue/in-flight.ts). Its baseline: the same Worker left at ${START_AT} over the same stretch. ` +
    `A bulk add: PINGs one after another on a connection of their own while ${ADDS} jobs are added in bulks of 1,000 (the feeder's former size) and of ${ADD_CHUNK} (ADD_CHUNK, src/queue/send-jobs.ts); a bulk is one MULTI, which every other Redis client waits behind. Its baseline: the same PINGs with nothing else going on.`,
  rows: [
    ['measure', 'run', 'figure', 'baseline in the same run', 'vs the baseline'],
    ['longest time without a job start, from the raise on', `raised to ${RAISE_TO}`, ms(raised.longestGapMs), `${ms(steady.longestGapMs)} (left at ${START_AT})`, ratio(raised.longestGapMs, steady.longestGapMs)],
    ['fewest jobs in flight, from the raise on', `raised to ${RAISE_TO}`, raised.fewestInFlight, `${steady.fewestInFlight} (left at ${START_AT})`, '-'],
    [`time until ${RAISE_TO} in flight`, `raised to ${RAISE_TO}`, raised.fullAfterMs === null ? `not within ${WATCH_MS} ms` : ms(raised.fullAfterMs), '-', '-'],
    ['PING p50 / p99 / max', `${ADDS} jobs added in bulks of 1,000`, pings(former), `${pings(idle)} (nothing added)`, `${ratio(former.max, idle.max)} (max)`],
    ['PING p50 / p99 / max', `${ADDS} jobs added in bulks of ${ADD_CHUNK}`, pings(current), `${pings(idle)} (nothing added)`, `${ratio(current.max, idle.max)} (max)`],
    ['time to add the jobs', `bulks of 1,000 / of ${ADD_CHUNK}`, `${ms(former.addsMs ?? 0)} / ${ms(current.addsMs ?? 0)}`, '-', '-'],
  ],
});
process.exit(0);
