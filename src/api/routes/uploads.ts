/**
 * Recipient uploads: POST /v1/campaigns/:id/recipients with text/csv, application/json (an
 * array), application/x-ndjson, or multipart/form-data (one file). The body is streamed into
 * the ingest stage, never buffered (streamed-upload.ts: Content-Encoding gzip/deflate/br,
 * "charset=", the size limit). Options (query string, or form fields before the file):
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
import { charsetOf, isWorkbook, mediaType, streamedTypes, uploadBody, uploadFormat, type UploadFormat } from '../streamed-upload.js';
import { parseInput } from '../../validate.js';

const FORMATS: readonly UploadFormat[] = ['csv', 'json', 'ndjson'];

const uploadQuery = z.object({
  phoneColumn: z.string().min(1).optional(),
  variables: z.string().min(1).optional(),
  filename: z.string().min(1).max(255).optional(),
});
const params = z.object({ id: z.string().uuid() });
const uploadParams = z.object({ id: z.string().uuid(), uploadId: z.string().uuid() });

function formatOf(contentType: string, filename?: string): IngestFormat | null {
  return uploadFormat(contentType, filename, FORMATS);
}

/** Parses "nombre,monto" or "2,3" into names or positions. */
function parseVariables(value: string | undefined): (string | number)[] | undefined {
  if (!value) return undefined;
  return value.split(',').map((v) => v.trim()).filter(Boolean).map((v) => (/^\d+$/.test(v) ? Number(v) : v));
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}

export function uploadRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    // In this plugin only, bodies reach the handler as streams (JSON arrays included).
    app.removeContentTypeParser(['application/json', 'text/plain']);
    app.addContentTypeParser(streamedTypes(FORMATS), (_request, payload, done) => done(null, payload));

    app.post('/v1/campaigns/:id/recipients', async (request: FastifyRequest, reply) => {
      const { id } = parseInput(params, request.params);
      const query = parseInput(uploadQuery, request.query);
      const contentType = request.headers['content-type'] ?? '';
      let stream: Readable;
      let filename = query.filename;
      let format: IngestFormat | null;
      let phoneColumn = query.phoneColumn;
      let variables = parseVariables(query.variables);
      let charset = charsetOf(contentType);

      const multipart = contentType.startsWith('multipart/form-data');
      // A compressed multipart body cannot be taken apart as it streams: refused (415).
      const contentEncoding = multipart ? undefined : headerValue(request.headers['content-encoding']);
      if (multipart && !/^\s*(identity)?\s*$/i.test(headerValue(request.headers['content-encoding']) ?? '')) {
        throw errors.contentEncodingUnsupported(headerValue(request.headers['content-encoding']) ?? '');
      }

      if (multipart) {
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
        if (isWorkbook(file.mimetype, filename)) throw errors.workbookNotRead(filename);
        format = formatOf(file.mimetype, filename);
        charset = charsetOf(file.mimetype) ?? charset;
        stream = file.file;
        if (!format) throw errors.unsupportedMediaType(file.mimetype);
      } else {
        if (isWorkbook(contentType, filename)) throw errors.workbookNotRead(filename);
        format = formatOf(contentType, filename);
        stream = request.body as Readable;
      }
      if (!format) throw errors.unsupportedMediaType(contentType);

      const options = await ingestOptionsFor(ctx.db, request.tenantId, id, {
        format,
        batchRows: ctx.config.ingestBatchRows,
        contentType: mediaType(contentType),
        ...(filename ? { filename } : {}),
        ...(phoneColumn ? { phoneColumn } : {}),
        ...(variables ? { variables } : {}),
      });
      const body = uploadBody(stream, contentEncoding, ctx.config.uploadMaxBytes);
      const summary = await ingestRecipients(ctx.db, body, charset ? { ...options, charset } : options);
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
