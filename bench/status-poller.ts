/**
 * bench:million's dashboard: polls GET /v1/campaigns/:id (POLL_URL, with POLL_AUTHORIZATION)
 * every POLL_EVERY_MS while its parent says so, in a process of its own, and reports each
 * answer's latency and the campaign's progress over IPC. Its own process, so the latency is the
 * API's and not the bench process's: that one also runs the sandbox provider, whose event loop
 * (and its collector, holding a million phones' counts) a poll's answer would otherwise wait on.
 */
const url = process.env.POLL_URL ?? '';
const authorization = process.env.POLL_AUTHORIZATION ?? '';
const everyMs = Number(process.env.POLL_EVERY_MS ?? 250);

/** latencyMs: as this process measured it; apiMs and authMs: the API's own time and its key check's, from its Server-Timing header. */
export type PollReport = { latencyMs: number; apiMs: number | null; authMs: number | null; status: string; done: number; total: number };

let polling = false;
let stopping = false;
process.on('message', (message: { polling?: boolean; stop?: boolean }) => {
  if (message.polling !== undefined) polling = message.polling;
  if (message.stop) stopping = true;
});
process.send?.({ ready: true });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
while (!stopping) {
  if (!polling) {
    await sleep(20);
    continue;
  }
  const started = performance.now();
  const response = await fetch(url, { headers: { authorization } });
  const body = (await response.json()) as { status: string; progress?: { done: number; total: number } };
  const latencyMs = performance.now() - started;
  const timing = response.headers.get('server-timing') ?? '';
  const apiMs = /app;dur=([\d.]+)/.exec(timing)?.[1];
  const authMs = /auth;dur=([\d.]+)/.exec(timing)?.[1];
  const report: PollReport = { latencyMs, apiMs: apiMs === undefined ? null : Number(apiMs), authMs: authMs === undefined ? null : Number(authMs), status: body.status, done: body.progress?.done ?? 0, total: body.progress?.total ?? 0 };
  process.send?.(report);
  await sleep(Math.max(0, everyMs - (performance.now() - started)));
}
process.disconnect?.();
