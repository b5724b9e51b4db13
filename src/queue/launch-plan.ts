/**
 * The launch planner (dry run): replays the feeder on a simulated clock to say when a campaign
 * will finish, hour by hour, what bounds it, how many recipients will be suppressed or expire
 * before their turn, and what it will cost. Pure: ./launch-plan-input.ts reads what it needs.
 *
 * Not a second model of the engine: every decision is the feeder's own function, called with
 * the simulated time instead of the clock (./feed-decisions.ts: queue window, top-up
 * room, steps, quiet-hours split, messaging-limit split; src/flow/budget-window.ts: the
 * messaging-limit reservation rule; ./account-rate-limiter.ts: the slot spacing).
 *
 * The replay: the feeder tops up the account's queue when a quarter of its window is free, by
 * taking due deferred recipients, then pending ones, in id order; each candidate outside its
 * local window is deferred to the opening, each over the messaging limit to the next free slot;
 * queued ones leave one slot apart. What is unsent at `expiresAt` expires. Assumed, and said in
 * `assumptions`: the campaign has the account to itself (other campaigns on it share the rate),
 * every send is accepted (no provider errors, retries or rate-limit answers), the workers keep up
 * with the rate, and suppressed phones fail at their claim (taking their messaging-limit slot, as
 * the feeder reserves it before the claim).
 *
 * Over 300 lines because the replay, its result and the small heap it needs are one piece: split,
 * the replay loop would have to hand its whole state across files.
 */
import { budgetWindowOf, reserveInWindow } from '../flow/budget-window.js';
import { formatClock } from '../flow/quiet-hours.js';
import type { BudgetEntry } from '../flow/daily-budget.js';
import { countryOfE164 } from '../phones/e164-parts.js';
import { slotIntervalMs } from './account-rate-limiter.js';
import { FEED_STEP, freeRoom, queueWindowSize, recipientTimeZone, sendWindowOf, splitByBudget, splitByWindow } from './feed-decisions.js';
import { priceOf, type MessagePrices } from '../campaigns/message-prices.js';

const DAY_MS = 86_400_000;

export type PlanRecipient = { id: string; phone: string; time_zone: string | null; notBefore: Date | null; queued: boolean; suppressed: boolean };

export type PlanInput = {
  now: Date;
  campaign: { startAt: Date | null; expiresAt: Date | null; windowStart: number | null; windowEnd: number | null; category: string | null };
  account: { ratePerSecond: number; messagingLimit: number | null; prices: MessagePrices | null };
  /** Open recipients (pending, deferred, queued, sending), any order. */
  recipients: readonly PlanRecipient[];
  /** The account's messaging-limit window as Redis (or Postgres) holds it now. */
  budget: readonly BudgetEntry[];
  /** Already settled: by status; and rows refused at upload. */
  settled: Record<string, number>;
  rejectedAtUpload: number;
  /** The feeder's settings (QUEUE_WINDOW_SECONDS, QUEUE_WINDOW_MAX_JOBS, FEEDER_INTERVAL_MS, RATE_JITTER_MS) and the plan's own. */
  options: { windowSeconds: number; maxJobs: number; jitterMs: number; feederIntervalMs?: number; budgetWindowMs?: number; bucketMinutes?: number; horizonDays?: number };
};

export type PlanBucket = { from: string; to: string; sends: number; cost: number | null };
export type LaunchPlan = {
  startsAt: string;
  finishesAt: string | null;
  openRecipients: number;
  outcomes: { willSend: number; suppressed: number; expire: number; rejectedAtUpload: number; beyondHorizon: number; settled: Record<string, number> };
  projection: PlanBucket[];
  bounds: {
    rate: { perSecond: number; effectivePerSecond: number };
    messagingLimit: { limit: number; usedNow: number; remainingNow: number; deferrals: number } | null;
    quietHours: { window: string; deferrals: number; zones: { zone: string; recipients: number }[] } | null;
    schedule: { startAt: string | null; expiresAt: string | null };
    /** What held the campaign back, most binding first: rate, messaging_limit, quiet_hours, start_at, expiry. */
    binding: string[];
  };
  cost: { total: number; unpriced: number; lines: { category: string; country: string | null; count: number; unitPrice: number; total: number }[] } | null;
  assumptions: string[];
};

