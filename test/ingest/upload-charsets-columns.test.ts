/**
 * The README's "Recipient lists" promises on declared charsets and column names, through the
 * real upload route (POST /v1/campaigns/:id/recipients). A CSV declared charset=utf-16be, with
 * or without its byte-order mark, and one declared charset=windows-1252 (bytes 0x80-0x9F
 * included, where Windows-1252 and ISO-8859-1 differ) are stored with their variables equal
 * to the text that was written. A charset the engine does not read gets 415
 * ENCODING_UNSUPPORTED with its name in the message, and nothing of the file is stored. Every
 * column name the README lists for the phone (phone, telefono, teléfono, celular, mobile,
 * whatsapp), for the variables (1, var1, {{1}}, the template's parameter names) and for the
 * time zone (timezone, tz, zona horaria, huso horario, fuso horario; not a bare "zona") maps its column, driven from one table; the time-zone
 * column lands in recipients.time_zone and is never a template variable.
 */
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import {
  apiForFile,
  beforeAllValue,
  createDraftCampaign,
  createSender,
  createTemplate,
  expectError,
  expectStatus,
  type PublicTemplate,
  type UploadResponse,
} from '../api/api-harness.js';

const h = apiForFile();
const sender = beforeAllValue(() => createSender(h.api));
/** The same two placeholders, named: columns called "nombre" and "saldo" map to them by name. */
const named = beforeAllValue(async () => ({
  template: await createTemplate(h.api, sender.account.id, { name: 'named_greeting', paramNames: ['nombre', 'saldo'] }),
}));

type StoredRecipient = { line: number; phone: string; variables: string[]; time_zone: string | null };

async function upload(body: Buffer | string, contentType: string, template: PublicTemplate = sender.template, query = '') {
  const { campaign } = await createDraftCampaign(h.api, { account: sender.account, template });
  const response = await h.api.send(`/v1/campaigns/${campaign.id}/recipients${query}`, body, contentType);
  return { campaignId: campaign.id, response };
}

async function stored(campaignId: string): Promise<StoredRecipient[]> {
  const { rows } = await h.ctx.db.pool.query<StoredRecipient>(
    'SELECT line, phone, variables, time_zone FROM recipients WHERE campaign_id = $1 ORDER BY line',
    [campaignId],
  );
  return rows;
}

