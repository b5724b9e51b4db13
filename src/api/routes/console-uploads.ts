/**
 * POST /v1/uploads/preview?templateId&format&phoneColumn&variables&defaultCountry&truncated:
 * the first rows of a recipient file as an upload would read them (src/ingest/preview-upload.ts),
 * with the detected encoding, delimiter and column mapping; nothing is stored. The body is the
 * file's beginning (at most PREVIEW_MAX_BYTES; `truncated=true` when it is cut, so a partial
 * last row is left out). The console's upload wizard calls it; so can anyone with a key.
 *
 * GET /v1/campaigns/:id/uploads/:uploadId/rejected-samples: the upload's rejected rows by reason,
 * each with its count and its first rows (line number, message, the row as it came), for the
 * wizard's validation report; the whole list stays in rejected.csv.
 */
import type { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { errors } from '../../errors.js';
import { previewUpload } from '../../ingest/preview-upload.js';
import type { CountryCode } from '../../phones/normalize-phone.js';
import type { AppContext } from '../app.js';
import { parseInput } from '../../validate.js';
import { doc, json } from '../openapi/route-doc.js';
import { EXAMPLE_TEMPLATE_ID, EXAMPLE_UPLOAD_ID } from '../openapi/examples.js';
import { rejectedSamples, uploadPreview } from '../openapi/responses/uploads.js';

/** Largest sample accepted (bytes): enough for the first rows of any sane file. */
export const PREVIEW_MAX_BYTES = 1024 * 1024;
const PREVIEW_ROWS = 10;

const query = z.object({
  templateId: z.string().uuid(),
  format: z.enum(['csv', 'json', 'ndjson']).optional(),
  filename: z.string().max(255).optional(),
  phoneColumn: z.string().min(1).optional(),
  variables: z.string().min(1).optional(),
  defaultCountry: z.string().length(2).default('CL'),
  truncated: z.enum(['true', 'false']).default('false'),
});

const sampleParams = z.object({ id: z.string().uuid(), uploadId: z.string().uuid() });
const sampleQuery = z.object({ perReason: z.coerce.number().int().min(1).max(20).default(3) });
const SAMPLE_CSV = 'telefono,nombre,monto\r\n+56 9 1234 5678,Ana,$12.000\r\n12,Luis,$8.500\r\n';
const previewDoc = doc({
  tag: 'uploads',
  summary: 'Preview the first rows of a recipient file as an upload would read them; nothing is stored',
  description: 'The body is the file\'s beginning (at most 1 MB); `truncated=true` when it is cut, so a partial last row is left out.',
  rawBody: true,
  query,
  body: { required: true, content: { 'application/octet-stream': { schema: z.string().meta({ format: 'binary' }), example: SAMPLE_CSV } } },
  responses: {
    200: json(uploadPreview, {
      preview: {
        format: 'csv',
        encoding: 'utf-8',
        delimiter: ',',
        columns: ['telefono', 'nombre', 'monto'],
        mapping: { phoneColumn: 'telefono', variables: ['nombre', 'monto'], timeZoneColumn: null },
        phoneColumn: 'telefono',
        mappingError: null,
        rows: [
          { line: 2, cells: ['+56 9 1234 5678', 'Ana', '$12.000'], ok: true, phone: '+56912345678', variables: ['Ana', '$12.000'] },
          { line: 3, cells: ['12', 'Luis', '$8.500'], ok: false, problem: { code: 'PHONE_INVALID', message: 'The phone "12" is too short to be a phone number.' } },
        ],
      },
    }),
  },
  errors: [errors.templateNotFound(EXAMPLE_TEMPLATE_ID), errors.uploadTooLarge(PREVIEW_MAX_BYTES), errors.encodingUnsupported('Shift_JIS'), errors.uploadNotText('a PDF document', 'export the list as CSV')],
});
const samplesDoc = doc({
  tag: 'campaigns',
  summary: "An upload's rejected rows by reason: each reason's count and its first rows",
  params: sampleParams,
  query: sampleQuery,
  responses: {
    200: json(rejectedSamples, { uploadId: EXAMPLE_UPLOAD_ID, reasons: [{ reason: 'PHONE_INVALID', count: 60, samples: [{ line: 7, message: 'The phone "12" is too short to be a phone number.', raw: '12,Ana,$1' }] }] }),
  },
  errors: [errors.uploadNotFound(EXAMPLE_UPLOAD_ID)],
});

export function consoleUploadRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    app.removeContentTypeParser(['application/json', 'text/plain']);
    app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

    app.post('/v1/uploads/preview', { bodyLimit: PREVIEW_MAX_BYTES, ...previewDoc }, async (request) => {
      const q = parseInput(query, request.query);
      const template = await ctx.db.prisma.template.findFirst({ where: { id: q.templateId, tenantId: request.tenantId } });
      if (!template) throw errors.templateNotFound(q.templateId);
      const format = q.format ?? (/\.json$/i.test(q.filename ?? '') ? 'json' : /\.(ndjson|jsonl)$/i.test(q.filename ?? '') ? 'ndjson' : 'csv');
      const variables = q.variables?.split(',').map((v) => v.trim()).filter(Boolean).map((v) => (/^\d+$/.test(v) ? Number(v) : v));
      const preview = await previewUpload(limitBytes(request.body as Readable, PREVIEW_MAX_BYTES), {
        format,
        paramCount: template.paramCount,
        paramNames: template.paramNames,
        defaultCountry: q.defaultCountry.toUpperCase() as CountryCode,
        maxRows: PREVIEW_ROWS,
        truncated: q.truncated === 'true',
        ...(q.phoneColumn ? { phoneColumn: q.phoneColumn } : {}),
        ...(variables?.length ? { variables } : {}),
      });
      return { preview };
    });

    app.get('/v1/campaigns/:id/uploads/:uploadId/rejected-samples', samplesDoc, async (request) => {
      const { id, uploadId } = parseInput(sampleParams, request.params);
      const { perReason } = parseInput(sampleQuery, request.query);
      const upload = await ctx.db.prisma.upload.findFirst({ where: { id: uploadId, campaignId: id, tenantId: request.tenantId }, select: { id: true } });
      if (!upload) throw errors.uploadNotFound(uploadId);
      const { rows } = await ctx.db.pool.query<{ reason: string; n: string; line: number; message: string; raw: string }>(
        `SELECT reason, n, line, message, raw FROM (
           SELECT reason, count(*) OVER (PARTITION BY reason) AS n, line, message, raw, row_number() OVER (PARTITION BY reason ORDER BY line) AS rn
             FROM rejected_rows WHERE upload_id = $1 AND tenant_id = $2) ranked
          WHERE rn <= $3 ORDER BY n DESC, reason, line`,
        [uploadId, request.tenantId, perReason],
      );
      const reasons = new Map<string, { reason: string; count: number; samples: { line: number; message: string; raw: string }[] }>();
      for (const r of rows) {
        const entry = reasons.get(r.reason) ?? { reason: r.reason, count: Number(r.n), samples: [] };
        entry.samples.push({ line: r.line, message: r.message, raw: r.raw });
        reasons.set(r.reason, entry);
      }
      return { uploadId, reasons: [...reasons.values()] };
    });
  };
}

async function* limitBytes(source: AsyncIterable<Buffer>, limit: number): AsyncGenerator<Buffer> {
  let seen = 0;
  for await (const chunk of source) {
    seen += chunk.length;
    if (seen > limit) throw errors.uploadTooLarge(limit);
    yield chunk;
  }
}
