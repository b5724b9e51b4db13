/**
 * A local AtomChat: a real HTTP server on 127.0.0.1 speaking the manual's format
 * (AtomChat's API manual) for `POST /api/Template/SendMessage`, and refusing what
 * the manual says AtomChat refuses: a public token with no channel (400, not 401), a body with no
 * data (400 "No hay datos para enviar"), a template without id or message (400 "No data to send"),
 * a template whose channel is not connected (400), missing named params (400 "Missing params"),
 * the plan's conversation limit (401). A number with a conversation gets "Sent" and its id; a new
 * number gets "Pending" (or, with `newNumbersAs202`, the manual's 202 body).
 *
 * Every request is recorded and `deliveries` lists each template taken, so an end-to-end test can
 * assert each phone got at most one. `script()` forces any reply, a hang or a dropped connection.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { fakeControls, type FakeScriptOptions, parseJsonBody, type ScriptedReply, startScriptedServer } from './scripted-http-server.js';

export type { ScriptedReply };
export type RecordedRequest = { method: string; path: string; headers: IncomingMessage['headers']; body: string; json: unknown };
export type ScriptOptions = FakeScriptOptions<'phone'>;

export type FakeAtomchatTemplate = {
  /** Names the template's `params` must carry. */
  paramNames: string[];
  /** The template's text; empty answers "No data to send". Default 'Hola'. */
  message?: string;
  /** False answers "channel ... not configured yet". Default true. */
  channelConfigured?: boolean;
};

export type AtomchatDelivery = {
  templateId: string;
  phoneNumber: string;
  clientName: unknown;
  groupName: unknown;
  assign: unknown;
  params: Record<string, unknown>;
  result: 'Sent' | 'Pending';
  conversationId: string;
};

export type FakeAtomchatOptions = {
  /** The channel's public token. Default 'atomchat-public-token'. */
  token?: string;
  /** Templates by templateId. Default 'tpl-1' with params nombre, monto. */
  templates?: Record<string, FakeAtomchatTemplate>;
  /** New conversations the plan allows before 401. Default unlimited. */
  conversationLimit?: number;
  /** Answer a new number with the manual's 202 body instead of 200 "Pending". Default false. */
  newNumbersAs202?: boolean;
};

export type FakeAtomchatServer = {
  url: string;
  token: string;
  requests: RecordedRequest[];
  deliveries: AtomchatDelivery[];
  /** Phone (digits) -> conversation id, for numbers that already have a conversation. */
  conversations: Map<string, string>;
  options: Required<FakeAtomchatOptions>;
  /** The next `times` requests (matching `path` / body `phoneNumber`, if given) get `reply`. */
  script(reply: ScriptedReply, options?: ScriptOptions): void;
  close(): Promise<void>;
};

export const ATOMCHAT_SEND_PATH = '/api/Template/SendMessage';
const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const json = (status: number, body: unknown): ScriptedReply => ({ status, body: JSON.stringify(body), headers: { 'content-type': 'application/json; charset=utf-8' } });
const badFormat = (context: Record<string, unknown>, message: string, path: string[]): ScriptedReply =>
  json(400, { code: 400, body: { context, message, path, type: 'Bad format' } });

export async function startFakeAtomchatServer(opts: FakeAtomchatOptions = {}): Promise<FakeAtomchatServer> {
  const options: Required<FakeAtomchatOptions> = {
    token: opts.token ?? 'atomchat-public-token',
    templates: opts.templates ?? { 'tpl-1': { paramNames: ['nombre', 'monto'] } },
    conversationLimit: opts.conversationLimit ?? Number.POSITIVE_INFINITY,
    newNumbersAs202: opts.newNumbersAs202 ?? false,
  };
  const requests: RecordedRequest[] = [];
  const deliveries: AtomchatDelivery[] = [];
  const conversations = new Map<string, string>();

  function send(headers: IncomingMessage['headers'], body: unknown): ScriptedReply {
    const authorization = headers.authorization ?? '';
    if (authorization !== `Bearer ${options.token}`) {
      // The manual's body, echoing what came in the header.
      return json(400, {
        context: { key: 'Authorization', label: 'headers.authorization', value: authorization },
        message: `Cannot find a channel associated with the public token ${authorization}`,
        path: ['headers.authorization'],
        type: 'Bad format',
      });
    }
    if (!isRecord(body) || typeof body.templateId !== 'string' || typeof body.phoneNumber !== 'string' || !/^\d{8,15}$/.test(body.phoneNumber)) {
      return json(400, { success: false, message: 'No hay datos para enviar' });
    }
    const template = options.templates[body.templateId];
    if (!template || !(template.message ?? 'Hola')) {
      return badFormat({ key: 'Body', label: ['template.appId', 'template.message'] }, 'No data to send', ['template.appId', 'template.message']);
    }
    if (template.channelConfigured === false) {
      return badFormat(
        { value: 'disconnected', key: 'Channel', label: 'channel.status' },
        'The channel associated to the template is not configured yet, please contact the support team',
        ['channel.status'],
      );
    }
    const params = isRecord(body.params) ? body.params : {};
    const missing = template.paramNames.filter((name) => typeof params[name] !== 'string' || params[name] === '');
    if (missing.length > 0) return badFormat({ key: 'Body', label: 'body.params' }, `Missing params:[${missing.join(',')}] `, ['body.params']);

    const phone = body.phoneNumber;
    let conversationId = conversations.get(phone);
    const existing = conversationId !== undefined;
    if (!existing) {
      if (conversations.size >= options.conversationLimit) {
        return json(401, { success: false, message: 'The client has reached conversations limit', conversationId: null, status: 401 });
      }
      conversationId = randomUUID();
      conversations.set(phone, conversationId);
    }
    const id = conversationId as string;
    deliveries.push({
      templateId: body.templateId,
      phoneNumber: phone,
      clientName: body.clientName,
      groupName: body.groupName,
      assign: body.assign,
      params,
      result: existing ? 'Sent' : 'Pending',
      conversationId: id,
    });
    if (existing) return json(200, { success: true, message: 'Sent', data: { conversation_id: id } });
    return options.newNumbersAs202 ? json(202, { success: false, conversationId: id, status: 202 }) : json(200, { success: true, message: 'Pending' });
  }

  const server = await startScriptedServer((request) => {
    const json = parseJsonBody(request.body);
    requests.push({ ...request, json });
    return { recipient: isRecord(json) && typeof json.phoneNumber === 'string' ? json.phoneNumber : undefined, answer: () => (request.method === 'POST' && request.path === ATOMCHAT_SEND_PATH ? send(request.headers, json) : { status: 404, body: 'Cannot POST ' + request.path, headers: { 'content-type': 'text/html' } }) };
  });

  return {
    ...fakeControls(server, 'phone'),
    token: options.token,
    requests,
    deliveries,
    conversations,
    options,
  };
}
