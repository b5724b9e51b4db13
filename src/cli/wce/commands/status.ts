/**
 * `wce status <id> [--watch]`: a campaign's progress. With --watch it polls, draws a progress
 * bar with the rate and ETA, and exits when the campaign ends, with an exit code saying how:
 * 0 completed, 3 cancelled, 4 paused (needs a person; --through-pauses keeps waiting), 6 the
 * --timeout ran out.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { encode, handler } from '../context.js';
import { EXIT } from '../exit-codes.js';
import { fields } from '../output.js';
import { formatDuration, ProgressLine } from '../progress.js';

type View = {
  id: string;
  name: string;
  status: string;
  statusCode: string | null;
  statusReason: string | null;
  progress: { total: number; done: number; ratePerSecond: number; etaSeconds: number | null; counts: Record<string, number> };
};

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a number of seconds above 0');
  return n;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function summary(v: View): string {
  const p = v.progress;
  return `${p.done}/${p.total} done · ${p.ratePerSecond.toFixed(1)}/s · ETA ${formatDuration(p.etaSeconds)} · ${v.status}`;
}

export function exitCodeFor(v: View, throughPauses: boolean): number | null {
  if (v.status === 'completed') return EXIT.ok;
  if (v.status === 'cancelled') return EXIT.campaignCancelled;
  if (v.status === 'paused' && !throughPauses) return EXIT.campaignPaused;
  return null;
}

export function registerStatusCommand(program: Command): void {
  program
    .command('status <id>')
    .description("a campaign's progress; --watch follows it to the end")
    .option('--watch', 'poll until the campaign ends; the exit code says how it ended')
    .option('--interval <seconds>', 'seconds between polls (default 2)', seconds)
    .option('--timeout <seconds>', 'give up watching after this long (exit 6)', seconds)
    .option('--through-pauses', 'keep watching while the campaign is paused')
    .action(
      handler(async (ctx, o: { watch?: boolean; interval?: number; timeout?: number; throughPauses?: boolean }, id: string) => {
        const client = await ctx.api();
        const read = () => client.json<View>('GET', `/v1/campaigns/${encode(id)}`);
        let view = await read();
        if (!o.watch) {
          ctx.out.result(view, () => [
            ...fields([['campaign', `${view.name} (${view.id})`], ['status', view.status], ['reason', view.statusReason], ['progress', summary(view)]]),
          ]);
          return EXIT.ok;
        }
        const progress = new ProgressLine(!ctx.out.json);
        const deadline = o.timeout ? Date.now() + o.timeout * 1000 : Infinity;
        for (;;) {
          progress.update(view.progress.total ? view.progress.done / view.progress.total : 0, summary(view));
          const code = exitCodeFor(view, o.throughPauses === true);
          if (code !== null) {
            progress.update(view.progress.total ? view.progress.done / view.progress.total : 1, summary(view), true);
            progress.done();
            const counts = Object.entries(view.progress.counts).filter(([, n]) => n > 0).map(([s, n]) => `${s} ${n}`).join(', ');
            ctx.out.result(view, () => [`campaign ${view.id} ${view.status}${view.statusReason ? `: ${view.statusReason}` : ''}`, counts]);
            return code;
          }
          if (Date.now() >= deadline) {
            progress.done();
            ctx.out.result(view, () => `campaign ${view.id} still ${view.status} after ${o.timeout}s`);
            return EXIT.timeout;
          }
          await sleep((o.interval ?? 2) * 1000);
          view = await read();
        }
      }),
    );
}
