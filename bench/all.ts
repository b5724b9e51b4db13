/**
 * npm run bench — runs every benchmark in turn and writes BENCHMARKS.md: the machine, the date,
 * and each bench's figures beside its baseline (the ratio is in each table). A bench that leaves
 * a results file (bench/support.ts `report`) gives its table as Markdown; the others' printed
 * summaries are kept as they printed them. Everything below the line
 * `<!-- notes: kept by npm run bench -->` in BENCHMARKS.md (analysis, earlier runs) is kept.
 *
 * BENCH_ONLY=send,rate runs some of them; sizes come from each bench's own variables.
 * BENCH_RESULTS_FROM=<dir> runs none and writes BENCHMARKS.md from the results files benches
 * left there (each run by hand with BENCH_RESULTS_DIR=<dir>).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { redisConnection } from '../src/redis-client.js';
import { BENCH_DATABASE_URL, REDIS_URL, ROOT, type BenchSection } from './support.js';

const BENCHES = ['ingest', 'send', 'rate', 'pool', 'webhooks', 'console', 'funnel', 'bullmq', 'million'] as const;
const ONLY = process.env.BENCH_ONLY?.split(',');
const MARKER = '<!-- notes: kept by npm run bench -->';
const OUTPUT = resolve(ROOT, process.env.BENCH_OUTPUT ?? 'BENCHMARKS.md');

/** Runs `npm run bench:<name>`, echoing its output; resolves with what it printed. */
function runBench(name: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn('npm', ['run', '-s', `bench:${name}`], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      process.stdout.write(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    child.on('exit', (code) => done({ code, output }));
  });
}

async function machine(): Promise<string> {
  const db = new pg.Client({ connectionString: BENCH_DATABASE_URL.replace(/\/[^/]*$/, '/postgres') });
  await db.connect();
  const pgVersion = (await db.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ?? '?';
  await db.end();
  const redis = redisConnection(REDIS_URL);
  const redisVersion = /^redis_version:(.+)$/m.exec(await redis.info('server'))?.[1]?.trim() ?? '?';
  redis.disconnect();
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model ?? 'CPU'}, ${Math.round(totalmem() / 2 ** 30)} GB, Node ${process.version}, PostgreSQL ${pgVersion} and Redis ${redisVersion} on the same host; 1-min load average ${(loadavg()[0] ?? 0).toFixed(1)} when the run started`;
}

function markdownTable(rows: (string | number)[][]): string {
  const line = (r: (string | number)[]) => `| ${r.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`;
  const [head, ...rest] = rows;
  if (!head) return '';
  return [line(head), `|${head.map(() => '---').join('|')}|`, ...rest.map(line)].join('\n');
}

function section(name: string, dir: string, output: string, code: number | null): string {
  const file = join(dir, `${name}.json`);
  if (code !== 0) return `## bench:${name}\n\n**Failed** (exit ${code}); its output ended:\n\n\`\`\`text\n${output.trim().split('\n').slice(-15).join('\n')}\n\`\`\``;
  if (!existsSync(file)) {
    const summary = output.slice(Math.max(0, output.lastIndexOf('\nbench:'))).trim() || output.trim().split('\n').slice(-20).join('\n');
    return `## bench:${name}\n\n\`\`\`text\n${summary}\n\`\`\``;
  }
  const s = JSON.parse(readFileSync(file, 'utf8')) as BenchSection;
  const notes = s.notes?.length ? `\n\n\`\`\`text\n${s.notes.join('\n')}\n\`\`\`` : '';
  return `## ${s.title}\n\n${s.about}\n\n${markdownTable(s.rows)}${notes}`;
}

const started = new Date();
const header = await machine();
const from = process.env.BENCH_RESULTS_FROM;
const dir = from ?? mkdtempSync(join(tmpdir(), 'wce-bench-results-'));
const sections: string[] = [];
for (const name of BENCHES) {
  if (ONLY && !ONLY.includes(name)) continue;
  if (from && !existsSync(join(from, `${name}.json`))) continue;
  const { code, output } = from ? { code: 0, output: '' } : await runBench(name, { BENCH_RESULTS_DIR: dir });
  sections.push(section(name, dir, output, code));
}
if (!from) rmSync(dir, { recursive: true, force: true });
const kept = existsSync(OUTPUT) ? readFileSync(OUTPUT, 'utf8') : '';
const notes = kept.includes(MARKER) ? kept.slice(kept.indexOf(MARKER)) : `${MARKER}\n`;
writeFileSync(
  OUTPUT,
  `# Benchmarks\n\nWritten by \`npm run bench\` on ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC${from ? ' from results files of benches run just before' : `, ${((Date.now() - started.getTime()) / 60_000).toFixed(0)} minutes`}. ` +
    `Machine: ${header}. Every figure stands beside a baseline measured in the same run; the ratios are the figures to compare, as absolute times drift with the machine's load.\n\n` +
    `${sections.join('\n\n')}\n\n${notes}`,
);
console.log(`\nwrote ${OUTPUT}`);
process.exit(0);
