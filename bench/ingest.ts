/**
 * Recipient ingest against the floor Postgres sets: psql's \copy of the same rows, already
 * normalized into the recipients table's columns, into the same table.
 *
 * Builds its own scratch database from the migrations, writes a spreadsheet-like CSV (";",
 * phone + 2 variables, phones written five ways, ~1% bad rows), then alternates \copy and the
 * ingest (run in a child process, so its peak RSS is its own), best of BENCH_RUNS (2) each.
 * Prints rows/s for both, the ratio, the ingest's CPU time and peak RSS, then drops everything
 * it made.
 *
 *   npm run bench:ingest                 (BENCH_ROWS=200000 BENCH_RUNS=1 for a quick run)
 *
 * Targets: >= 150k validated rows/s, >= 0.4x of \copy, peak RSS < 256 MB.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createDatabase } from '../src/db/database.js';
import { applyMigrations } from '../src/db/schema-engine.js';
import { ingestRecipients, type IngestSummary } from '../src/ingest/ingest-recipients.js';
import { normalizePhone, normalizePhoneWithLibrary } from '../src/phones/normalize-phone.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const BATCH_ROWS = Number(process.env.BENCH_BATCH_ROWS ?? 5_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 2);
const SERVER_URL = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

type ChildResult = { summary: IngestSummary; seconds: number; cpuSeconds: number; peakRssBytes: number; startRssBytes: number };

if (process.argv[2] === '--child') {
  await runIngestChild(process.argv.slice(3));
} else {
  await main();
}

async function main(): Promise<void> {
  const name = `wce_bench_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  const dir = await mkdtemp(join(tmpdir(), 'wce-bench-ingest-'));
  console.log(`scratch database ${name}, files in ${dir}`);
  const db = createDatabase(databaseUrl, { max: 2 });
  try {
    await applyMigrations(databaseUrl);
    const tenant = await db.prisma.tenant.create({ data: { name: 'bench' } });
    const account = await db.prisma.providerAccount.create({ data: { tenantId: tenant.id, provider: 'sandbox', name: 'bench' } });
    const template = await db.prisma.template.create({
      data: { tenantId: tenant.id, accountId: account.id, name: 'bench', body: 'Hola {{1}}, tu saldo es {{2}}', paramCount: 2 },
    });
    const campaign = (label: string) =>
      db.prisma.campaign.create({ data: { tenantId: tenant.id, accountId: account.id, templateId: template.id, name: label } });
    const baselineCampaign = await campaign('baseline');
    const ingestCampaign = await campaign('ingest');
    const baselineUpload = await db.prisma.upload.create({
      data: { tenantId: tenant.id, campaignId: baselineCampaign.id, contentType: 'text/tab-separated-values' },
    });

    const csvPath = join(dir, 'recipients.csv');
    const tsvPath = join(dir, 'recipients.tsv');
    const started = performance.now();
    const generated = await generate(csvPath, tsvPath, { tenantId: tenant.id, campaignId: baselineCampaign.id, uploadId: baselineUpload.id });
    const csvBytes = (await stat(csvPath)).size;
    console.log(`generated ${ROWS.toLocaleString('en')} rows (${mb(csvBytes)}, ${generated.bad.toLocaleString('en')} bad) in ${seconds(started)} s`);

    // Alternate \copy and ingest, best of RUNS each: other work on the machine moves single runs a lot.
    const copyTimes: number[] = [];
    const children: ChildResult[] = [];
    for (let run = 0; run < RUNS; run++) {
      await freshTable(db);
      copyTimes.push(timeCopy(databaseUrl, tsvPath));
      await freshTable(db);
      children.push(await runChild([databaseUrl, csvPath, tenant.id, ingestCampaign.id]));
    }
    const stored = await db.pool.query<{ count: string }>('SELECT count(*) FROM recipients WHERE campaign_id = $1', [ingestCampaign.id]);
    const copySeconds = Math.min(...copyTimes);
    const copyRows = generated.good;
    const child = children.reduce((best, c) => (c.seconds < best.seconds ? c : best));

    const phones = phoneSample(200_000);
    const fastRate = rate(phones.length, () => phones.forEach((p) => normalizePhone(p, 'CL')));
    const libraryRate = rate(phones.length, () => phones.forEach((p) => normalizePhoneWithLibrary(p, 'CL')));

    const copyRate = copyRows / copySeconds;
    const ingestRate = child.summary.totalRows / child.seconds;
    const { summary } = child;
    console.log('');
    console.log(`runs (s)           \\copy ${copyTimes.map((t) => t.toFixed(2)).join(', ')}; ingest ${children.map((c) => c.seconds.toFixed(2)).join(', ')}`);
    console.log(`psql \\copy        ${copyRows.toLocaleString('en')} pre-normalized rows in ${copySeconds.toFixed(2)} s: ${k(copyRate)} rows/s`);
    console.log(
      `ingestRecipients  ${summary.totalRows.toLocaleString('en')} rows in ${child.seconds.toFixed(2)} s: ${k(ingestRate)} validated rows/s` +
        ` (accepted ${summary.accepted.toLocaleString('en')}, rejected ${summary.rejected.toLocaleString('en')}, duplicates ${summary.duplicates.toLocaleString('en')}; stored ${Number(stored.rows[0]?.count).toLocaleString('en')})`,
    );
    console.log(`ratio ingest/\\copy ${(ingestRate / copyRate).toFixed(2)}x`);
    console.log(
      `ingest CPU         ${child.cpuSeconds.toFixed(2)} s in the ingest process (${k(summary.totalRows / child.cpuSeconds)} rows per CPU second)`,
    );
    const peak = Math.max(...children.map((c) => c.peakRssBytes));
    console.log(`peak RSS           ${mb(peak)} (${mb(child.startRssBytes)} before the ingest started)`);
    console.log(`phones alone       ${k(fastRate)}/s with the fast path, ${k(libraryRate)}/s through libphonenumber-js (max)`);
    console.log(`rejected by reason ${JSON.stringify(summary.rejectedByReason)}`);
    console.log('targets            >= 150k rows/s, >= 0.40x, peak RSS < 256 MB');
  } finally {
    await db.close();
    await dropDatabase(name);
    await rm(dir, { recursive: true, force: true });
  }
}

/** Writes the CSV the ingest reads and, for \copy, the TSV of the rows it should store. */
async function generate(csvPath: string, tsvPath: string, ids: { tenantId: string; campaignId: string; uploadId: string }) {
  const csv = createWriteStream(csvPath);
  const tsv = createWriteStream(tsvPath);
  const names = ['Ana', 'José Pérez', 'María José Muñoz', 'Iñaki', 'Pérez; Ana', 'Ñuñoa Ltda.', 'Sofía', 'Benjamín'];
  let csvText = 'Teléfono;Nombre;Monto\n';
  let tsvText = '';
  let good = 0;
  let bad = 0;
  for (let i = 0; i < ROWS; i++) {
    const subscriber = 10_000_000 + ((i * 7919) % 89_999_999); // distinct for every i below 89,999,999
    const digits = `9${subscriber}`;
    const e164 = `+56${digits}`;
    const s = String(subscriber);
    let phone: string;
    switch (i % 5) {
      case 0: phone = e164; break;
      case 1: phone = digits; break;
      case 2: phone = `+56 9 ${s.slice(0, 4)} ${s.slice(4)}`; break;
      case 3: phone = `56${digits}`; break;
      default: phone = `(9) ${s.slice(0, 4)}-${s.slice(4)}`;
    }
    const name = names[i % names.length] as string;
    let amount = String((i * 37) % 100_000);
    // About 1% bad rows: scientific notation, too short, an empty variable, a repeated phone.
    const kind = i % 400;
    if (kind === 7) phone = `5.6${digits.slice(0, 5)}E+10`;
    else if (kind === 101) phone = digits.slice(0, 5);
    else if (kind === 211) amount = '';
    else if (kind === 307 && i > 0) phone = `+56 9 ${String(10_000_000 + (((i - 1) * 7919) % 89_999_999))}`;
    const isBad = kind === 7 || kind === 101 || kind === 211 || (kind === 307 && i > 0);
    const quoted = name.includes(';') ? `"${name}"` : name;
    csvText += `${phone};${quoted};${amount}\n`;
    if (isBad) bad++;
    else {
      good++;
      tsvText += `${ids.tenantId}\t${ids.campaignId}\t${ids.uploadId}\t${e164}\t${copyText(phone)}\t${i + 2}\t${copyText(JSON.stringify([name, amount]))}\n`;
    }
    if (csvText.length > 1 << 20) {
      await write(csv, csvText);
      await write(tsv, tsvText);
      csvText = '';
      tsvText = '';
    }
  }
  await write(csv, csvText);
  await write(tsv, tsvText);
  await Promise.all([close(csv), close(tsv)]);
  return { good, bad };
}