export function planLaunch(input: PlanInput): LaunchPlan {
  const { campaign, account, options } = input;
  const budgetWindowMs = options.budgetWindowMs ?? DAY_MS;
  const bucketMs = (options.bucketMinutes ?? 60) * 60_000;
  const nowMs = input.now.getTime();
  const start = Math.max(nowMs, campaign.startAt?.getTime() ?? nowMs);
  const horizon = start + (options.horizonDays ?? 30) * DAY_MS;
  const expires = campaign.expiresAt?.getTime() ?? Infinity;
  const interval = slotIntervalMs(account.ratePerSecond, options.jitterMs);
  const pass = Math.max(1, options.feederIntervalMs ?? 250);
  const sendWindow = sendWindowOf(campaign.windowStart, campaign.windowEnd);
  const queueWindow = queueWindowSize(account.ratePerSecond, options.windowSeconds, false, options.maxJobs);
  const budget = budgetWindowOf(input.budget);
  const usedNow = [...budget.values()].filter((at) => at > nowMs - budgetWindowMs).length;

  const byId = (a: { id: string }, b: { id: string }) => Number(a.id) - Number(b.id);
  const open: PlanRecipient[] = [...input.recipients].sort(byId);
  // The feeder's order: due deferred first, then pending, each by id (src/recipients/feed-recipients.ts).
  const fresh = open.filter((r) => !r.queued && r.notBefore === null);
  let freshAt = 0;
  const later = new DueHeap();
  for (const r of open) if (!r.queued && r.notBefore !== null) later.push(r.notBefore.getTime(), [r]);
  let due: PlanRecipient[] = [];
  let dueAt = 0;
  const waitingCount = () => fresh.length - freshAt + later.size + due.length - dueAt;

  const sends: { at: number; r: PlanRecipient }[] = [];
  let suppressed = 0;
  let quietDeferrals = 0;
  let limitDeferrals = 0;
  let t = start;
  let nextSlot = start;
  let doneAt = 0;
  const schedule = (r: PlanRecipient) => {
    if (r.suppressed) {
      suppressed += 1;
      return;
    }
    nextSlot = Math.max(nextSlot, t);
    sends.push({ at: nextSlot, r });
    nextSlot += interval;
  };
  /** Deferred candidates wait in the heap, one entry per time they wait until. */
  const deferLater = (deferred: readonly { id: string; notBefore: Date }[], candidates: readonly PlanRecipient[]) => {
    const byCandidate = new Map(candidates.map((c) => [c.id, c]));
    const byTime = new Map<number, PlanRecipient[]>();
    for (const d of deferred) {
      const r = byCandidate.get(d.id);
      if (!r) continue;
      const at = d.notBefore.getTime();
      const group = byTime.get(at);
      if (group) group.push(r);
      else byTime.set(at, [r]);
    }
    for (const [at, group] of byTime) later.push(at, group);
  };
  /** When the queue next has a quarter of its window free: the send that leaves that many in flight. */
  const nextTopUp = () => sends[sends.length - (queueWindow - Math.ceil(queueWindow / 4))]?.at ?? t;

  open.filter((r) => r.queued).forEach(schedule);
  while (waitingCount() > 0 && t < horizon && t < expires) {
    while (doneAt < sends.length && (sends[doneAt]?.at ?? Infinity) < t) doneAt += 1;
    let free = freeRoom(queueWindow, sends.length - doneAt);
    if (free === 0) {
      t = Math.max(t + pass, nextTopUp());
      continue;
    }
    const now = new Date(t);
    let queued = 0;
    let fullUntil: Date | null = null;
    while (free > 0) {
      const newlyDue = later.popUntil(t);
      if (newlyDue.length > 0) {
        due = [...due.slice(dueAt), ...newlyDue].sort(byId);
        dueAt = 0;
      }
      // The limit refused a phone in this pass, and none left is counted already: every further
      // step of the pass would refuse all it takes, to the same time. Decided at once, same result.
      const rest = fullUntil ? [...due.slice(dueAt), ...fresh.slice(freshAt)] : [];
      if (fullUntil && !rest.some((c) => budget.has(c.phone))) {
        dueAt = due.length;
        freshAt = fresh.length;
        const { open: inWindow, deferred } = splitByWindow(rest, sendWindow, now);
        quietDeferrals += deferred.length;
        const split = splitByBudget(inWindow, new Set(), fullUntil, now);
        limitDeferrals += split.deferred.length;
        deferLater([...deferred, ...split.deferred], rest);
        break;
      }
      const asked = Math.min(free, FEED_STEP);
      const candidates = due.slice(dueAt, dueAt + asked);
      const fromDue = candidates.length;
      if (candidates.length < asked) candidates.push(...fresh.slice(freshAt, freshAt + asked - candidates.length));
      if (candidates.length === 0) break;
      dueAt += fromDue;
      freshAt += candidates.length - fromDue;
      const { open: inWindow, deferred } = splitByWindow(candidates, sendWindow, now);
      quietDeferrals += deferred.length;
      let allowed = inWindow;
      if (account.messagingLimit !== null && inWindow.length > 0) {
        const reservation = reserveInWindow(budget, inWindow.map((c) => c.phone), account.messagingLimit, t, budgetWindowMs);
        const split = splitByBudget(inWindow, new Set(reservation.granted), reservation.nextFreeAt, now);
        allowed = split.allowed;
        limitDeferrals += split.deferred.length;
        deferred.push(...split.deferred);
        if (reservation.refused.length > 0) fullUntil = reservation.nextFreeAt;
      }
      deferLater(deferred, candidates);
      allowed.forEach(schedule);
      free -= allowed.length;
      queued += allowed.length;
      if (candidates.length < asked) break;
    }
    // Nothing could go: the next look that can change anything is the earliest deferral.
    // The feeder looks again at its next pass (every FEEDER_INTERVAL_MS) at the earliest.
    t = queued > 0 ? Math.max(t + pass, nextTopUp()) : Math.max(t + pass, later.peek() ?? horizon);
  }
  const expired = t >= expires;
  const leftOver = waitingCount();
  const sent = sends.filter((s) => s.at < expires && s.at < horizon);
  const expire = (expired ? leftOver : 0) + sends.filter((s) => s.at >= expires).length;
  const beyondHorizon = expired ? 0 : leftOver + sends.filter((s) => s.at >= horizon && s.at < expires).length;

  const price = (r: PlanRecipient) => (campaign.category ? priceOf(account.prices, campaign.category, countryOfE164(r.phone)) : null);
  const buckets = new Map<number, { sends: number; cost: number | null }>();
  for (const s of sent) {
    const from = Math.floor(s.at / bucketMs) * bucketMs;
    const b = buckets.get(from) ?? { sends: 0, cost: account.prices ? 0 : null };
    b.sends += 1;
    const p = price(s.r);
    if (b.cost !== null && p !== null) b.cost += p;
    buckets.set(from, b);
  }
  const projection = [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([from, b]) => ({ from: iso(from), to: iso(from + bucketMs), sends: b.sends, cost: b.cost === null ? null : round(b.cost) }));

  const zones = new Map<string, number>();
  if (sendWindow) for (const r of open) zones.set(recipientTimeZone(r), (zones.get(recipientTimeZone(r)) ?? 0) + 1);
  const binding = [
    ...(sent.length > 1 ? ['rate'] : []),
    ...(limitDeferrals > 0 ? ['messaging_limit'] : []),
    ...(quietDeferrals > 0 ? ['quiet_hours'] : []),
    ...(start > nowMs ? ['start_at'] : []),
    ...(expire > 0 ? ['expiry'] : []),
  ];
  const last = sent[sent.length - 1];
  return {
    startsAt: iso(start),
    // Unfinished within the horizon: unknown. Expiring: the campaign completes when the rest expires.
    finishesAt: beyondHorizon > 0 ? null : iso(Math.max(last ? last.at : start, expire > 0 ? expires : 0)),
    openRecipients: open.length,
    outcomes: { willSend: sent.length, suppressed, expire, rejectedAtUpload: input.rejectedAtUpload, beyondHorizon, settled: input.settled },
    projection,
    bounds: {
      rate: { perSecond: account.ratePerSecond, effectivePerSecond: round(1000 / interval) },
      messagingLimit:
        account.messagingLimit === null ? null : { limit: account.messagingLimit, usedNow, remainingNow: Math.max(0, account.messagingLimit - usedNow), deferrals: limitDeferrals },
      quietHours: sendWindow
        ? { window: `${formatClock(sendWindow.start)}-${formatClock(sendWindow.end)}`, deferrals: quietDeferrals, zones: [...zones].map(([zone, n]) => ({ zone, recipients: n })).sort((a, b) => b.recipients - a.recipients) }
        : null,
      schedule: { startAt: campaign.startAt ? iso(campaign.startAt.getTime()) : null, expiresAt: campaign.expiresAt ? iso(expires) : null },
      binding,
    },
    cost: account.prices ? costOf(sent.map((s) => s.r), campaign.category, account.prices) : null,
    assumptions: [
      'The campaign has the account to itself; campaigns running beside it on the same account share its rate.',
      'Every send is accepted: provider errors, retries and rate-limit answers would slow it down.',
      'Suppressed phones fail when claimed and still take their messaging-limit slot, as in the engine.',
    ],
  };
}

