/**
 * The webhook receiver's defences, against the real API and processor on this file's database:
 * - a correctly signed Meta body about another account's number (or WABA) is not applied:
 *   counted (wce_webhook_requests_total{result="account_mismatch"}), never filed here;
 * - a request older than the provider's replay window is refused (Optiwe's envelope stamp,
 *   Meta's event times);
 * - a reply containing NUL is stored cleaned, not lost;
 * - the URL's secret is checked before the body is read: an unknown URL answers 404 at once,
 *   even while its body is still arriving, and a webhook body has its own small limit (413).
 */
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { cleanText } from '../../src/webhooks/parse-webhook.js';
import { expectError, expectStatus, expectStatusCode } from '../api/api-harness.js';
import {
  createCampaign,
  createWebhookAccount,
  deliver,
  metaSignature,
  metaTextMessage,
  postMeta,
  postWebhook,
  recipientRow,
  recordSend,
  webhookWorldForFile,
  storedEvents,
  suppressionsOf,
  unixNow,
  METRICS_TOKEN,
  type WebhookAccount,
} from './support/webhook-world.js';

const APP_SECRET = 'meta-app-secret-security';
/** The account's own ids (webhook-world's Meta settings). */
const OWN_PHONE_NUMBER_ID = '106540352242922';
const OWN_WABA_ID = '102290129340398';
const OTHER_PHONE_NUMBER_ID = '998877665544332';
const OTHER_WABA_ID = '556677889900112';

const world = webhookWorldForFile();

async function counter(provider: string, result: string): Promise<number> {
  const response = await world.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  expectStatusCode(response, 200);
  const line = response.body.split('\n').find((l) => l.startsWith('wce_webhook_requests_total{') && l.includes(`provider="${provider}"`) && l.includes(`result="${result}"`));
  return line ? Number(line.split(' ').pop()) : 0;
}

/** A Meta reply body as another account's number would produce it, with chosen ids. */
function metaReply(ids: { waba: string; phoneNumberId: string }, from: string, id: string, text: string): string {
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: ids.waba,
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: '15550001111', phone_number_id: ids.phoneNumberId },
              contacts: [{ profile: { name: 'Cliente' }, wa_id: from }],
              messages: [{ from, id, timestamp: String(unixNow(-60)), type: 'text', text: { body: text } }],
            },
          },
        ],
      },
    ],
  });
}

async function metaAccountWithRecipient(phone: string): Promise<{ account: WebhookAccount; campaignId: string; recipientId: string }> {
  const account = await createWebhookAccount(world, 'meta', { appSecret: APP_SECRET });
  const { campaignId, recipients } = await createCampaign(world, account.id, [phone]);
  const recipientId = recipients[0]?.id ?? '';
  await recordSend(world, recipientId, `wamid.${randomUUID()}`);
  return { account, campaignId, recipientId };
}

async function inboundOf(accountId: string): Promise<{ text: string | null; opt_out: boolean }[]> {
  const { rows } = await world.ctx.db.pool.query<{ text: string | null; opt_out: boolean }>(
    `SELECT text, opt_out FROM inbound_messages WHERE account_id = $1 ORDER BY received_at`,
    [accountId],
  );
  return rows;
}

describe('Meta: a signed body about another account', () => {
  it.each([
    ['another phone_number_id', { waba: OWN_WABA_ID, phoneNumberId: OTHER_PHONE_NUMBER_ID }],
    ['another WABA id', { waba: OTHER_WABA_ID, phoneNumberId: OWN_PHONE_NUMBER_ID }],
  ])('%s: "BAJA" from a number this account sent to → 200, not stored, counted as account_mismatch; no reply, no opt-out here', async (_label, ids) => {
    const phone = '+573001112233';
    const { account, recipientId } = await metaAccountWithRecipient(phone);
    const before = await counter('meta', 'account_mismatch');

    const response = await postMeta(world, account, metaReply(ids, phone.slice(1), `wamid.${randomUUID()}`, 'BAJA'), APP_SECRET);
    expect(expectStatus<{ received: boolean }>(response, 200)).toEqual({ received: true });
    await world.processor.drainBacklog();

    expect(await counter('meta', 'account_mismatch')).toBe(before + 1);
    expect(await storedEvents(world, account.id)).toEqual([]);
    expect(await inboundOf(account.id)).toEqual([]);
    expect(await recipientRow(world, recipientId)).toMatchObject({ status: 'sent', replied_at: null, opted_out_at: null });
    expect((await suppressionsOf(world)).map((s) => s.phone)).not.toContain(phone);
  });

  it('one body with the account\'s own change and another number\'s → stored; the own reply applied, the other dropped', async () => {
    const phone = '+573004445566';
    const { account, recipientId } = await metaAccountWithRecipient(phone);
    const own = JSON.parse(metaReply({ waba: OWN_WABA_ID, phoneNumberId: OWN_PHONE_NUMBER_ID }, phone.slice(1), `wamid.${randomUUID()}`, 'Gracias')) as { entry: unknown[] };
    const other = JSON.parse(metaReply({ waba: OWN_WABA_ID, phoneNumberId: OTHER_PHONE_NUMBER_ID }, phone.slice(1), `wamid.${randomUUID()}`, 'BAJA')) as { entry: unknown[] };
    const body = JSON.stringify({ object: 'whatsapp_business_account', entry: [...own.entry, ...other.entry] });
    const before = await counter('meta', 'account_mismatch');

    await deliver(world, account, body, APP_SECRET);
    await world.processor.drainBacklog();

    expect(await counter('meta', 'account_mismatch')).toBe(before + 1);
    expect(await storedEvents(world, account.id)).toEqual([expect.objectContaining({ status: 'processed' })]);
    expect(await inboundOf(account.id)).toEqual([{ text: 'Gracias', opt_out: false }]);
    expect(await recipientRow(world, recipientId)).toMatchObject({ opted_out_at: null });
    expect((await suppressionsOf(world)).map((s) => s.phone)).not.toContain(phone);
  });
});

