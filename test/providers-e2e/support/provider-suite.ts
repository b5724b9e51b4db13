/**
 * The provider end-to-end suite, written once and run for every provider from its row
 * (test/providers-e2e/cases/<provider>.ts): campaigns sent by the real engine (feeder, BullMQ
 * worker, send pipeline) through the provider's adapter to a local fake speaking its
 * documented format, with the final state of every recipient checked. The scenarios:
 * - every outcome kind the provider's send can produce, each recipient in the state it calls
 *   for, each phone requested and delivered as often as the row says (never twice);
 * - a template error: the recipient it names fails, the campaign pauses with the reason, and a
 *   resume sends the rest;
 * - an account error: the account pauses, its recipients stay queued, and a resume sends them
 *   once;
 * - an account limit (providers that have one): the account is limited, its recipients wait
 *   deferred, and a resume sends them once.
 * Each provider file runs the suite with its row, so the providers run in parallel.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config.js';
import { startEngine, type Engine } from '../../support/engine-harness.js';
import { expectAccountStopped, expectCampaignPausedByTemplate, resumeAndComplete, resumeCampaignAndComplete } from './engine-expectations.js';
import { createCampaign, recipientErrorText, recipientsByPhone, startCampaign, tally, waitForCampaignStatus, type RecipientState, type TemplateInput } from './provider-campaign.js';

/** Short intervals so retries, feeding and timeouts play out in a test's time. None is asserted on. */
export const E2E_CONFIG: Partial<Config> = {
  feederIntervalMs: 50,
  sweeperIntervalMs: 500,
  retryBaseDelayMs: 20,
  retryMaxDelayMs: 100,
  // Far above a local fake's answer time, so only a scripted hang times out.
  sendTimeoutMs: 2_000,
};

export type E2eEngine = Engine<{ sendWorkers: true }>;

export function startE2eEngine(): Promise<E2eEngine> {
  return startEngine({ config: E2E_CONFIG, sendWorkers: true });
}

/** What the suite needs of a provider's fake. */
export type FakeProvider = { url: string; close(): Promise<void> };

/** One scenario that stops the account: how to bring it about, what the stop must look like, and the fix. */
export type AccountStopCase<F extends FakeProvider> = {
  title: string;
  phones: readonly string[];
  /**
   * The account whose sends meet the stop, on the shared fake or on one of its own (then
   * `close` it); `fix` clears the cause, as the provider or its support would.
   */
  arrange(engine: E2eEngine, shared: F): Promise<{ fake: F; accountId: string; fix(): void; close?(): Promise<void> }>;
  code: string;
  providerCode: string;
  reasonIncludes: string;
};

export type OutcomeCase<F extends FakeProvider, K extends string> = {
  /** One recipient per outcome, by name. */
  phones: Record<K, string>;
  /** Scripts the fake (or sets its state) so each phone meets its outcome. */
  arrange(fake: F, phones: Record<K, string>): void;
  /** Each recipient's final state. */
  expected(fake: F, phones: Record<K, string>): Record<K, RecipientState>;
  /** The provider's own error text kept on a recipient: exact, or `{ contains }`. */
  errorTexts: Partial<Record<K, string | { contains: string }>>;
  /** Send requests the fake saw per phone, scripted or answered. */
  requests: Record<K, number>;
  /** Messages the fake took per phone (never more than one). */
  deliveries: Record<K, number>;
};

export type ProviderCase<F extends FakeProvider, K extends string = string> = {
  /** As the describe block names it: "<label> through the engine". */
  label: string;
  template: TemplateInput;
  startFake(): Promise<F>;
  /** An account of this provider on `fake`. */
  account(engine: E2eEngine, fake: F): Promise<string>;
  /** Makes the next send to `phone` hang until the engine's timeout. */
  hang(fake: F, phone: string): void;
  requestsFor(fake: F, phone: string): number;
  /** The phone (E.164) of every message the fake took. */
  deliveredPhones(fake: F): string[];
  /** A recipient the provider took on the first attempt (sent, or accepted where that is its answer). */
  done(fake: F, phone: string): RecipientState;
  outcomes: OutcomeCase<F, K>;
  templateError: {
    good: readonly string[];
    bad: string;
    /** Its send hangs, so a send is still under way when the pause comes. */
    inDoubt: string;
    /** Variables for `bad` that the provider refuses as a template error. */
    badVariables: string[];
    code: string;
    providerCode: string;
    reasonIncludes: string;
  };
  accountError: AccountStopCase<F>;
  accountLimited?: AccountStopCase<F>;
};

export type ProviderWorld<F extends FakeProvider> = { readonly engine: E2eEngine; readonly fake: F };

/** How many messages the fake took for each phone. */
export function deliveriesOf<F extends FakeProvider>(row: Pick<ProviderCase<F>, 'deliveredPhones'>, fake: F, phones: readonly string[]): number[] {
  const counts = tally(row.deliveredPhones(fake));
  return phones.map((phone) => counts.get(phone) ?? 0);
}

/** A fake of a stop scenario's own, started with its options, and an account on it. */
export async function ownFake<F extends FakeProvider>(engine: E2eEngine, start: () => Promise<F>, account: (engine: E2eEngine, fake: F) => Promise<string>) {
  const fake = await start();
  return { fake, accountId: await account(engine, fake), close: () => fake.close() };
}