function costOf(sent: readonly PlanRecipient[], category: string | null, prices: MessagePrices): NonNullable<LaunchPlan['cost']> {
  const lines = new Map<string, { category: string; country: string | null; count: number; unitPrice: number; total: number }>();
  let unpriced = 0;
  for (const r of sent) {
    const country = countryOfE164(r.phone);
    const unit = category ? priceOf(prices, category, country) : null;
    if (unit === null || !category) {
      unpriced += 1;
      continue;
    }
    const key = `${category}:${country ?? ''}`;
    const line = lines.get(key) ?? { category, country, count: 0, unitPrice: unit, total: 0 };
    line.count += 1;
    line.total = round(line.count * unit);
    lines.set(key, line);
  }
  const list = [...lines.values()].sort((a, b) => b.total - a.total);
  return { total: round(list.reduce((sum, l) => sum + l.total, 0)), unpriced, lines: list };
}

const iso = (ms: number) => new Date(ms).toISOString();
const round = (n: number) => Math.round(n * 10_000) / 10_000;

/** Deferred recipients by the time they become due: a binary min-heap of groups that wait until the same time. */
class DueHeap {
  private readonly items: { at: number; rs: PlanRecipient[] }[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  peek(): number | undefined {
    return this.items[0]?.at;
  }

  push(at: number, rs: PlanRecipient[]): void {
    if (rs.length === 0) return;
    this.count += rs.length;
    const items = this.items;
    items.push({ at, rs });
    for (let i = items.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      const [p, c] = [items[parent], items[i]];
      if (!p || !c || p.at <= at) break;
      [items[parent], items[i]] = [c, p];
      i = parent;
    }
  }

  /** Every recipient due at or before `t`. */
  popUntil(t: number): PlanRecipient[] {
    const out: PlanRecipient[] = [];
    while (this.items.length > 0 && (this.items[0]?.at ?? Infinity) <= t) {
      const group = this.pop();
      for (const r of group) out.push(r);
    }
    this.count -= out.length;
    return out;
  }

  private pop(): PlanRecipient[] {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (!top || !last) return [];
    if (items.length > 0) {
      items[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if ((items[l]?.at ?? Infinity) < (items[m]?.at ?? Infinity)) m = l;
        if ((items[r]?.at ?? Infinity) < (items[m]?.at ?? Infinity)) m = r;
        if (m === i) break;
        const [a, b] = [items[m], items[i]];
        if (!a || !b) break;
        [items[m], items[i]] = [b, a];
        i = m;
      }
    }
    return top.rs;
  }
}
