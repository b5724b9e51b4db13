/**
 * Claims, micro-batched across concurrent jobs (one statement per batch), with each claimed
 * phone's pair-gap reservation for its account in the same pass (one Redis round trip per
 * account per batch): never two messages to one phone from one account within the gap.
 */
import type { PairGap } from '../flow/pair-gap.js';
import type { ClaimedRecipient, ClaimJob, ClaimResult } from '../recipients/index.js';
import { Batcher } from './batcher.js';
import type { CampaignContexts } from './campaign-context.js';
import type { SendStore } from './send-ports.js';

export type Claim = ClaimResult & { pairWaitMs?: number };

export class ClaimStep {
  private readonly batcher: Batcher<ClaimJob, Claim>;

  constructor(
    store: SendStore,
    private readonly pairGap: PairGap,
    private readonly contexts: CampaignContexts,
  ) {
    this.batcher = new Batcher(async (jobs) => {
      const found = await store.claim(jobs);
      const ids = jobs.map((j) => j.id);
      const waits = await this.reservePairs([...found.values()].flatMap((r) => (r.claimed ? [r.claimed] : [])));
      // The same recipient twice in one batch is one job delivered twice at once (BullMQ handed a
      // job whose lock lapsed under load to a second slot while the first still ran): only the
      // first may send; the second finds it `sending`, as a redelivery does.
      const seen = new Set<string>();
      return ids.map((id) => {
        const first = !seen.has(id);
        seen.add(id);
        const result: ClaimResult = first ? (found.get(id) ?? { claimed: null, status: null }) : { claimed: null, status: 'sending' };
        const wait = waits.get(id);
        return wait === undefined ? result : { ...result, pairWaitMs: wait };
      });
    }, { maxSize: 500, maxWaitMs: 5 });
  }

  /** `accountId`: the account whose queue the job came from. */
  claim(recipientId: string, accountId?: string): Promise<Claim> {
    return this.batcher.add({ id: recipientId, accountId });
  }

  /** For the recipients whose phone is still taken on their account, how long to wait. */
  private async reservePairs(claimed: readonly ClaimedRecipient[]): Promise<Map<string, number>> {
    const waits = new Map<string, number>();
    const byAccount = new Map<string, { gapMs: number; recipients: ClaimedRecipient[] }>();
    for (const recipient of claimed) {
      const context = await this.contexts.get(recipient.campaignId, recipient.accountId).catch(() => null);
      if (!context || context.pairGapMs <= 0) continue;
      const group = byAccount.get(context.accountId) ?? { gapMs: context.pairGapMs, recipients: [] };
      group.recipients.push(recipient);
      byAccount.set(context.accountId, group);
    }
    for (const [accountId, group] of byAccount) {
      const reservations = await this.pairGap.reserveMany(accountId, group.recipients.map((r) => r.phone), group.gapMs);
      const seen = new Set<string>();
      for (const recipient of group.recipients) {
        const reservation = reservations.get(recipient.phone);
        // One phone twice in one batch (two campaigns): only the first goes now.
        if (reservation && !reservation.ok) waits.set(recipient.id, reservation.waitMs);
        else if (seen.has(recipient.phone)) waits.set(recipient.id, group.gapMs);
        seen.add(recipient.phone);
      }
    }
    return waits;
  }

  drain(): Promise<void> {
    return this.batcher.drain();
  }
}
