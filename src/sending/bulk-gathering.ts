/**
 * Providers with a bulk endpoint (Optiwe): concurrent sends of one campaign share a request.
 * Messages arriving within a few ms (up to the adapter's maximum, and at most a quarter second
 * of the account's rate, so a request never bursts far past the rate) go in one request. Each
 * message takes its own rate slot; the wire gate is passed once, after the last slot.
 */
import { outcome } from '../providers/outcome.js';
import { MessageBuildError, type OutboundMessage } from '../providers/types.js';
import { Batcher } from './batcher.js';
import type { CallDeps, CallResult } from './call-provider.js';
import type { CampaignContext } from './campaign-context.js';
import { scrubOutcome } from '../security/secret-scrubber.js';
import { buildFailure } from './outbound-message.js';
import { wireGate } from './send-gate.js';
import type { Admission, JobTiming } from './send-ports.js';

type Item = { context: CampaignContext; message: OutboundMessage; timing: JobTiming | undefined };

export class BulkGathering {
  private readonly perCampaign = new Map<string, Batcher<Item, CallResult>>();

  constructor(private readonly deps: CallDeps) {}

  accepts(context: CampaignContext, message: OutboundMessage): boolean {
    return context.kind === 'template' && Boolean(context.adapter.batch?.accepts(message));
  }

  send(context: CampaignContext, message: OutboundMessage, timing?: JobTiming): Promise<CallResult> {
    let batcher = this.perCampaign.get(context.campaignId);
    if (!batcher) {
      const maxSize = Math.max(1, Math.min(context.adapter.batch?.maxSize ?? 1, Math.floor(context.ratePerSecond / 4)));
      batcher = new Batcher((items) => this.sendBulk(items), { maxSize, maxWaitMs: 25 });
      this.perCampaign.set(context.campaignId, batcher);
    }
    return batcher.add({ context, message, timing });
  }

  private async sendBulk(items: readonly Item[]): Promise<CallResult[]> {
    const context = items[0]?.context;
    const batch = context?.adapter.batch;
    if (!context || !batch) return items.map(() => ({ result: outcome('PROVIDER_UNAVAILABLE', 'The bulk sender lost its context; retrying.') }));
    const messages = items.map((i) => i.message);
    let request;
    try {
      request = batch.buildBatchRequest(messages, context.account);
    } catch (error) {
      // A recipient-level build error names its message; the others are retried one batch later.
      if (error instanceof MessageBuildError && error.scope === 'recipient' && error.reference) {
        return messages.map((m) => ({
          result: m.reference === error.reference ? buildFailure(error) : outcome('PROVIDER_UNAVAILABLE', 'Another recipient in the same bulk request could not be built; retrying.'),
        }));
      }
      const failure = buildFailure(error);
      return messages.map(() => ({ result: failure }));
    }
    const rate = await this.deps.adaptiveRate.rateFor(context.accountId, context.ratePerSecond);
    // Asked for together: the rate limiter admits an account's waiting sends in one step, in order.
    const departures: Admission[] = await Promise.all(messages.map(() => this.deps.slots.acquire(context.accountId, rate, context.ratePerSecond, context.campaignId)));
    const waited = departures.reduce((sum, d) => sum + d.waitedMs, 0);
    const settle = (): void => departures.forEach((d) => d.settle());
    // The account's state and the campaign's stop mark as the last of them was let through: the freshest read.
    const last = departures[departures.length - 1];
    const held = last ? wireGate(last, context.generation) : null;
    for (const { timing } of items) {
      if (!timing) continue;
      timing.rateWaitMs += waited;
      timing.onWire = !held;
    }
    if (held) {
      settle();
      return messages.map(() => held);
    }
    // One request carries every message: each message's departure counts from its write.
    const http = await this.deps.call(request, this.deps.timeoutMs, () => departures.forEach((d) => d.onWire())).finally(settle);
    const outcomes = http.ok ? batch.parseBatchResponse(http.response, messages) : messages.map(() => http.outcome);
    return outcomes.map((o) => ({ result: scrubOutcome(o, context.account.credentials) }));
  }

  async drain(): Promise<void> {
    await Promise.all([...this.perCampaign.values()].map((b) => b.drain()));
  }
}
