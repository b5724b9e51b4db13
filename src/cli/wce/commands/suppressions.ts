/** suppressions: import a CSV (streamed) and export the list. */
import type { Command } from 'commander';
import { handler } from '../context.js';
import { fields } from '../output.js';
import { uploadFile } from '../upload-file.js';

export function registerSuppressionCommands(program: Command): void {
  const suppressions = program.command('suppressions').description("the tenant's do-not-send list");
  suppressions
    .command('import <file>')
    .description('add the phones of a CSV (streamed, with progress)')
    .option('--phone-column <name>', 'the phone column')
    .option('--default-country <cc>', 'country of numbers written without +code (default CL)')
    .option('--detail <text>', 'why, kept with each entry')
    .action(
      handler(async (ctx, o: { phoneColumn?: string; defaultCountry?: string; detail?: string }, file: string) => {
        const query = new URLSearchParams({ ...(o.phoneColumn ? { phoneColumn: o.phoneColumn } : {}), ...(o.defaultCountry ? { defaultCountry: o.defaultCountry } : {}), ...(o.detail ? { detail: o.detail } : {}) }).toString();
        const body = await uploadFile<Record<string, unknown>>(await ctx.api(), `/v1/suppressions/import${query ? `?${query}` : ''}`, file, !ctx.out.json);
        ctx.out.result(body, () => fields(Object.entries(body).map(([k, v]) => [k, Array.isArray(v) ? v.length : v])));
      }),
    );
  suppressions
    .command('export')
    .description('the whole list as CSV')
    .option('-o, --output <file>', 'where to write (default: stdout)')
    .action(
      handler(async (ctx, o: { output?: string }) => {
        const bytes = await (await ctx.api()).download('/v1/suppressions/export.csv', o.output ?? null);
        if (o.output) ctx.out.result({ file: o.output, bytes }, () => `wrote ${o.output} (${bytes} bytes)`);
      }),
    );
}
