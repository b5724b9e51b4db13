/**
 * Adereso's two free-text sends as single API calls, outside campaigns: a reply inside a ticket
 * (`POST /v2/message/`) and a proactive conversation (`POST /v2/message/create_conversation/`).
 * Each is one request built and parsed by the adapter's pure pairs
 * (src/providers/adereso/adereso-conversation.ts) and sent by sendHttp. The outcome is scrubbed of
 * the account's own token, then answered as is when the provider took the message, or as the
 * error that says what the caller can do about it.
 *
 * Idempotency: with a key, the answer of a call that may have posted something (sent, timed out
 * after the request went out, or an answer the manual does not describe) is kept in Redis for
 * 24 h under (tenant, key) and replayed to a retry; while the call is in flight the key is held,
 * and a concurrent duplicate is refused. A call that surely posted nothing (refused before
 * sending, refused by the provider, provider unreachable or busy) releases the key, so the
 * caller can fix the cause and retry with the same key.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { RedisClient } from '../redis-client.js';
import { redisKeys } from '../redis-keys.js';
import type { Db } from '../db/database.js';
import { type AppError, errors } from '../errors.js';
import { normalizePhone, type CountryCode } from '../phones/normalize-phone.js';
import { buildConversationRequest, buildTicketReplyRequest, parseConversationResponse, parseTicketReplyResponse } from '../providers/adereso/adereso-conversation.js';
import { aderesoAdapter, type AderesoAccount } from '../providers/adereso/index.js';
import { aderesoTicketId } from '../providers/adereso/adereso-reply.js';
import { sendHttpNoticingWire } from '../providers/http.js';
import { MessageBuildError, type HttpRequest, type HttpResponse, type OutcomeKind, type SendOutcome } from '../providers/types.js';
import { finishSingleMessage, singleMessageStatus, startSingleMessage, type SingleMessageStart } from '../recipients/index.js';
import { isSuppressed } from '../suppressions/suppression-list.js';
import { stopAccount, stopStatus } from '../accounts/account-actions.js';
import { AccountStates } from '../accounts/account-state.js';
import { AdaptiveRate } from '../flow/adaptive-rate.js';
import { CircuitBreaker } from '../flow/circuit-breaker.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { AccountRateLimiter } from '../queue/account-rate-limiter.js';
import type { SendQueues } from '../queue/queues.js';
import { failureError, publicOutcome, type PublicOutcome } from './outcome-answer.js';
import { sendOutsideCampaign, type OutsideCampaignDeps } from '../sending/send-outside-campaign.js';
import { providerLabel } from '../providers/registry.js';
import { validatedSettings } from '../templates/provider-account.js';
import { LuaScript } from '../redis-script.js';

export type AderesoMessageDeps = {
  db: Db;
  redis: RedisClient;
  /** Prefix of the Redis keys (the engine's queue prefix). */
  keyPrefix: string;
  /** Provider HTTP timeout (ms), as for campaign sends. */
  timeoutMs: number;
  /** The account queues, paused when the provider refuses the account. */
  queues: SendQueues;
  logger: Logger;
  /** The rate limiter's and breaker's settings, as campaign sends use them. */
  flow: Pick<Config, 'rateJitterMs' | 'breakerMinCalls' | 'breakerOpenMs'>;
};

export type AderesoTicketReplyCall = {
  accountId: string;
  ticketId: string;
  /** The client to answer; without it Adereso answers the ticket's first client. */
  clientId?: string;
  text: string;
  /** Answer only a private message of the client (default true, the manual's advice for automatic messages). */
  privateOnly: boolean;
};

export type AderesoConversationCall = {
  accountId: string;
  /** As typed; normalized with `defaultCountry` for numbers without "+country code". */
  phone: string;
  defaultCountry: CountryCode;
  /** The client's name for their Adereso profile; default the phone in E.164. */
  userName?: string;
  text: string;
  /** Omitted from the request (Adereso's default) when undefined. */
  noManualReopen?: boolean;
  noManualMerge?: boolean;
};

/** `messageId`: the single message's record (status and history; src/recipients/single-messages.ts). */
export type AderesoMessageAnswer = { outcome: PublicOutcome; messageId: string; ticketId?: string };

type ErrorBody = ReturnType<AppError['toJSON']>;
/** What a call answers: a status and body, and whether they replay an earlier call with the same key. */
export type MessageReply = { statusCode: number; body: (AderesoMessageAnswer & { replayed: boolean }) | ErrorBody; replayed: boolean };

const PROVIDER = providerLabel('adereso');
const TICKET_REPLY = { feature: 'A reply inside an Adereso ticket', action: 'post the reply in the ticket' } as const;
const CONVERSATION = { feature: 'A proactive Adereso conversation', action: 'open a proactive conversation' } as const;
const TAKEN: readonly OutcomeKind[] = ['sent', 'accepted', 'already_sent'];
/** How long a kept answer is replayed (s). */
const ANSWER_TTL_SECONDS = 24 * 60 * 60;

