/**
 * API key lookups, cached so a request with a known key costs no database query and, in an API
 * process, no round trip at all; revocations reach every API process at once. The keys
 * themselves (shape, hash, lifecycle) are ./api-keys.ts's.
 */
import type { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import type { Db } from '../db/database.js';
import { errors } from '../errors.js';
import type { ApiKey, ApiKeyScope } from '../generated/prisma/client.js';
import { isCluster, type RedisClient } from '../redis-client.js';
import { redisKeys } from '../redis-keys.js';

/** A key as the auth check needs it. */
export type ResolvedKey = { id: string; tenantId: string; scope: ApiKeyScope; expiresAt: number | null; revoked: boolean };

export function resolvedOf(row: Pick<ApiKey, 'id' | 'tenantId' | 'scope' | 'expiresAt' | 'revokedAt'>): ResolvedKey {
  return { id: row.id, tenantId: row.tenantId, scope: row.scope, expiresAt: row.expiresAt?.getTime() ?? null, revoked: row.revokedAt !== null };
}


/** How long an API process keeps a key in memory at most (ms): revocations reach it at once; this bounds a change made behind the API's back (a direct database edit) together with the Redis entry's TTL. */
const LOCAL_TTL_MS = 10_000;
/** Keys kept in one process's memory at most; past it the memory starts over. */
const LOCAL_MAX_KEYS = 10_000;
/**
 * How long a process trusts its memory after the last round trip on its subscription (ms), and
 * how often it makes one. A revocation is delivered on that same connection before any later
 * answer, so an answer to a ping sent after a revocation means the revocation was heard.
 */
const TRUST_MS = 1_000;
const PING_EVERY_MS = 200;
/** How long a revocation waits for every listening API process to drop the key (ms); longer than TRUST_MS, so one that never answered has stopped trusting its memory by then. */
const DROP_WAIT_MS = 2 * TRUST_MS;

/**
 * Key lookups, found or not, so neither a busy key nor a key that does not exist costs a database
 * query per request.
 *
 * Two layers:
 * - Redis, shared (`ttlSeconds`). Loads write with NX and revocations overwrite, so a load racing
 *   a revocation can never put the key back.
 * - Each API process's memory, once it `listen`s: a request with a known key then costs no round
 *   trip at all. An entry lives LOCAL_TTL_MS; past half of it, a request still gets it at once
 *   and it is read again from Redis in the background. A revocation (`put`) publishes the key's hash; every listening process drops its
 *   copy and says so, and `put` returns once all have, so the next request to any process is
 *   refused.
 *
 * A process trusts its memory only while it is surely hearing revocations: subscribed, and with
 * an answer on the subscription to a ping sent less than TRUST_MS ago (the revocation comes
 * before that answer on the same connection). A process that stalls (a blocked event loop) or
 * loses the connection reads Redis instead until it hears again, and forgets what it kept when
 * the connection drops. A revocation waits at most DROP_WAIT_MS for the drops, longer than
 * TRUST_MS: a process that did not answer by then no longer trusts what it kept. A load that a
 * revocation overtook is not kept.
 */
export class ApiKeyCache {
  private readonly local = new Map<string, { resolved: ResolvedKey | null; until: number }>();
  /** Keys being read again in the background. */
  private readonly refreshing = new Set<string>();
  private subscriber: Redis | null = null;
  /** Subscribed to revocations. */
  private hearing = false;
  /** When the newest ping answered on the subscription was sent (performance.now()). */
  private heardAt = Number.NEGATIVE_INFINITY;
  private pinger: NodeJS.Timeout | null = null;
  /** listen() was called (and close() not since). */
  private starting = false;
  /** Bumped by every revocation heard and every lost subscription: a load that saw it change is not kept. */
  private generation = 0;

  private readonly trustMs: number;
  private readonly keepMs: number;

  constructor(
    private readonly redis: RedisClient,
    private readonly keyPrefix: string,
    private readonly ttlSeconds: number,
    /** Tests only: how long memory is trusted after a ping's answer, and how long an entry is kept (ms). */
    options: { trustMs?: number; keepMs?: number } = {},
  ) {
    this.trustMs = options.trustMs ?? TRUST_MS;
    this.keepMs = Math.min(options.keepMs ?? LOCAL_TTL_MS, ttlSeconds * 1000);
  }

  private key(hash: string): string {
    return redisKeys.apiKeyCache(this.keyPrefix, hash);
  }

  private get channel(): string {
    return redisKeys.apiKeyRevocations(this.keyPrefix);
  }

  /** The key with this hash, or null when none exists; this process's memory, then Redis, then Postgres. */
  async resolve(db: Db, hash: string): Promise<ResolvedKey | null> {
    const kept = this.trusted() ? this.local.get(hash) : undefined;
    const now = Date.now();
    if (kept && kept.until > now) {
      // Past half its time, it is read again in the background: a busy key never waits on Redis.
      if (kept.until - now < this.keepMs / 2 && !this.refreshing.has(hash)) {
        this.refreshing.add(hash);
        void this.fill(db, hash)
          .catch(() => undefined)
          .finally(() => this.refreshing.delete(hash));
      }
      return kept.resolved;
    }
    return this.fill(db, hash);
  }

  /** Loads the key and keeps it in memory, unless memory is not trusted or a revocation overtook the load. */
  private async fill(db: Db, hash: string): Promise<ResolvedKey | null> {
    const generation = this.generation;
    const loadedAt = Date.now();
    const resolved = await this.load(db, hash);
    if (this.trusted() && this.generation === generation) {
      if (this.local.size >= LOCAL_MAX_KEYS) this.local.clear();
      this.local.set(hash, { resolved, until: loadedAt + this.keepMs });
    }
    return resolved;
  }

  private trusted(): boolean {
    return this.hearing && performance.now() - this.heardAt < this.trustMs;
  }

  private async load(db: Db, hash: string): Promise<ResolvedKey | null> {
    const cached = await this.redis.get(this.key(hash)).catch(() => undefined);
    if (cached === '-') return null;
    if (cached) return JSON.parse(cached) as ResolvedKey;
    const row = await db.prisma.apiKey.findUnique({ where: { hash }, select: { id: true, tenantId: true, scope: true, expiresAt: true, revokedAt: true } });
    const resolved = row ? resolvedOf(row) : null;
    await this.redis.set(this.key(hash), resolved ? JSON.stringify(resolved) : '-', 'EX', this.ttlSeconds, 'NX').catch(() => undefined);
    return resolved;
  }

  /**
   * Overwrites the cached entry (revocation, new expiry) and has every listening API process drop
   * its copy. Fails loudly when Redis does not take it, since a stale entry would keep a revoked
   * key working.
   */
  async put(hash: string, resolved: ResolvedKey): Promise<void> {
    this.local.delete(hash);
    try {
      await this.redis.set(this.key(hash), JSON.stringify(resolved), 'EX', this.ttlSeconds);
      await this.announce(hash);
    } catch {
      throw errors.serviceUnavailable('Redis');
    }
  }

  /**
   * Publishes the hash and waits until every subscribed process has dropped it (each counts itself
   * on a key of this announcement). Subscribers are counted on every node first, since a cluster's
   * PUBLISH answers with its own node's count only.
   */
  private async announce(hash: string): Promise<void> {
    const nodes = isCluster(this.redis) ? this.redis.nodes('all') : [this.redis];
    const counts = await Promise.all(nodes.map((node) => node.pubsub('NUMSUB', this.channel) as Promise<[string, number]>));
    const listeners = counts.reduce((sum, answer) => sum + Number(answer[1] ?? 0), 0);
    if (listeners === 0) return;
    const ackKey = redisKeys.apiKeyRevocationAck(this.keyPrefix, randomBytes(8).toString('hex'));
    await this.redis.set(ackKey, '0', 'PX', DROP_WAIT_MS * 5);
    await this.redis.publish(this.channel, `${hash} ${ackKey}`);
    const until = Date.now() + DROP_WAIT_MS;
    while (Number(await this.redis.get(ackKey)) < listeners && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
  }

  /**
   * Keeps keys in this process's memory from now on, trusting it only while subscribed to
   * revocations (an API process calls it once; a command-line tool does not need it). Returns at
   * once: an API started while Redis is away must still come up (it reads Redis per request until
   * the subscription is made).
   */
  listen(): void {
    if (this.starting) return;
    this.starting = true;
    void this.start().catch(() => undefined);
  }

  private async start(): Promise<void> {
    const subscriber = await this.subscriberConnection();
    if (!subscriber || !this.starting) {
      subscriber?.disconnect();
      return;
    }
    this.subscriber = subscriber;
    const forget = (): void => {
      this.hearing = false;
      this.generation += 1;
      this.local.clear();
    };
    const subscribe = async (): Promise<void> => {
      try {
        await subscriber.subscribe(this.channel);
        // A load that began before the subscription may have read an entry revoked while
        // nothing was heard: it is not kept.
        this.generation += 1;
        this.hearing = true;
      } catch {
        forget();
      }
    };
    subscriber.on('message', (_channel: string, message: string) => {
      // `<hash> <ack key>`: a hash is hex, the key may hold anything after the first space.
      const space = message.indexOf(' ');
      const hash = space < 0 ? message : message.slice(0, space);
      this.generation += 1;
      this.local.delete(hash);
      if (space >= 0) void this.redis.incr(message.slice(space + 1)).catch(() => undefined);
    });
    subscriber.on('close', forget);
    subscriber.on('error', () => undefined);
    // After a reconnect: subscribe again, and only then trust memory again.
    subscriber.on('ready', () => {
      if (!this.hearing) void subscribe();
    });
    const ping = (): void => {
      const sentAt = performance.now();
      if (!this.hearing) return;
      subscriber.ping().then(
        () => {
          this.heardAt = Math.max(this.heardAt, sentAt);
        },
        () => undefined,
      );
    };
    this.pinger = setInterval(ping, PING_EVERY_MS);
    this.pinger.unref();
    await subscribe();
    ping();
  }

  /**
   * A plain connection of its own: the pings must travel on the very connection the revocations
   * come on. On a cluster, to one of its masters (a PUBLISH reaches every node); null when none
   * is known, and memory is then not used.
   */
  private async subscriberConnection(): Promise<Redis | null> {
    // Not ioredis's own resubscribe after a reconnect: its promise has no handler, so a close
    // while it is unanswered (an API shutting down while Redis comes back) would be an unhandled
    // rejection, which ends the process. The 'ready' handler in start() subscribes instead.
    const named = { connectionName: `${this.keyPrefix}:apikey-listener`, autoResubscribe: false };
    if (!isCluster(this.redis)) return this.redis.duplicate(named);
    await this.redis.ping().catch(() => undefined);
    // A cluster's own node connections never reconnect by themselves (the cluster does it for
    // them); this one must.
    return this.redis.nodes('master')[0]?.duplicate({ ...named, lazyConnect: false, retryStrategy: (times: number) => Math.min(100 * times, 2_000) }) ?? null;
  }

  /** Stops listening and forgets what it kept. */
  close(): void {
    const subscriber = this.subscriber;
    this.subscriber = null;
    this.starting = false;
    this.hearing = false;
    if (this.pinger) clearInterval(this.pinger);
    this.pinger = null;
    this.local.clear();
    // Not QUIT: with Redis away it would wait for Redis; a subscriber has nothing to flush.
    subscriber?.disconnect();
  }

  /** At most one last_used_at write per key per `everySeconds`, across processes. */
  async shouldTouch(id: string, everySeconds: number): Promise<boolean> {
    const set = await this.redis.set(redisKeys.apiKeyUsed(this.keyPrefix, id), '1', 'EX', everySeconds, 'NX').catch(() => null);
    return set === 'OK';
  }
}
