/** campaigns: create (with a streamed CSV upload), the state machine, and the reports. */
import { basename } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { encode, handler, type CommandContext } from '../context.js';
import { fields, table } from '../output.js';
import { uploadFile } from '../upload-file.js';

type Campaign = { id: string; name: string; status: string; statusCode: string | null; statusReason: string | null; accountId: string; templateId: string | null; createdAt: string };
type CampaignView = Campaign & { progress: { total: number; done: number; ratePerSecond: number; etaSeconds: number | null; counts: Record<string, number> }; uploads: { id: string; createdAt: string }[] };
type UploadSummary = { uploadId: string; totalRows: number; accepted: number; rejected: number; duplicates: number; rejectedByReason: Record<string, number>; rejectedReportUrl?: string };

export function uploadLines(u: UploadSummary): string[] {
  const reasons = Object.entries(u.rejectedByReason ?? {}).map(([r, n]) => `${r} ${n}`).join(', ');
  return [`upload ${u.uploadId}: ${u.totalRows} rows, ${u.accepted} accepted, ${u.rejected} rejected, ${u.duplicates} duplicates${reasons ? ` (${reasons})` : ''}`];
}

function uploadQuery(o: { variables?: string; phoneColumn?: string }, file: string): string {
  const q = new URLSearchParams({ filename: basename(file), ...(o.variables ? { variables: o.variables } : {}), ...(o.phoneColumn ? { phoneColumn: o.phoneColumn } : {}) });
  return q.toString();
}

async function upload(ctx: CommandContext, campaignId: string, file: string, o: { variables?: string; phoneColumn?: string }): Promise<UploadSummary> {
  const body = await uploadFile<{ upload: UploadSummary }>(await ctx.api(), `/v1/campaigns/${encode(campaignId)}/recipients?${uploadQuery(o, file)}`, file, !ctx.out.json);
  return body.upload;
}

function priority(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('must be a whole number');
  return n;
}

