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
import { doc, json, other } from '../openapi/route-doc.js';
import { EXAMPLE_CAMPAIGN_ID, EXAMPLE_TIME, EXAMPLE_UPLOAD_ID, EXAMPLE_TENANT_ID } from '../openapi/examples.js';
import { ingestSummary, ingestSummaryExample } from '../openapi/responses/campaigns.js';
import { upload as uploadSchema } from '../openapi/responses/uploads.js';

const FORMATS: readonly UploadFormat[] = ['csv', 'json', 'ndjson'];

const uploadQuery = z.object({
  phoneColumn: z.string().min(1).optional(),
  variables: z.string().min(1).optional(),
  filename: z.string().min(1).max(255).optional(),
});
const params = z.object({ id: z.string().uuid() });
const uploadParams = z.object({ id: z.string().uuid(), uploadId: z.string().uuid() });

const tag = 'campaigns';
const CLIENTES_CSV = 'telefono,nombre,monto\r\n+56 9 1234 5678,Ana,$12.000\r\n912345679,Luis,$8.500\r\n';
const REPORT_URL = `/v1/campaigns/${EXAMPLE_CAMPAIGN_ID}/uploads/${EXAMPLE_UPLOAD_ID}/rejected.csv`;
const uploaded = z.object({ upload: ingestSummary.extend({ rejectedReportUrl: z.string() }) });
const uploadDoc = doc({
  tag,
  summary: 'Upload recipients to a draft or running campaign (streamed)',
  description:
    'CSV, a JSON array, NDJSON, or multipart/form-data with one file; Content-Encoding gzip, deflate or br; "charset=" honoured, else detected (UTF-8, UTF-16, Windows-1252). Options in the query string, or as form fields before the file.',
  rawBody: true,
  params,
  query: uploadQuery,
  body: {
    required: true,
    content: {
      'text/csv': { schema: z.string(), example: CLIENTES_CSV },
      'application/json': { schema: z.array(z.record(z.string(), z.unknown())), example: [{ phone: '+56 9 1234 5678', variables: ['Ana', '$12.000'] }] },
      'application/x-ndjson': { schema: z.string(), example: '{"telefono": "912345679", "nombre": "Luis", "monto": "$8.500"}\n' },
      'multipart/form-data': {
        schema: z.object({ file: z.string().meta({ format: 'binary' }), phoneColumn: z.string().optional(), variables: z.string().optional() }),
        example: { file: CLIENTES_CSV, variables: 'nombre,monto' },
      },
    },
  },
  responses: { 201: json(uploaded, { upload: { ...ingestSummaryExample, rejectedReportUrl: REPORT_URL } }, 'Read and stored; rows refused are counted by reason') },
  errors: [
    errors.campaignNotFound(EXAMPLE_CAMPAIGN_ID),
    errors.campaignState(EXAMPLE_CAMPAIGN_ID, 'completed', 'upload recipients', ['draft', 'running', 'paused']),
    errors.noPhoneColumn(['nombre', 'monto']),
    errors.templateVariableMismatch(2, 1, ['nombre']),
    errors.malformedInput('the multipart body has no file part'),
    errors.uploadTooLarge(50 * 1_048_576),
    errors.workbookNotRead('clientes.xlsx'),
    errors.uploadNotText('a PDF document', 'export the list as CSV'),
    errors.encodingUnsupported('Shift_JIS'),
    errors.contentEncodingUnsupported('zstd'),
  ],
});
const uploadNotFound = errors.uploadNotFound(EXAMPLE_UPLOAD_ID);

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

    app.post('/v1/campaigns/:id/recipients', uploadDoc, async (request: FastifyRequest, reply) => {
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

    const summaryDoc = doc({
      tag,
      summary: "An upload's summary",
      params: uploadParams,
      responses: {
        200: json(uploadSchema, {
          id: EXAMPLE_UPLOAD_ID,
          tenantId: EXAMPLE_TENANT_ID,
          campaignId: EXAMPLE_CAMPAIGN_ID,
          filename: 'clientes.csv',
          contentType: 'text/csv',
          status: 'completed',
          encoding: 'utf-8',
          delimiter: ',',
          totalRows: 10000,
          accepted: 9900,
          rejected: 80,
          duplicates: 20,
          error: null,
          createdAt: EXAMPLE_TIME,
          finishedAt: EXAMPLE_TIME,
          rejectedReportUrl: REPORT_URL,
        }),
      },
      errors: [uploadNotFound],
    });
    app.get('/v1/campaigns/:id/uploads/:uploadId', summaryDoc, async (request) => {
      const { id, uploadId } = parseInput(uploadParams, request.params);
      const upload = await ctx.db.prisma.upload.findFirst({ where: { id: uploadId, campaignId: id, tenantId: request.tenantId } });
      if (!upload) throw errors.uploadNotFound(uploadId);
      return { ...upload, rejectedReportUrl: `/v1/campaigns/${id}/uploads/${uploadId}/rejected.csv` };
    });

    const reportDoc = doc({
      tag,
      summary: "An upload's rejected rows as CSV: line, reason, message and the row as it came",
      params: uploadParams,
      responses: { 200: other('text/csv', z.string(), 'line,reason,message,raw\r\n7,PHONE_INVALID,The phone is too short to be a phone number.,"12,Ana,$1"\r\n', 'One row per rejected row') },
      errors: [uploadNotFound],
    });
    app.get('/v1/campaigns/:id/uploads/:uploadId/rejected.csv', reportDoc, async (request, reply) => {
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