export async function sendAderesoTicketReply(deps: AderesoMessageDeps, tenantId: string, call: AderesoTicketReplyCall, idempotencyKey?: string): Promise<MessageReply> {
  const account = await loadAderesoAccount(deps.db, tenantId, call.accountId, TICKET_REPLY.feature);
  const request = buildTicketReplyRequest(
    { ticketId: call.ticketId, ...(call.clientId === undefined ? {} : { clientId: call.clientId }), message: call.text, privateOnly: call.privateOnly },
    account,
  );
  const send = { account, request, action: TICKET_REPLY.action, parse: parseTicketReplyResponse, ticketId: () => call.ticketId };
  return answerOnce(deps, tenantId, idempotencyKey, fingerprint(account, request), () =>
    deliver(deps, send, { tenantId, accountId: account.id, kind: 'adereso_ticket_reply', ticketId: call.ticketId }),
  );
}

export async function openAderesoConversation(deps: AderesoMessageDeps, tenantId: string, call: AderesoConversationCall, idempotencyKey?: string): Promise<MessageReply> {
  const account = await loadAderesoAccount(deps.db, tenantId, call.accountId, CONVERSATION.feature);
  const phone = normalizePhone(call.phone, call.defaultCountry);
  if (!phone.ok) throw errors.recipientRejected(phone.problem, phone.message);
  const request = buildOrRefuse(() =>
    buildConversationRequest(
      {
        phone: phone.e164,
        userName: call.userName ?? phone.e164,
        message: call.text,
        ...(call.noManualReopen === undefined ? {} : { noManualReopen: call.noManualReopen }),
        ...(call.noManualMerge === undefined ? {} : { noManualMerge: call.noManualMerge }),
      },
      account,
    ),
  );
  const send = { account, request, action: CONVERSATION.action, parse: parseConversationResponse, ticketId: aderesoTicketId };
  // Checked under the key, so a retry of a call that went out replays its answer even if the
  // phone was suppressed since.
  return answerOnce(deps, tenantId, idempotencyKey, fingerprint(account, request), async () =>
    (await isSuppressed(deps.db, tenantId, phone.e164)) ? { ok: false, error: errors.phoneSuppressed(phone.e164), mayHavePosted: false } : deliver(deps, send, { tenantId, accountId: account.id, kind: 'adereso_conversation', phone: phone.e164 }),
  );
}

/** The tenant's Adereso account with its settings checked by the adapter's schemas. */
async function loadAderesoAccount(db: Db, tenantId: string, accountId: string, feature: string): Promise<AderesoAccount & { ratePerSecond: number }> {
  const row = await db.prisma.providerAccount.findFirst({ where: { id: accountId, tenantId } });
  if (!row) throw errors.accountNotFound(accountId);
  if (row.provider !== aderesoAdapter.provider) throw errors.providerNotSupported(feature, providerLabel(row.provider), [PROVIDER]);
  // validatedSettings parsed them with adapterFor('adereso')'s schemas, which are aderesoAdapter's.
  return { ...(validatedSettings(row) as AderesoAccount), ratePerSecond: row.ratePerSecond };
}

function buildOrRefuse(build: () => HttpRequest): HttpRequest {
  try {
    return build();
  } catch (error) {
    if (!(error instanceof MessageBuildError)) throw error;
    throw error.scope === 'account' ? errors.invalidAccountConfig('adereso', [error.message]) : errors.validation([error.message]);
  }
}

/** The exact request (account, URL, body; not the token), so a retry matches whatever the typing. */
function fingerprint(account: AderesoAccount, request: HttpRequest): string {
  return createHash('sha256').update(JSON.stringify([account.id, request.method, request.url, request.body ?? ''])).digest('hex');
}

type PreparedSend = {
  account: AderesoAccount & { ratePerSecond: number };
  request: HttpRequest;
  action: string;
  parse: (response: HttpResponse) => SendOutcome;
  ticketId: (response: HttpResponse) => string | undefined;
};

/** `mayHavePosted`: the provider may have acted, so the answer is kept for retries with the key. */
type Delivery = { ok: true; answer: AderesoMessageAnswer } | { ok: false; error: AppError; mayHavePosted: boolean };

/** The campaign sends' path (breaker, rate slot, account gate, account stop), built per process. */
const paths = new WeakMap<SendQueues, OutsideCampaignDeps>();

function sendPath(deps: AderesoMessageDeps): OutsideCampaignDeps {
  let path = paths.get(deps.queues);
  if (!path) {
    const states = new AccountStates(deps.redis, deps.keyPrefix);
    path = {
      call: sendHttpNoticingWire,
      slots: new AccountRateLimiter(deps.redis, deps.keyPrefix, { jitterMs: deps.flow.rateJitterMs }),
      accounts: {
        read: (accountId) => states.read(accountId),
        markStopped: (accountId, outcome, generation) => states.markStopped(accountId, stopStatus(outcome), outcome.code, generation),
        stop: async (accountId, outcome, log) => {
          await stopAccount(deps.db, deps.queues, accountId, outcome, log, { marked: true });
        },
      },
      breaker: new CircuitBreaker(deps.redis, deps.keyPrefix, { minCalls: deps.flow.breakerMinCalls, openMs: deps.flow.breakerOpenMs }),
      adaptiveRate: new AdaptiveRate(deps.redis, deps.keyPrefix),
      timeoutMs: deps.timeoutMs,
    };
    paths.set(deps.queues, path);
  }
  return path;
}

