/**
 * A local Adereso: a real HTTP server on 127.0.0.1 speaking the manual's format
 * (Adereso's API manual) for `/v2/message/hsm/`, `/v2/message/create_conversation/`
 * and `/v2/message/`, and refusing what the manual says Adereso refuses: no or wrong
 * `Authorization: Key` (401), a missing field or unknown account number (400), an HSM it does not
 * have (404), fewer parameters than the HSM needs (400 "Missing parameters for selected HSM"), an
 * account not allowed proactive messages (202), a ticket with no (private) message (404 / 403).
 *
 * Every request is recorded, and `deliveries` lists each HSM Adereso took, so an end-to-end test
 * can assert each phone got at most one. `script()` forces any reply (or a hang, or a dropped
 * connection) for the next request(s), optionally only for one path or one phone.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { fakeControls, type FakeScriptOptions, parseJsonBody, type ScriptedReply, startScriptedServer } from './scripted-http-server.js';

export type { ScriptedReply };
export type RecordedRequest = { method: string; path: string; headers: IncomingMessage['headers']; body: string; json: unknown };
export type ScriptOptions = FakeScriptOptions<'phone'>;

export type AderesoDelivery = { phone: string; account: string; name: string; parameters: string[]; messageId: string; ticketId: string };
export type FakeAderesoTicket = { clientId: string; email: string; hasMessages: boolean; hasPrivateMessage: boolean };

export type FakeAderesoOptions = {
  /** The API token expected as `Authorization: Key <token>`. Default 'adereso-test-token'. */
  token?: string;
  /** WhatsApp Business numbers (`account`) the company has. Default ['56900000000']. */
  accounts?: string[];
  /** Adereso account ids (`account_id`), each allowed proactive messages or not. Default { au2geg72gs: true }. */
  accountIds?: Record<string, boolean>;
  /** Registered HSMs: element_name -> parameter count. Default { template_name: 3 }. */
  templates?: Record<string, number>;
  /** Tickets by id. Default one ticket, 583dcb2855d0a46e438d0206, with a private message. */
  tickets?: Record<string, FakeAderesoTicket>;
  /** Answer errors with HTTP 200 and the error only in the body's `status` (the two can differ). Default false. */
  errorsAsHttp200?: boolean;
};

export type FakeAderesoServer = {
  url: string;
  token: string;
  requests: RecordedRequest[];
  deliveries: AderesoDelivery[];
  options: Required<FakeAderesoOptions>;
  /** The next `times` requests (matching `path` / body `phone`, if given) get `reply`. */
  script(reply: ScriptedReply, options?: ScriptOptions): void;
  close(): Promise<void>;
};

const PATHS = { hsm: '/v2/message/hsm/', conversation: '/v2/message/create_conversation/', reply: '/v2/message/' } as const;
export const ADERESO_PROACTIVE_REFUSAL =
  'This account doesnot allow proactive messaging. Please configure at least one account to be allowed to send proactive messages in Admin / Channels / Whatsapp select account and then Configurations > Enable Proactive Messaging';

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');
const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const nonEmpty = (value: unknown): value is string => typeof value === 'string' && value.trim() !== '';

export async function startFakeAderesoServer(opts: FakeAderesoOptions = {}): Promise<FakeAderesoServer> {
  const options: Required<FakeAderesoOptions> = {
    token: opts.token ?? 'adereso-test-token',
    accounts: opts.accounts ?? ['56900000000'],
    accountIds: opts.accountIds ?? { au2geg72gs: true },
    templates: opts.templates ?? { template_name: 3 },
    tickets: opts.tickets ?? { '583dcb2855d0a46e438d0206': { clientId: '546b9b2720a9f1301050fec3', email: 'carlos@soto.cl', hasMessages: true, hasPrivateMessage: true } },
    errorsAsHttp200: opts.errorsAsHttp200 ?? false,
  };
  const requests: RecordedRequest[] = [];
  const deliveries: AderesoDelivery[] = [];

  const reply = (status: number, body: Record<string, unknown>): ScriptedReply => ({
    status: status !== 200 && options.errorsAsHttp200 ? 200 : status,
    body: JSON.stringify({ status, ...body }),
    headers: { 'content-type': 'application/json' },
  });
  const missingField = () => reply(400, { msg: 'Incomplete or missing field' });

  function hsm(body: Record<string, unknown>): ScriptedReply {
    const { account, phone, name, parameters } = body;
    if (!nonEmpty(account) || !nonEmpty(phone) || !nonEmpty(name) || !Array.isArray(parameters)) return missingField();
    if (!options.accounts.includes(account) || !/^\d{8,15}$/.test(phone)) return missingField();
    const needed = options.templates[name];
    if (needed === undefined) return reply(404, { msg: 'HSM not registered' });
    if (parameters.length < needed || !parameters.every((p) => typeof p === 'string')) return reply(400, { msg: 'Missing parameters for selected HSM' });
    const delivery = { phone, account, name, parameters: parameters as string[], messageId: hex(10), ticketId: hex(12) };
    deliveries.push(delivery);
    return reply(200, { message_id: delivery.messageId, ticket_id: delivery.ticketId });
  }

  function conversation(body: Record<string, unknown>): ScriptedReply {
    const { phone, user_name: userName, account_id: accountId, message } = body;
    if (!nonEmpty(phone) || !nonEmpty(userName) || !nonEmpty(accountId) || !nonEmpty(message)) return missingField();
    const proactive = options.accountIds[accountId];
    if (proactive === undefined) return missingField();
    if (!proactive) return reply(202, { msg: ADERESO_PROACTIVE_REFUSAL });
    return reply(200, { ticket_id: hex(12) });
  }

  function ticketReply(body: Record<string, unknown>): ScriptedReply {
    const { ticket_id: ticketId, message, private_only: privateOnly } = body;
    if (!nonEmpty(ticketId) || !nonEmpty(message)) return missingField();
    const ticket = options.tickets[ticketId];
    if (!ticket || !ticket.hasMessages || (nonEmpty(body.client_id) && body.client_id !== ticket.clientId)) return reply(404, { msg: 'NOT FOUND' });
    if (privateOnly !== false && !ticket.hasPrivateMessage) return reply(403, { msg: 'FORBIDDEN' });
    return reply(200, { message: `Message sent to ${ticket.email}` });
  }

  function answer(method: string, path: string, headers: IncomingMessage['headers'], json: unknown): ScriptedReply {
    const route = Object.values(PATHS).find((p) => p === path);
    if (method !== 'POST' || !route) return { status: 404, body: '<h1>Not Found</h1>', headers: { 'content-type': 'text/html' } };
    if (headers.authorization !== `Key ${options.token}`) return reply(401, { msg: 'Authentication credentials were not provided or are invalid.' });
    if (!isRecord(json)) return missingField();
    if (path === PATHS.hsm) return hsm(json);
    if (path === PATHS.conversation) return conversation(json);
    return ticketReply(json);
  }

  const server = await startScriptedServer((request) => {
    const json = parseJsonBody(request.body);
    requests.push({ ...request, json });
    return { recipient: isRecord(json) && typeof json.phone === 'string' ? json.phone : undefined, answer: () => answer(request.method, request.path, request.headers, json) };
  });

  return {
    ...fakeControls(server, 'phone'),
    token: options.token,
    requests,
    deliveries,
    options,
  };
}