describe('replay window', () => {
  it('Optiwe: an envelope stamped two hours ago → 400 WEBHOOK_REPLAYED, not stored; stamped now → 200', async () => {
    const account = await createWebhookAccount(world, 'optiwe');
    const envelope = (timestamp: number) =>
      JSON.stringify({
        timestamp,
        version: 1,
        type: 'CONVERSATION_EVENT',
        payload: { type: 'NEW_MESSAGE', payload: { phone: '+541155174499', message: { id: randomUUID(), text: 'hola' } } },
      });
    const before = await counter('optiwe', 'replayed');

    expectError(await postWebhook(world, account.path, envelope(unixNow(-7_200))), 400, 'WEBHOOK_REPLAYED');
    expectError(await postWebhook(world, account.path, envelope(unixNow(7_200))), 400, 'WEBHOOK_REPLAYED');
    expect(await storedEvents(world, account.id)).toEqual([]);
    expect(await counter('optiwe', 'replayed')).toBe(before + 2);

    await deliver(world, account, envelope(unixNow()));
    expect(await storedEvents(world, account.id)).toHaveLength(1);
  });

  it('Meta: a signed body whose newest event is 8 days old (Meta retries for 7) → 400 WEBHOOK_REPLAYED; 6 days old → 200', async () => {
    const account = await createWebhookAccount(world, 'meta', { appSecret: APP_SECRET });
    const old = metaTextMessage('573001234567', `wamid.${randomUUID()}`, unixNow(-8 * 86_400), 'hola');
    expectError(await postMeta(world, account, old, APP_SECRET), 400, 'WEBHOOK_REPLAYED');
    expect(await storedEvents(world, account.id)).toEqual([]);

    await deliver(world, account, metaTextMessage('573001234567', `wamid.${randomUUID()}`, unixNow(-6 * 86_400), 'hola'), APP_SECRET);
    expect(await storedEvents(world, account.id)).toHaveLength(1);
  });
});

describe('NUL in a reply', () => {
  it('Meta: a reply "BA\\u0000JA" → processed, stored as "BAJA" and taken as an opt-out', async () => {
    const phone = '+573007778899';
    const { account, recipientId } = await metaAccountWithRecipient(phone);
    const body = metaTextMessage(phone.slice(1), `wamid.${randomUUID()}`, unixNow(-30), 'BA\u0000JA');
    expect(body).toContain('\\u0000');

    await deliver(world, account, body, APP_SECRET);
    await world.processor.drainBacklog();

    expect(await storedEvents(world, account.id)).toEqual([expect.objectContaining({ status: 'processed', error: null })]);
    expect(await inboundOf(account.id)).toEqual([{ text: 'BAJA', opt_out: true }]);
    expect((await recipientRow(world, recipientId)).opted_out_at).not.toBeNull();
  });

  it('cleanText: NUL removed, lone surrogates replaced, pairs and ordinary text untouched', () => {
    expect(cleanText('a\u0000b\u0000')).toBe('ab');
    expect(cleanText('x\uD800y\uDC00z')).toBe('x\uFFFDy\uFFFDz');
    expect(cleanText('¡Hola! 😀 ñ')).toBe('¡Hola! 😀 ñ');
  });

  it('a raw NUL byte in a body (no provider sends one) → 400 WEBHOOK_MALFORMED, nothing stored', async () => {
    const account = await createWebhookAccount(world, 'multichat');
    const response = await postWebhook(world, account.path, 'mobile=3001234567&message=hola\u0000', { 'content-type': 'application/x-www-form-urlencoded' });
    expectError(response, 400, 'WEBHOOK_MALFORMED');
    expect(await storedEvents(world, account.id)).toEqual([]);
  });

  it('contacto-multichat: a form reply with %00 in it → stored cleaned', async () => {
    const account = await createWebhookAccount(world, 'multichat');
    const form = new URLSearchParams({ mobile: '3001234567', message: 'hola\u0000 mundo', official_number: '573009999999' }).toString();
    expect(form).toContain('%00');
    await deliver(world, account, form, undefined, 'application/x-www-form-urlencoded');
    await world.processor.drainBacklog();
    expect(await storedEvents(world, account.id)).toEqual([expect.objectContaining({ status: 'processed', error: null })]);
    expect(await inboundOf(account.id)).toEqual([{ text: 'hola mundo', opt_out: false }]);
  });
});