/** Sends it through the campaign sends' path, recorded as a single message (status and history) from start to outcome. */
async function deliver(deps: AderesoMessageDeps, send: PreparedSend, record: SingleMessageStart): Promise<Delivery> {
  const messageId = await startSingleMessage(deps.db.pool, record);
  const sent = await sendOutsideCampaign(
    sendPath(deps),
    { accountId: send.account.id, ratePerSecond: send.account.ratePerSecond, request: send.request, parse: send.parse, secrets: [send.account.credentials.token] },
    deps.logger.child({ accountId: send.account.id, singleMessageId: messageId }),
  );
  const { result } = sent;
  const taken = TAKEN.includes(result.kind);
  const ticketId = taken && sent.response ? send.ticketId(sent.response) : undefined;
  const mayHavePosted = !taken && sent.wentOut && (result.kind === 'ambiguous' || result.code === 'PROVIDER_UNDOCUMENTED_RESPONSE');
  await finishSingleMessage(deps.db.pool, messageId, {
    status: singleMessageStatus(result.kind, mayHavePosted),
    ticketId,
    providerMessageId: result.messageId,
    ...(taken ? {} : { errorCode: result.code, providerErrorCode: result.providerCode, providerErrorText: result.providerText }),
  });
  return taken
    ? { ok: true, answer: { outcome: publicOutcome(result), messageId, ...(ticketId === undefined ? {} : { ticketId }) } }
    : { ok: false, error: failureError(PROVIDER, send.action, result), mayHavePosted };
}

type KeptAnswer =
  | { state: 'in_flight'; fingerprint: string; token: string }
  | { state: 'done'; fingerprint: string; statusCode: number; body: AderesoMessageAnswer | ErrorBody };

// Replaces (ARGV[2] set) or deletes (ARGV[2] empty) the key only while it still holds this
// call's in-flight marker, so a call that outlived its marker cannot clobber a newer one.
const FINISH = new LuaScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then return redis.call('DEL', KEYS[1]) end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1`);

/**
 * Runs `run` at most once per (tenant, key) while its answer is kept. Without a key, just runs it.
 * A retry with the same key and another request is refused (IDEMPOTENCY_KEY_REUSED).
 */
async function answerOnce(deps: AderesoMessageDeps, tenantId: string, key: string | undefined, requestHash: string, run: () => Promise<Delivery>): Promise<MessageReply> {
  if (key === undefined) {
    const delivery = await run();
    if (!delivery.ok) throw delivery.error;
    return { statusCode: 200, body: { ...delivery.answer, replayed: false }, replayed: false };
  }
  const redisKey = redisKeys.aderesoIdempotency(deps.keyPrefix, tenantId, key);
  const marker = JSON.stringify({ state: 'in_flight', fingerprint: requestHash, token: randomUUID() } satisfies KeptAnswer);
  // Outlives the call (connect, then response, with the timeout each) by a minute; short, so a
  // process that died mid-call frees the key within minutes rather than a day.
  const inFlightMs = 2 * deps.timeoutMs + 70_000;
  for (let attempt = 0; ; attempt += 1) {
    if ((await deps.redis.set(redisKey, marker, 'PX', inFlightMs, 'NX')) === 'OK') break;
    const kept = readKept(await deps.redis.get(redisKey));
    // Gone between the two commands (released or expired): take it on the next turn.
    if (kept === undefined && attempt < 2) continue;
    if (kept !== undefined && kept.fingerprint !== requestHash) throw errors.idempotencyConflict(key);
    if (kept?.state !== 'done') throw errors.idempotencyInFlight(key);
    return { statusCode: kept.statusCode, body: 'outcome' in kept.body ? { ...kept.body, replayed: true } : kept.body, replayed: true };
  }

  let delivery: Delivery;
  try {
    delivery = await run();
  } catch (error) {
    await FINISH.run(deps.redis, 1, redisKey, marker, '', '0');
    throw error;
  }
  if (delivery.ok || delivery.mayHavePosted) {
    const statusCode = delivery.ok ? 200 : delivery.error.statusCode;
    const body = delivery.ok ? delivery.answer : delivery.error.toJSON();
    const kept: KeptAnswer = { state: 'done', fingerprint: requestHash, statusCode, body };
    await FINISH.run(deps.redis, 1, redisKey, marker, JSON.stringify(kept), String(ANSWER_TTL_SECONDS));
  } else {
    await FINISH.run(deps.redis, 1, redisKey, marker, '', '0');
  }
  if (!delivery.ok) throw delivery.error;
  return { statusCode: 200, body: { ...delivery.answer, replayed: false }, replayed: false };
}

function readKept(value: string | null): KeptAnswer | undefined {
  if (value === null) return undefined;
  const parsed = JSON.parse(value) as KeptAnswer;
  return parsed.state === 'in_flight' || parsed.state === 'done' ? parsed : undefined;
}
