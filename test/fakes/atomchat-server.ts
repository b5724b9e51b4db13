/**
 * A local AtomChat: a real HTTP server on 127.0.0.1 speaking the manual's format
 * (shared/seeds/003_5c81c9c86c75ae91.txt) for `POST /api/Template/SendMessage`, and refusing what
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
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type RecordedRequest = { method: string; path: string; headers: IncomingMessage['headers']; body: string; json: unknown };
export type ScriptedReply = { status: number; body: string; headers?: Record<string, string> } | { hang: true } | { drop: true };
export type ScriptOptions = { path?: string; phone?: string; times?: number };

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
  const scripts: { reply: ScriptedReply; path?: string; phone?: string; times: number }[] = [];

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

  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = (req.url ?? '').split('?')[0] ?? '';
      let parsed: unknown;
      try {
        parsed = JSON.parse(body) as unknown;
      } catch {
        parsed = undefined;
      }
      requests.push({ method: req.method ?? '', path, headers: req.headers, body, json: parsed });
      const phone = isRecord(parsed) && typeof parsed.phoneNumber === 'string' ? parsed.phoneNumber : undefined;
      const scripted = scripts.find((s) => s.times > 0 && (s.path === undefined || s.path === path) && (s.phone === undefined || s.phone === phone));
      if (scripted) scripted.times -= 1;
      const out: ScriptedReply =
        scripted?.reply ??
        (req.method === 'POST' && path === ATOMCHAT_SEND_PATH ? send(req.headers, parsed) : { status: 404, body: 'Cannot POST ' + path, headers: { 'content-type': 'text/html' } });
      if ('hang' in out) {
        hanging.add(res);
        return;
      }
      if ('drop' in out) {
        req.socket.destroy();
        return;
      }
      res.writeHead(out.status, { 'content-length': Buffer.byteLength(out.body), ...(out.headers ?? {}) });
      res.end(out.body);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    token: options.token,
    requests,
    deliveries,
    conversations,
    options,
    script: (scriptReply, scriptOptions = {}) =>
      scripts.push({
        reply: scriptReply,
        times: scriptOptions.times ?? 1,
        ...(scriptOptions.path ? { path: scriptOptions.path } : {}),
        ...(scriptOptions.phone ? { phone: scriptOptions.phone } : {}),
      }),
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
