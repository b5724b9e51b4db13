/**
 * What every provider's HTTP test (test/providers/*-http.test.ts) shares:
 * - a ledger of the outcomes its exchanges produced: after the file, none shows a secret, and
 *   every outcome kind the file names was produced (so a scenario cannot silently stop running);
 * - the transport scenarios every provider answers alike, through the real sendHttp: a hanging
 *   answer or a dropped connection is ambiguous (the message may have gone out), a host that
 *   refuses the connection is a retry (nothing was sent).
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, expect, it } from 'vitest';
import type { OutcomeKind, SendOutcome } from '../../src/providers/types.js';
import type { ScriptedReply } from '../fakes/scripted-http-server.js';

/** Returns `note`, which records an outcome and gives it back. */
export function outcomeLedger(secrets: () => readonly string[], kinds?: readonly OutcomeKind[]): (outcome: SendOutcome) => SendOutcome {
  const seen: SendOutcome[] = [];
  afterAll(() => {
    expect(seen.length).toBeGreaterThan(0);
    if (kinds) expect([...new Set(seen.map((o) => o.kind))].sort()).toEqual([...kinds].sort());
    for (const outcome of seen) for (const secret of secrets()) expect(JSON.stringify(outcome)).not.toContain(secret);
  });
  return (outcome) => {
    seen.push(outcome);
    return outcome;
  };
}

/** The base URL of a local port nothing listens on any more. */
export async function refusingUrl(): Promise<string> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return `http://127.0.0.1:${port}`;
}

export type TransportSend = (options: { timeoutMs?: number; baseUrl?: string }) => Promise<SendOutcome>;

export function transportScenarios(fake: () => { script(reply: ScriptedReply): void }, send: TransportSend): void {
  it('a hanging answer is ambiguous (the message may have gone out), and so is a dropped connection', async () => {
    fake().script({ hang: true });
    expect(await send({ timeoutMs: 300 })).toMatchObject({ kind: 'ambiguous', code: 'PROVIDER_TIMEOUT' });
    fake().script({ drop: true });
    expect(await send({})).toMatchObject({ kind: 'ambiguous', code: 'PROVIDER_TIMEOUT' });
  });

  it('a refused connection is retried (nothing was sent)', async () => {
    expect(await send({ baseUrl: await refusingUrl() })).toMatchObject({ kind: 'retry', code: 'PROVIDER_UNREACHABLE', providerCode: 'ECONNREFUSED' });
  });
}
