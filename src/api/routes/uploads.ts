/**
 * Recipient uploads: POST /v1/campaigns/:id/recipients with text/csv, application/json (an
 * array), application/x-ndjson, or multipart/form-data (one file). The body is streamed into
 * the ingest stage, never buffered. Options (query string, or form fields before the file):
 * phoneColumn, variables (comma-separated names or 1-based positions), filename.
 */
import type { Readable } from 'node:stream';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ingestOptionsFor } from '../../campaigns/ingest-options.js';
import { errors } from '../../errors.js';
import { ingestRecipients, type IngestFormat } from '../../ingest/ingest-recipients.js';
import { rejectedRowsCsv } from '../../ingest/rejected-report.js';
import type { AppContext } from '../app.js';
import { parseInput } from '../validate.js';

const CSV_TYPES = ['text/csv', 'application/csv', 'text/plain', 'application/vnd.ms-excel', 'text/comma-separated-values'];
const JSON_TYPES = ['application/json'];
const NDJSON_TYPES = ['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/x-jsonlines'];

const uploadQuery = z.object({
  phoneColumn: z.string().min(1).optional(),
  variables: z.string().min(1).optional(),
  filename: z.string().min(1).max(255).optional(),
});
const params = z.object({ id: z.string().uuid() });
const uploadParams = z.object({ id: z.string().uuid(), uploadId: z.string().uuid() });

function formatOf(contentType: string, filename?: string): IngestFormat | null {
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (JSON_TYPES.includes(type) || filename?.toLowerCase().endsWith('.json')) return 'json';
  if (NDJSON_TYPES.includes(type) || /\.(ndjson|jsonl)$/i.test(filename ?? '')) return 'ndjson';
  if (CSV_TYPES.includes(type) || type === 'application/octet-stream' || /\.(csv|txt)$/i.test(filename ?? '')) return 'csv';
  return null;
}

/** Parses "nombre,monto" or "2,3" into names or positions. */
function parseVariables(value: string | undefined): (string | number)[] | undefined {
  if (!value) return undefined;
  return value.split(',').map((v) => v.trim()).filter(Boolean).map((v) => (/^\d+$/.test(v) ? Number(v) : v));
}

/**
 * Passes the body through until more than `limit` bytes went by, then fails. Lazy: it reads
 * only as ingest pulls, so the error surfaces through ingest (413, nothing stored) and never as
 * an unhandled stream error.
 */
async function* limitBytes(source: AsyncIterable<Buffer>, limit: number): AsyncGenerator<Buffer> {
  let seen = 0;
  for await (const chunk of source) {
    seen += chunk.length;
    if (seen > limit) throw errors.uploadTooLarge(limit);
    yield chunk;
  }
}

export function uploadRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    // In this plugin only, bodies reach the handler as streams (JSON arrays included).
    app.removeContentTypeParser(['application/json', 'text/plain']);
    app.addContentTypeParser([...CSV_TYPES, ...JSON_TYPES, ...NDJSON_TYPES, 'application/octet-stream'], (_request, payload, done) => done(null, payload));

    app.post('/v1/campaigns/:id/recipients', async (request: FastifyRequest, reply) => {
      const { id } = parseInput(params, request.params);
      const query = parseInput(uploadQuery, request.query);
      const contentType = request.headers['content-type'] ?? '';
      let stream: Readable;
      let filename = query.filename;
      let format: IngestFormat | null;
      let phoneColumn = query.phoneColumn;
      let variables = parseVariables(query.variables);

      if (contentType.startsWith('multipart/form-data')) {
        const file = await request.file();
        if (!file) throw errors.malformedInput('the multipart body has no file part');
        const field = (name: string): string | undefined => {
          const f = file.fields[name];
          const one = Array.isArray(f) ? f[0] : f;
          return one && one.type === 'field' && typeof one.value === 'string' ? one.value : undefined;
        };
        phoneColumn = field('phoneColumn') ?? phoneColumn;
        variables = parseVariables(field('variables')) ?? variables;
        filename = file.filename || filename;
        format = formatOf(file.mimetype, filename);
        stream = file.file;
        if (!format) throw errors.unsupportedMediaType(file.mimetype);
      } else {
        format = formatOf(contentType, filename);
        stream = request.body as Readable;
      }
      if (!format) throw errors.unsupportedMediaType(contentType);

      const options = await ingestOptionsFor(ctx.db, request.tenantId, id, {
        format,
        batchRows: ctx.config.ingestBatchRows,
        contentType: contentType.split(';')[0] ?? contentType,
        ...(filename ? { filename } : {}),
        ...(phoneColumn ? { phoneColumn } : {}),
        ...(variables ? { variables } : {}),
      });
      const summary = await ingestRecipients(ctx.db, limitBytes(stream, ctx.config.uploadMaxBytes), options);
      request.log.info({ campaignId: id, uploadId: summary.uploadId, accepted: summary.accepted, rejected: summary.rejected }, 'recipients uploaded');
      return reply.status(201).send({
        upload: { ...summary, rejectedReportUrl: `/v1/campaigns/${id}/uploads/${summary.uploadId}/rejected.csv` },
      });
    });

    app.get('/v1/campaigns/:id/uploads/:uploadId', async (request) => {
      const { id, uploadId } = parseInput(uploadParams, request.params);
      const upload = await ctx.db.prisma.upload.findFirst({ where: { id: uploadId, campaignId: id, tenantId: request.tenantId } });
      if (!upload) throw errors.uploadNotFound(uploadId);
      return { ...upload, rejectedReportUrl: `/v1/campaigns/${id}/uploads/${uploadId}/rejected.csv` };
    });

    app.get('/v1/campaigns/:id/uploads/:uploadId/rejected.csv', async (request, reply) => {
      const { id, uploadId } = parseInput(uploadParams, request.params);
      const upload = await ctx.db.prisma.upload.findFirst({ where: { id: uploadId, campaignId: id, tenantId: request.tenantId } });
      if (!upload) throw errors.uploadNotFound(uploadId);
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="rejected-${uploadId}.csv"`)
        .send(rejectedRowsCsv(ctx.db, request.tenantId, uploadId));
    });
  };
}