const byName = <K extends string, T>(phones: Record<K, string>, value: (phone: string) => T): Record<K, T> =>
  Object.fromEntries(Object.entries<string>(phones).map(([name, phone]) => [name, value(phone)])) as Record<K, T>;

/**
 * Declares the suite for one provider. Returns the engine and the fake (set once beforeAll has
 * run), for the provider's own extra scenarios in the same file.
 */
export function describeProviderThroughEngine<F extends FakeProvider, K extends string>(row: ProviderCase<F, K>): ProviderWorld<F> {
  let engine: E2eEngine | undefined;
  let fake: F | undefined;
  const world: ProviderWorld<F> = {
    get engine() {
      if (!engine) throw new Error('the engine is not started yet');
      return engine;
    },
    get fake() {
      if (!fake) throw new Error('the fake is not started yet');
      return fake;
    },
  };

  beforeAll(async () => {
    fake = await row.startFake();
    engine = await startE2eEngine();
  });

  afterAll(async () => {
    await engine?.close();
    await fake?.close();
  });

  describe(`${row.label} through the engine`, () => {
    it('gives each recipient the final state its outcome calls for, and sends no phone twice', async () => {
      const { engine, fake } = world;
      const o = row.outcomes;
      o.arrange(fake, o.phones);
      const recipients = Object.values<string>(o.phones).map((phone) => ({ phone, variables: ['Ana'] }));
      const campaignId = await createCampaign(engine.ctx, { accountId: await row.account(engine, fake), template: row.template, maxAttempts: 3, recipients });
      await startCampaign(engine.ctx, campaignId);
      await waitForCampaignStatus(engine.ctx, campaignId, 'completed');

      const expected = o.expected(fake, o.phones);
      expect(await recipientsByPhone(engine.ctx, campaignId)).toEqual(Object.fromEntries(Object.entries<string>(o.phones).map(([name, phone]) => [phone, expected[name as K]])));
      const texts = Object.entries<string | { contains: string } | undefined>(o.errorTexts);
      expect(texts.length).toBeGreaterThan(0);
      for (const [name, text] of texts) {
        const actual = await recipientErrorText(engine.ctx, campaignId, o.phones[name as K]);
        if (typeof text === 'string') expect(actual).toBe(text);
        else expect(actual).toContain(text?.contains);
      }
      expect(byName(o.phones, (phone) => row.requestsFor(fake, phone))).toEqual(o.requests);
      const delivered = deliveriesOf(row, fake, Object.values(o.phones));
      expect(Object.fromEntries(Object.keys(o.phones).map((name, i) => [name, delivered[i]]))).toEqual(o.deliveries);
    });

    it('fails the recipient a template error names, pauses the campaign with the reason, and sends the rest on resume', async () => {
      const { engine, fake } = world;
      const t = row.templateError;
      row.hang(fake, t.inDoubt);
      const recipients = [{ phone: t.bad, variables: t.badVariables }, { phone: t.inDoubt, variables: ['Ana'] }, ...t.good.map((phone) => ({ phone, variables: ['Ana'] }))];
      const campaignId = await createCampaign(engine.ctx, { accountId: await row.account(engine, fake), template: row.template, recipients });
      await startCampaign(engine.ctx, campaignId);

      const pending = await expectCampaignPausedByTemplate(engine, {
        campaignId,
        badPhone: t.bad,
        inDoubtPhone: t.inDoubt,
        code: t.code,
        providerCode: t.providerCode,
        reasonIncludes: t.reasonIncludes,
      });
      // How many were still to send depends on the sends under way at the pause; none was requested.
      for (const phone of pending) expect(row.requestsFor(fake, phone)).toBe(0);

      const rows = await resumeCampaignAndComplete(engine, campaignId, t.inDoubt);
      for (const phone of t.good) expect(rows[phone]).toEqual(row.done(fake, phone));
      expect(rows[t.bad]?.status).toBe('failed');
      expect([t.bad, t.inDoubt, ...t.good].map((phone) => row.requestsFor(fake, phone))).toEqual([1, 1, 1, 1, 1, 1]);
      expect(deliveriesOf(row, fake, t.good)).toEqual([1, 1, 1, 1]);
    });

    for (const [status, stop] of [['paused', row.accountError], ['limited', row.accountLimited]] as const) {
      if (!stop) continue;
      it(stop.title, async () => {
        const { engine } = world;
        const arranged = await stop.arrange(engine, world.fake);
        try {
          const { fake, accountId } = arranged;
          const campaignId = await createCampaign(engine.ctx, { accountId, template: row.template, recipients: stop.phones.map((phone) => ({ phone, variables: ['Ana'] })) });
          await startCampaign(engine.ctx, campaignId);

          await expectAccountStopped(engine, { accountId, campaignId, status, code: stop.code, providerCode: stop.providerCode, reasonIncludes: stop.reasonIncludes });
          expect(deliveriesOf(row, fake, stop.phones)).toEqual(stop.phones.map(() => 0));

          // The cause is cleared; the operator resumes the account.
          arranged.fix();
          const rows = await resumeAndComplete(engine, accountId, campaignId);
          for (const phone of stop.phones) expect(rows[phone]).toEqual(row.done(fake, phone));
          expect(deliveriesOf(row, fake, stop.phones)).toEqual(stop.phones.map(() => 1));
        } finally {
          await arranged.close?.();
        }
      });
    }
  });

  return world;
}