export function registerCampaignCommands(program: Command): void {
  const campaigns = program.command('campaigns').description('campaigns');
  campaigns
    .command('list')
    .description('the latest campaigns')
    .action(
      handler(async (ctx) => {
        const body = await (await ctx.api()).json<{ campaigns: Campaign[] }>('GET', '/v1/campaigns');
        ctx.out.result(body, () => table(['ID', 'NAME', 'STATUS', 'CREATED'], body.campaigns.map((c) => [c.id, c.name, c.statusCode ? `${c.status} (${c.statusCode})` : c.status, c.createdAt])));
      }),
    );
  campaigns.command('show <id>').description('a campaign with its progress').action(
    handler(async (ctx, _o, id: string) => {
      const c = await (await ctx.api()).json<CampaignView>('GET', `/v1/campaigns/${encode(id)}`);
      ctx.out.result(c, () => [
        ...fields([['id', c.id], ['name', c.name], ['status', c.status], ['reason', c.statusReason], ['progress', `${c.progress.done}/${c.progress.total}`]]),
        ...table(['STATUS', 'COUNT'], Object.entries(c.progress.counts).filter(([, n]) => n > 0)),
      ]);
    }),
  );
  campaigns
    .command('create')
    .description('create a campaign, optionally upload a CSV to it (streamed, with progress) and start it')
    .requiredOption('--name <name>', 'campaign name')
    .requiredOption('--account <id>', 'provider account id')
    .option('--template <id>', 'approved template id')
    .option('--file <path>', 'recipients: CSV (, or ;), JSON array or NDJSON')
    .option('--variables <columns>', 'columns for {{1}}, {{2}}...: names or 1-based positions, comma-separated')
    .option('--phone-column <name>', 'the phone column, when its name is not a usual one')
    .option('--default-country <cc>', 'country of numbers written without +code (default CL)')
    .option('--priority <n>', 'higher is served first on a shared account', priority)
    .option('--idempotency-key <key>', 'makes a retried create return the first campaign')
    .option('--start', 'start it once the recipients are stored')
    .action(
      handler(async (ctx, o: { name: string; account: string; template?: string; file?: string; variables?: string; phoneColumn?: string; defaultCountry?: string; priority?: number; idempotencyKey?: string; start?: boolean }) => {
        const client = await ctx.api();
        const created = await client.json<{ campaign: Campaign }>(
          'POST',
          '/v1/campaigns',
          {
            name: o.name,
            accountId: o.account,
            ...(o.template ? { templateId: o.template } : {}),
            ...(o.defaultCountry ? { defaultCountry: o.defaultCountry } : {}),
            ...(o.priority === undefined ? {} : { priority: o.priority }),
          },
          o.idempotencyKey ? { 'idempotency-key': o.idempotencyKey } : {},
        );
        const campaign = created.campaign;
        ctx.out.note(`campaign ${campaign.id} created`);
        const uploaded = o.file ? await upload(ctx, campaign.id, o.file, o) : null;
        if (uploaded) ctx.out.note(uploadLines(uploaded).join('\n'));
        const started = o.start ? await client.json<{ status: string }>('POST', `/v1/campaigns/${encode(campaign.id)}/start`) : null;
        ctx.out.result({ campaign: started ? { ...campaign, status: started.status } : campaign, upload: uploaded }, () => [campaign.id, ...(started ? [`started: ${started.status}`] : [])]);
      }),
    );
  campaigns
    .command('upload <id> <file>')
    .description('add recipients from a file (streamed, with progress)')
    .option('--variables <columns>', 'columns for {{1}}, {{2}}...')
    .option('--phone-column <name>', 'the phone column')
    .action(
      handler(async (ctx, o: { variables?: string; phoneColumn?: string }, id: string, file: string) => {
        const u = await upload(ctx, id, file, o);
        ctx.out.result({ upload: u }, () => uploadLines(u));
      }),
    );
  for (const action of ['start', 'pause', 'resume', 'cancel', 'resend-unknown'] as const) {
    campaigns.command(`${action} <id>`).description(`${action} a campaign`).action(
      handler(async (ctx, _o, id: string) => {
        const body = await (await ctx.api()).json<{ status: string; affected?: number }>('POST', `/v1/campaigns/${encode(id)}/${action}`);
        ctx.out.result(body, () => `campaign ${id}: ${body.status}${body.affected === undefined ? '' : ` (${body.affected} recipients)`}`);
      }),
    );
  }
  campaigns
    .command('export <id>')
    .description("every recipient's result as CSV (streamed to the file)")
    .option('-o, --output <file>', 'where to write (default: stdout)')
    .action(
      handler(async (ctx, o: { output?: string }, id: string) => {
        const bytes = await (await ctx.api()).download(`/v1/campaigns/${encode(id)}/export.csv`, o.output ?? null);
        if (o.output) ctx.out.result({ file: o.output, bytes }, () => `wrote ${o.output} (${bytes} bytes)`);
      }),
    );
  campaigns
    .command('rejected <id>')
    .description('the rejected-rows report of an upload as CSV (default: the latest upload)')
    .option('--upload <uploadId>', 'which upload')
    .option('-o, --output <file>', 'where to write (default: stdout)')
    .action(
      handler(async (ctx, o: { upload?: string; output?: string }, id: string) => {
        const client = await ctx.api();
        let uploadId = o.upload;
        if (!uploadId) {
          const view = await client.json<CampaignView>('GET', `/v1/campaigns/${encode(id)}`);
          uploadId = view.uploads[view.uploads.length - 1]?.id;
          if (!uploadId) {
            ctx.out.result({ file: null, bytes: 0 }, () => 'the campaign has no uploads');
            return;
          }
        }
        const bytes = await client.download(`/v1/campaigns/${encode(id)}/uploads/${encode(uploadId)}/rejected.csv`, o.output ?? null);
        if (o.output) ctx.out.result({ file: o.output, uploadId, bytes }, () => `wrote ${o.output} (${bytes} bytes)`);
      }),
    );
}
