/**
 * A local contacto-multichat: a real HTTP server on 127.0.0.1 speaking the manual's format
 * (contacto-multichat's API manual). Form posts to `/bot/chat_wa/ws/send/`, `/balance/`
 * and `/template/`, answered with the manual's numeric codes: a wrong login/token (2), a user with
 * no chatbot (3), a mobile that is not 57 + 10 digits (4), no balance (5), a template whose text is
 * empty (6), an id_template not in the project (7), a wrong number of `[..]` variables (8), the
 * same message to the same mobile within 60 s (9), a mobile over its marketing cap (10).
 *
 * The manual does not show the reply's shape (its screenshots are lost): by default the body is
 * the bare code (`1`); `replyFormat: 'json'` answers `{"code":1,"message":...,"messageId":...}`.
 *
 * Every request is recorded and `deliveries` lists each message taken, so an end-to-end test can
 * assert each phone got at most one. `script()` forces any reply, a hang or a dropped connection.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { fakeControls, type FakeScriptOptions, type ScriptedReply, startScriptedServer } from './scripted-http-server.js';

export type { ScriptedReply };
export type RecordedRequest = { method: string; path: string; headers: IncomingMessage['headers']; body: string; form: Record<string, string> };
export type ScriptOptions = FakeScriptOptions<'mobile'>;

export type FakeMultichatTemplate = { name: string; body: string; paramCount: number; status: string };
export type MultichatDelivery = {
  mobile: string;
  idTemplate: string;
  variables: string[];
  customField: string | undefined;
  media: string | undefined;
  mediaName: string | undefined;
  messageId: string;
  at: number;
};

export type FakeMultichatOptions = {
  login?: string;
  token?: string;
  /** False answers code 3 (no chatbot / multi-agent assigned). Default true. */
  chatbotAssigned?: boolean;
  /** Balance in messages; each send spends one; at 0 a send gets code 5. Default 1000. */
  balance?: number;
  /** Templates by id_template. Default '101': "Hola {{1}}, su pago de {{2}} vence el {{3}}", approved. */
  templates?: Record<string, FakeMultichatTemplate>;
  /** Mobiles over their marketing cap (code 10). */
  marketingCapped?: string[];
  /** Window for code 9, ms. Default 60 000 (the manual's 60 s). */
  repeatWindowMs?: number;
  /** Shape of each reply: the bare code or a JSON object. Default 'plain'. */
  replyFormat?: 'plain' | 'json';
};

export type FakeMultichatServer = {
  url: string;
  login: string;
  token: string;
  requests: RecordedRequest[];
  deliveries: MultichatDelivery[];
  options: Required<FakeMultichatOptions>;
  /** The next `times` requests (matching `path` / form `mobile`, if given) get `reply`. */
  script(reply: ScriptedReply, options?: ScriptOptions): void;
  close(): Promise<void>;
};

const BASE = '/bot/chat_wa/ws';
const CONCEPTS: Record<number, string> = {
  1: 'Message sent',
  2: 'authentication error',
  3: 'user without multiagent/chatbot',
  4: 'error in the cell phone number to send',
  5: 'no balance or inactive chatbot/multiagent',
  6: 'empty message',
  7: 'id_template does not correspond to the project',
  8: 'the number of variables received does not correspond to the number of variables created in the template',
  9: 'messages repeated 60 seconds',
  10: 'Error: The maximum number of sends to this mobile number in the marketing category has been exceeded.',
};

export async function startFakeMultichatServer(opts: FakeMultichatOptions = {}): Promise<FakeMultichatServer> {
  const options: Required<FakeMultichatOptions> = {
    login: opts.login ?? 'empresa-demo',
    token: opts.token ?? 'multichat-test-token',
    chatbotAssigned: opts.chatbotAssigned ?? true,
    balance: opts.balance ?? 1000,
    templates: opts.templates ?? { '101': { name: 'recordatorio_pago', body: 'Hola {{1}}, su pago de {{2}} vence el {{3}}', paramCount: 3, status: 'APROBADA' } },
    marketingCapped: opts.marketingCapped ?? [],
    repeatWindowMs: opts.repeatWindowMs ?? 60_000,
    replyFormat: opts.replyFormat ?? 'plain',
  };
  const requests: RecordedRequest[] = [];
  const deliveries: MultichatDelivery[] = [];

  const code = (value: number, messageId?: string): ScriptedReply =>
    options.replyFormat === 'plain'
      ? { status: 200, body: String(value), headers: { 'content-type': 'text/html; charset=UTF-8' } }
      : { status: 200, body: JSON.stringify({ code: value, message: CONCEPTS[value], ...(messageId ? { messageId } : {}) }), headers: { 'content-type': 'application/json' } };
  const json = (body: unknown): ScriptedReply => ({ status: 200, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

  function authCode(form: Record<string, string>): number | undefined {
    if (form.login !== options.login || form.token !== options.token) return 2;
    if (!options.chatbotAssigned) return 3;
    return undefined;
  }

  function send(form: Record<string, string>): ScriptedReply {
    const denied = authCode(form);
    if (denied) return code(denied);
    const mobile = form.mobile ?? '';
    if (!/^57\d{10}$/.test(mobile)) return code(4);
    if (options.balance <= 0) return code(5);
    const idTemplate = form.id_template ?? '';
    const template = options.templates[idTemplate];
    if (!template) return code(7);
    if (template.body.trim() === '') return code(6);
    const variables = [...(form.template_variables ?? '').matchAll(/\[([^\]]*)\]/g)].map((m) => m[1] ?? '');
    if (variables.length !== template.paramCount) return code(8);
    if (options.marketingCapped.includes(mobile)) return code(10);
    const now = Date.now();
    const repeated = deliveries.some(
      (d) => d.mobile === mobile && d.idTemplate === idTemplate && d.variables.join('\u0000') === variables.join('\u0000') && now - d.at < options.repeatWindowMs,
    );
    if (repeated) return code(9);
    options.balance -= 1;
    const delivery: MultichatDelivery = {
      mobile,
      idTemplate,
      variables,
      customField: form.custom_field,
      media: form.media,
      mediaName: form.media_name,
      messageId: randomUUID(),
      at: now,
    };
    deliveries.push(delivery);
    return code(1, delivery.messageId);
  }

  function answer(method: string, path: string, form: Record<string, string>): ScriptedReply {
    if (method !== 'POST') return { status: 405, body: 'Method Not Allowed' };
    if (path === `${BASE}/send/`) return send(form);
    if (path === `${BASE}/balance/`) {
      const denied = authCode(form);
      return denied ? code(denied) : json({ saldo: options.balance });
    }
    if (path === `${BASE}/template/`) {
      const denied = authCode(form);
      if (denied) return code(denied);
      const list = Object.entries(options.templates).map(([id, t]) => ({ id_template: id, nombre: t.name, texto: t.body, estado: t.status }));
      return list.length === 0 ? code(4) : json(list);
    }
    return { status: 404, body: '<h1>Not Found</h1>', headers: { 'content-type': 'text/html' } };
  }

  const server = await startScriptedServer((request) => {
    // A form post is the only format read; anything else arrives with no fields (so code 2).
    const isForm = (request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
    const form = isForm ? Object.fromEntries(new URLSearchParams(request.body)) : {};
    requests.push({ ...request, form });
    return { recipient: form.mobile, answer: () => answer(request.method, request.path, form) };
  });

  return {
    ...fakeControls(server, 'mobile'),
    login: options.login,
    token: options.token,
    requests,
    deliveries,
    options,
  };
}
