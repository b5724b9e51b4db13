/**
 * The messaging-limit rule of ./daily-budget.ts as a pure function over an in-memory window, for
 * the launch planner (src/queue/launch-plan.ts), which replays the feeder on a simulated
 * clock. It is the reservation script's rule, step for step: drop phones older than the window;
 * a phone counted already is granted and its time refreshed (never moved back); a new phone
 * takes a slot while fewer than `limit` are counted; when one is refused, the next slot frees
 * when the (used - limit)-th oldest phone leaves the window. test/flow/budget-window.test.ts
 * runs both on the same inputs.
 */
import type { BudgetReservation } from './daily-budget.js';

/**
 * phone -> ms time of its latest reservation, in time order: the planner's clock only moves
 * forward, and a refreshed phone is moved to the end, so the oldest entries come first and
 * pruning and the k-th oldest cost no sort. Build one from entries sorted by time (`budgetWindowOf`).
 */
export type BudgetWindow = Map<string, number>;

export function budgetWindowOf(entries: readonly { phone: string; at: Date }[]): BudgetWindow {
  return new Map([...entries].sort((a, b) => a.at.getTime() - b.at.getTime()).map((e) => [e.phone, e.at.getTime()]));
}

export function reserveInWindow(window: BudgetWindow, phones: readonly string[], limit: number, nowMs: number, windowMs: number): BudgetReservation {
  for (const [phone, at] of window) {
    if (at > nowMs - windowMs) break;
    window.delete(phone);
  }
  const granted: string[] = [];
  const added: string[] = [];
  const refused: string[] = [];
  for (const phone of phones) {
    const at = window.get(phone);
    if (at !== undefined) {
      window.delete(phone);
      window.set(phone, Math.max(at, nowMs));
      granted.push(phone);
    } else if (window.size < limit) {
      window.set(phone, nowMs);
      granted.push(phone);
      added.push(phone);
    } else {
      refused.push(phone);
    }
  }
  let nextFreeAt: Date | null = null;
  if (refused.length > 0) {
    let k = window.size - limit;
    for (const at of window.values()) {
      if (k-- > 0) continue;
      nextFreeAt = new Date(at + windowMs);
      break;
    }
  }
  return { granted, added, refused, nextFreeAt };
}