async function countFor(table: 'recipients' | 'rejected_rows', campaignId: string): Promise<number> {
  const { rows } = await h.ctx.db.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE campaign_id = $1`, [campaignId]);
  return Number(rows[0]?.n);
}

/** Text as UTF-16 big-endian bytes (Node writes only little-endian: swap each pair). */
function utf16be(text: string): Buffer {
  return Buffer.from(text, 'utf16le').swap16();
}

describe('declared charsets', () => {
  // Non-ASCII names, characters outside Latin-1, and one outside the BMP (a surrogate pair).
  const wide = ['telefono;nombre;saldo', '+56981110001;Ñandú;José Peña', '+56981110002;Müller 日本;$12.000 🎉', ''].join('\n');

  it.each([
    { mark: 'without a byte-order mark', bytes: utf16be(wide) },
    { mark: 'with its byte-order mark', bytes: Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be(wide)]) },
  ])('reads charset=utf-16be as declared, $mark', async ({ bytes }) => {
    const { campaignId, response } = await upload(bytes, 'text/csv; charset=utf-16be');
    expect(expectStatus<UploadResponse>(response, 201).upload).toMatchObject({ accepted: 2, rejected: 0, encoding: 'utf-16be' });
    expect(await stored(campaignId)).toEqual([
      { line: 2, phone: '+56981110001', variables: ['Ñandú', 'José Peña'], time_zone: null },
      { line: 3, phone: '+56981110002', variables: ['Müller 日本', '$12.000 🎉'], time_zone: null },
    ]);
  });

  it('reads charset=windows-1252 as declared, bytes 0x80-0x9F as Windows-1252 (not as ISO-8859-1 controls)', async () => {
    const text = ['telefono;nombre;saldo', '+56981110001;Ñandú;5€ … “ok”', '+56981110002;José;Año ‰ Œ ž', ''].join('\n');
    const bytes = iconv.encode(text, 'win1252');
    // The file really holds the bytes where the two charsets differ: € 0x80, … 0x85, “ 0x93.
    for (const byte of [0x80, 0x85, 0x93, 0x89]) expect(bytes.includes(byte)).toBe(true);
    expect(iconv.decode(bytes, 'latin1')).not.toBe(text);
    const { campaignId, response } = await upload(bytes, 'text/csv; charset=windows-1252');
    expect(expectStatus<UploadResponse>(response, 201).upload).toMatchObject({ accepted: 2, rejected: 0, encoding: 'windows-1252' });
    expect(await stored(campaignId)).toEqual([
      { line: 2, phone: '+56981110001', variables: ['Ñandú', '5€ … “ok”'], time_zone: null },
      { line: 3, phone: '+56981110002', variables: ['José', 'Año ‰ Œ ž'], time_zone: null },
    ]);
  });

  it.each([
    { charset: 'Shift_JIS', bytes: iconv.encode('telefono;nombre;saldo\n+56981110001;山田;1000\n', 'shift_jis') },
    { charset: 'iso-8859-15', bytes: iconv.encode('telefono;nombre;saldo\n+56981110001;Peña;5€\n', 'iso-8859-15') },
    { charset: 'koi8-r', bytes: iconv.encode('telefono;nombre;saldo\n+56981110001;Иван;1000\n', 'koi8-r') },
  ])('refuses charset=$charset with 415 ENCODING_UNSUPPORTED, naming it, and stores nothing', async ({ charset, bytes }) => {
    const { campaignId, response } = await upload(bytes, `text/csv; charset=${charset}`);
    const error = expectError(response, 415, 'ENCODING_UNSUPPORTED');
    expect(error.message.toLowerCase()).toContain(charset.toLowerCase());
    expect(await countFor('recipients', campaignId)).toBe(0);
    expect(await countFor('rejected_rows', campaignId)).toBe(0);
    const { rows } = await h.ctx.db.pool.query<{ n: string }>("SELECT count(*) AS n FROM uploads WHERE campaign_id = $1 AND status <> 'failed'", [campaignId]);
    expect(Number(rows[0]?.n)).toBe(0);
  });
});

describe('column names', () => {
  type Role = 'phone' | 'v1' | 'v2' | 'tz' | 'decoy';
  type AliasCase = { claim: string; columns: [name: string, role: Role][]; namedTemplate?: true };

  // Two rows; each column's cell is the row's value for the column's role.
  const ROWS: Record<Role, string>[] = [
    { phone: '+56981110001', v1: 'Ñandú', v2: '1.000', tz: 'America/Bogota', decoy: '+56981119991' },
    { phone: '+56981110002', v1: 'José', v2: '2.500', tz: 'America/Punta_Arenas', decoy: '+56981119992' },
  ];

  // Columns are placed so that a wrong mapping shows: the phone column is never first, named
  // variable columns come in reverse order, and the time zone sits between the variables.
  const CASES: AliasCase[] = [
    ...['phone', 'telefono', 'teléfono', 'celular', 'mobile', 'whatsapp'].map((name): AliasCase => ({
      claim: `phone column named "${name}"`,
      columns: [
        ['nombre', 'v1'],
        [name, 'phone'],
        ['saldo', 'v2'],
      ],
    })),
    {
      claim: 'phone taken from "whatsapp" when a "telefono" column is there too',
      columns: [
        ['telefono', 'decoy'],
        ['var1', 'v1'],
        ['whatsapp', 'phone'],
        ['var2', 'v2'],
      ],
    },
    ...[
      ['1', '2'],
      ['var1', 'var2'],
      ['{{1}}', '{{2}}'],
    ].map(
      ([first, second]): AliasCase => ({
        claim: `variables named "${first}", "${second}"`,
        columns: [
          [second as string, 'v2'],
          ['telefono', 'phone'],
          [first as string, 'v1'],
        ],
      }),
    ),
    {
      claim: "variables named as the template's parameter names",
      namedTemplate: true,
      columns: [
        ['saldo', 'v2'],
        ['telefono', 'phone'],
        ['nombre', 'v1'],
      ],
    },
    ...['timezone', 'tz', 'zona horaria', 'Huso horario', 'fuso horário'].map((name): AliasCase => ({
      claim: `time-zone column named "${name}"`,
      columns: [
        ['telefono', 'phone'],
        ['nombre', 'v1'],
        [name, 'tz'],
        ['saldo', 'v2'],
      ],
    })),
    {
      // Not a time zone: a sales zone ("Norte"); read as one it would reject every row.
      claim: 'column named just "Zona", an ordinary column (here the second variable)',
      columns: [
        ['telefono', 'phone'],
        ['nombre', 'v1'],
        ['Zona', 'v2'],
      ],
    },
    {
      claim: 'whatsapp, var1, var2 and tz together',
      columns: [
        ['tz', 'tz'],
        ['var2', 'v2'],
        ['whatsapp', 'phone'],
        ['var1', 'v1'],
      ],
    },
  ];

  it.each(CASES)('maps the $claim', async ({ columns, namedTemplate }) => {
    const csv = [columns.map(([name]) => name), ...ROWS.map((row) => columns.map(([, role]) => row[role]))].map((cells) => cells.join(';')).join('\n');
    const template = namedTemplate ? named.template : sender.template;
    const { campaignId, response } = await upload(Buffer.from(`${csv}\n`, 'utf8'), 'text/csv; charset=utf-8', template);
    expect(expectStatus<UploadResponse>(response, 201).upload).toMatchObject({ totalRows: 2, accepted: 2, rejected: 0, duplicates: 0 });
    const hasZone = columns.some(([, role]) => role === 'tz');
    const recipients = await stored(campaignId);
    expect(recipients).toEqual(
      ROWS.map((row, i) => ({ line: i + 2, phone: row.phone, variables: [row.v1, row.v2], time_zone: hasZone ? row.tz : null })),
    );
    // The zone is never a template variable.
    for (const recipient of recipients) expect(recipient.variables.some((v) => v.includes('/'))).toBe(false);
  });

  it('a time-zone column the upload names as a variable is a variable, and gives no time zone', async () => {
    const csv = 'telefono;nombre;tz\n+56981110001;Ana;Sur\n';
    const { campaignId, response } = await upload(Buffer.from(csv, 'utf8'), 'text/csv; charset=utf-8', sender.template, '?variables=nombre,tz');
    expect(expectStatus<UploadResponse>(response, 201).upload).toMatchObject({ accepted: 1, rejected: 0 });
    expect(await stored(campaignId)).toEqual([{ line: 2, phone: '+56981110001', variables: ['Ana', 'Sur'], time_zone: null }]);
  });
});
