/** Turns the send pipeline's decision into BullMQ's language: DelayedError and RateLimitError spend no BullMQ attempt. */
import { DelayedError, RateLimitError, type Job } from 'bullmq';
import type { JobDecision } from '../sending/send-ports.js';
import type { SendJobData } from './queues.js';

export async function enactDecision(decision: JobDecision, job: Job<SendJobData>, token: string | undefined, rateLimit: (ms: number) => Promise<void>): Promise<void> {
  switch (decision.next) {
    case 'done':
      return;
    case 'retry':
      await job.moveToDelayed(Date.now() + decision.delayMs, token);
      throw new DelayedError();
    case 'rate_limited':
      await rateLimit(decision.delayMs);
      throw new RateLimitError();
    case 'account_stopped':
      throw new RateLimitError();
  }
}
