/** A time zone column gives each recipient its own zone for quiet hours; it is never a template variable. */
import { expect, it } from 'vitest';
import { ingestRecipients } from '../../src/ingest/ingest-recipients.js';
import { contextForFile } from '../support/test-context.js';
import { chunks, createCampaign, storedRejections } from './campaign-fixture.js';

const ctx = contextForFile();

it('stores a valid zone per row, leaves a blank one to the phone country, and rejects an unknown one with its line', async () => {
  const { campaignId, options } = await createCampaign(ctx);
  const csv = [
    'telefono;nombre;monto;zona horaria',
    '+56 9 8765 4321;Ana;100;America/Punta_Arenas',
    '+56 9 8765 4322;Luis;200;',
    '+56 9 8765 4323;Marta;300;Chile/Santiagoo',
  ].join('\n');
  const summary = await ingestRecipients(ctx.db, chunks(csv), options);
  expect(summary).toMatchObject({ accepted: 2, rejected: 1 });
  const { rows } = await ctx.db.pool.query<{ line: number; variables: string[]; time_zone: string | null }>(
    'SELECT line, variables, time_zone FROM recipients WHERE campaign_id = $1 ORDER BY line',
    [campaignId],
  );
  expect(rows).toEqual([
    { line: 2, variables: ['Ana', '100'], time_zone: 'America/Punta_Arenas' },
    { line: 3, variables: ['Luis', '200'], time_zone: null },
  ]);
  expect((await storedRejections(ctx, summary.uploadId)).map((r) => ({ line: r.line, reason: r.reason }))).toEqual([{ line: 4, reason: 'TIME_ZONE_INVALID' }]);
});