describe('before the body: the URL, then a small limit', () => {
  it('a body over the webhook limit → 413 WEBHOOK_BODY_TOO_LARGE naming the limit; the same body to a wrong secret → 404 (the URL is checked first)', async () => {
    const account = await createWebhookAccount(world, 'meta', { appSecret: APP_SECRET });
    const limit = world.ctx.config.webhookBodyLimitBytes;
    const big = JSON.stringify({ object: 'whatsapp_business_account', entry: [], padding: 'x'.repeat(limit) });
    const error = expectError(await postMeta(world, account, big, APP_SECRET), 413, 'WEBHOOK_BODY_TOO_LARGE');
    expect(error.message).toContain(`${limit / 1024} KB`);
    expect(error.details).toEqual({ limitBytes: limit });

    expectError(await postMeta(world, { ...account, path: `/webhooks/${account.id}/wrong-secret` }, big, APP_SECRET), 404, 'WEBHOOK_NOT_FOUND');
    expect(await storedEvents(world, account.id)).toEqual([]);
  });

  it('a chunked body (no Content-Length) over the limit → 413 WEBHOOK_BODY_TOO_LARGE while it is read', async () => {
    const account = await createWebhookAccount(world, 'meta', { appSecret: APP_SECRET });
    const limit = world.ctx.config.webhookBodyLimitBytes;
    const address = await listen();
    const chunk = 'x'.repeat(64 * 1024);
    const response = await rawRequest(address, [
      `POST ${account.path} HTTP/1.1\r\nHost: engine\r\nContent-Type: application/json\r\nX-Hub-Signature-256: ${metaSignature('', APP_SECRET)}\r\nTransfer-Encoding: chunked\r\n\r\n`,
      ...Array.from({ length: Math.ceil(limit / chunk.length) + 2 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`),
      '0\r\n\r\n',
    ]);
    expect(response).toMatch(/^HTTP\/1\.1 413 /);
    expect(response).toContain('WEBHOOK_BODY_TOO_LARGE');
  });

  it('an unknown URL whose body never finishes → 404 at once, without waiting for the body', async () => {
    const address = await listen();
    const started = Date.now();
    const response = await rawRequest(
      address,
      [`POST /webhooks/${randomUUID()}/${randomUUID()} HTTP/1.1\r\nHost: engine\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"object":`],
      { keepOpen: true },
    );
    expect(response).toMatch(/^HTTP\/1\.1 404 /);
    expect(response).toContain('WEBHOOK_NOT_FOUND');
    // The body is 99,990 bytes short and never comes: an answer at all proves it was not awaited.
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});

let listening: Promise<AddressInfo> | undefined;

/** The same app on a real socket (once per file), for requests app.inject cannot make. */
function listen(): Promise<AddressInfo> {
  listening ??= world.app.listen({ host: '127.0.0.1', port: 0 }).then(() => world.app.server.address() as AddressInfo);
  return listening;
}

/**
 * Writes the parts in order and resolves with what the server answered, as soon as a whole
 * response head and its JSON body have arrived. `keepOpen`: the request is never finished.
 */
function rawRequest(address: AddressInfo, parts: readonly string[], options: { keepOpen?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(address.port, address.address);
    let received = '';
    const done = (value: string) => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(60_000, () => {
      socket.destroy();
      reject(new Error(`no complete answer; got: ${received.slice(0, 200)}`));
    });
    socket.on('error', (error) => (received ? done(received) : reject(error)));
    socket.on('data', (data: Buffer) => {
      received += data.toString('utf8');
      if (/\r\n\r\n[\s\S]*\}\s*$/.test(received)) done(received);
    });
    socket.on('close', () => done(received));
    socket.on('connect', () => {
      const write = (i: number): void => {
        if (i >= parts.length || socket.destroyed) return;
        socket.write(parts[i] as string, () => write(i + 1));
      };
      write(0);
      if (!options.keepOpen && parts.length === 0) socket.end();
    });
  });
}
