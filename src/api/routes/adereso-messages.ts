/**
 * Adereso's free-text sends, one call each (src/messages/adereso-messages.ts):
 *
 * - POST /v1/messages/adereso/ticket-reply {accountId, ticketId, clientId?, text, privateOnly?}:
 *   a reply inside an Adereso ticket; privateOnly defaults to true (answer only a private
 *   message of the client, the manual's advice for automatic messages).
 * - POST /v1/messages/adereso/conversation {accountId, phone, defaultCountry?, userName?, text,
 *   noManualReopen?, noManualMerge?}: a proactive free-text conversation; a suppressed phone is
 *   refused (409 PHONE_SUPPRESSED).
 *
 * Both answer 200 {outcome, messageId, ticketId, replayed} when Adereso took the message (every
 * call that reaches the send path is recorded as a single message, with its history), and an error
 * otherwise whose details.outcomeCode is the normalized outcome code. An `Idempotency-Key`
 * header makes a retry replay the first answer (header `Idempotent-Replayed: true`) instead of
 * posting again; a duplicate that arrives while the first call is in flight gets 409
 * IDEMPOTENCY_KEY_IN_FLIGHT.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { countryCodeSchema } from '../../phones/country.js';
import { z } from 'zod';
import { errors } from '../../errors.js';
import { openAderesoConversation, sendAderesoTicketReply, type AderesoMessageDeps, type MessageReply } from '../../messages/adereso-messages.js';
import type { AppContext } from '../app.js';
import { parseInput } from '../../validate.js';
import { doc, idempotencyKeyHeader, json, jsonBody } from '../openapi/route-doc.js';
import { EXAMPLE_ACCOUNT_ID } from '../openapi/examples.js';
import { aderesoAnswer, aderesoAnswerExample } from '../openapi/responses/lists.js';

/** 4,096 characters is WhatsApp's limit for a text message. */
const text = z
  .string()
  .max(4096)
  .refine((value) => value.trim() !== '', 'must not be blank');
const country = countryCodeSchema;

const ticketReplyBody = z.object({
  accountId: z.string().uuid(),
  ticketId: z.string().trim().min(1).max(200),
  clientId: z.string().trim().min(1).max(200).optional(),
  text,
  /** Answer only a private message of the client; default true. */
  privateOnly: z.boolean().default(true),
});

const conversationBody = z.object({
  accountId: z.string().uuid(),
  phone: z.string().min(1).max(64),
  /** Country for numbers written without "+country code". Default CL. */
  defaultCountry: country.default('CL'),
  /** The client's name for their Adereso profile; default the phone in E.164. */
  userName: z.string().trim().min(1).max(200).optional(),
  text,
  /** Once closed, agents cannot reopen the ticket; omitted (Adereso's default) when absent. */
  noManualReopen: z.boolean().optional(),
  /** Agents cannot merge the ticket into another; omitted (Adereso's default) when absent. */
  noManualMerge: z.boolean().optional(),
});

const tag = 'messages';
const idempotencyHeader = idempotencyKeyHeader('reply-884213-1', 'A retry with the same key replays the first answer (header Idempotent-Replayed: true) instead of posting again');
const answered = { 200: { ...json(aderesoAnswer, aderesoAnswerExample, 'Adereso took the message'), headers: { 'Idempotent-Replayed': '"true" when this answer replays an earlier call with the same Idempotency-Key' } } };
/** What a call to Adereso can answer (src/messages/adereso-messages.ts). */
const aderesoErrors = [
  errors.accountNotFound(EXAMPLE_ACCOUNT_ID),
  errors.providerNotSupported('A reply inside an Adereso ticket', 'meta', ['adereso']),
  errors.invalidAccountConfig('adereso', ['credentials.token: Required']),
  errors.idempotencyConflict('reply-884213-1'),
  errors.idempotencyInFlight('reply-884213-1'),
  errors.providerAccountMisconfigured('Adereso', 'post the reply in the ticket', 'the token was refused', 'PROVIDER_AUTH_FAILED', '401'),
  errors.providerRecipientRefused('Adereso', 'post the reply in the ticket', 'no such ticket', 'RECIPIENT_NOT_FOUND', '404'),
  errors.providerRequestFailed('Adereso', 'post the reply in the ticket', 'an answer its manual does not describe', 'PROVIDER_ERROR', '500'),
  errors.providerOutcomeUnknown('Adereso', 'post the reply in the ticket', 'PROVIDER_TIMEOUT'),
  errors.providerRetryLater('Adereso', 'post the reply in the ticket', 'PROVIDER_UNAVAILABLE', '503', 30_000),
];

function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const key = request.headers['idempotency-key'];
  const trimmed = typeof key === 'string' ? key.trim() : '';
  if (trimmed.length > 200) throw errors.validation(['Idempotency-Key: at most 200 characters']);
  return trimmed || undefined;
}

function answer(request: FastifyRequest, reply: FastifyReply, result: MessageReply): FastifyReply {
  request.log.info({ statusCode: result.statusCode, replayed: result.replayed }, 'adereso message answered');
  if (result.replayed) void reply.header('idempotent-replayed', 'true');
  return reply.status(result.statusCode).send(result.body);
}

export function aderesoMessageRoutes(ctx: AppContext): FastifyPluginAsync {
  const deps: AderesoMessageDeps = { db: ctx.db, redis: ctx.redis, keyPrefix: ctx.config.queuePrefix, timeoutMs: ctx.config.sendTimeoutMs, queues: ctx.queues, logger: ctx.logger, flow: ctx.config };
  return async (app) => {
    const replyDoc = doc({
      tag,
      summary: 'Adereso: a reply inside a ticket',
      description: '`privateOnly` (default true) answers only a private message of the client, as the manual advises for automatic messages.',
      headers: idempotencyHeader,
      body: jsonBody(ticketReplyBody, { accountId: EXAMPLE_ACCOUNT_ID, ticketId: '884213', text: 'Hola Ana, tu pedido va en camino.' }),
      responses: answered,
      errors: aderesoErrors,
    });
    app.post('/v1/messages/adereso/ticket-reply', replyDoc, async (request, reply) => {
      const call = parseInput(ticketReplyBody, request.body);
      const key = idempotencyKeyOf(request);
      return answer(request, reply, await sendAderesoTicketReply(deps, request.tenantId, call, key));
    });

    const conversationDoc = doc({
      tag,
      summary: 'Adereso: a proactive free-text conversation',
      headers: idempotencyHeader,
      body: jsonBody(conversationBody, { accountId: EXAMPLE_ACCOUNT_ID, phone: '+56 9 1234 5678', userName: 'Ana', text: 'Hola Ana, tu pedido va en camino.', noManualReopen: true }),
      responses: answered,
      errors: [...aderesoErrors, errors.phoneSuppressed('+56912345678'), errors.recipientRejected('PHONE_INVALID', 'The phone "12" is too short to be a phone number.')],
    });
    app.post('/v1/messages/adereso/conversation', conversationDoc, async (request, reply) => {
      const call = parseInput(conversationBody, request.body);
      const key = idempotencyKeyOf(request);
      return answer(request, reply, await openAderesoConversation(deps, request.tenantId, call, key));
    });
  };
}