/** An empty recipients table and a checkpoint, so each run starts alike. */
async function freshTable(db: ReturnType<typeof createDatabase>): Promise<void> {
  // CASCADE: tables that reference recipients (recipient_events, ...) are empty here too.
  await db.pool.query('TRUNCATE recipients, rejected_rows CASCADE');
  await db.pool.query('CHECKPOINT');
}

/** Seconds psql's \\copy takes to load the TSV. */
function timeCopy(databaseUrl: string, tsvPath: string): number {
  const started = performance.now();
  const copied = spawnSync(
    'psql',
    ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', databaseUrl, '-c', `\\copy recipients (tenant_id, campaign_id, upload_id, phone, raw_phone, line, variables) FROM '${tsvPath}'`],
    { encoding: 'utf8' },
  );
  if (copied.status !== 0) throw new Error(`psql \\copy failed: ${copied.stderr}`);
  return (performance.now() - started) / 1000;
}

async function runIngestChild([databaseUrl, csvPath, tenantId, campaignId]: string[]): Promise<void> {
  const db = createDatabase(databaseUrl as string, { max: 2 });
  try {
    const startRssBytes = process.memoryUsage().rss;
    const startCpu = process.cpuUsage();
    const started = performance.now();
    const summary = await ingestRecipients(db, createReadStream(csvPath as string, { highWaterMark: 64 * 1024 }), {
      tenantId: tenantId as string,
      campaignId: campaignId as string,
      format: 'csv',
      filename: 'recipients.csv',
      defaultCountry: 'CL',
      paramCount: 2,
      batchRows: BATCH_ROWS,
    });
    const result: ChildResult = {
      summary,
      seconds: (performance.now() - started) / 1000,
      cpuSeconds: (() => {
        const cpu = process.cpuUsage(startCpu);
        return (cpu.user + cpu.system) / 1e6;
      })(),
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      startRssBytes,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await db.close();
  }
}

function runChild(args: string[]): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').at(-1);
      if (code !== 0 || !line) reject(new Error(`the ingest child exited with ${code}: ${out}`));
      else resolve(JSON.parse(line) as ChildResult);
    });
  });
}

function phoneSample(count: number): string[] {
  const phones: string[] = [];
  for (let i = 0; i < count; i++) {
    const s = String(10_000_000 + ((i * 7919) % 89_999_999));
    phones.push([`+569${s}`, `9${s}`, `+56 9 ${s.slice(0, 4)} ${s.slice(4)}`, `569${s}`, `(9) ${s.slice(0, 4)}-${s.slice(4)}`][i % 5] as string);
  }
  return phones;
}

async function dropDatabase(name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: SERVER_URL });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/** A value in COPY's text format, as psql \\copy reads it. */
function copyText(value: string): string {
  return value.replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c] as string);
}

function rate(count: number, run: () => void): number {
  const started = performance.now();
  run();
  return count / ((performance.now() - started) / 1000);
}

function write(stream: WriteStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => stream.write(text, (error) => (error ? reject(error) : resolve())));
}

function close(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => stream.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

function seconds(started: number): string {
  return ((performance.now() - started) / 1000).toFixed(1);
}

function k(perSecond: number): string {
  return `${Math.round(perSecond / 1000)}k`;
}

function mb(bytes: number): string {
  return `${(bytes / 1048576).toFixed(0)} MB`;
}
