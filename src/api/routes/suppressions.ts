/**
 * The tenant's suppression list (src/suppressions): phones that are never sent to again.
 *
 * - POST /v1/suppressions: {phone} or {phones: [...]}, with optional detail and defaultCountry
 *   (CL); phones in any common format, read like an upload's. Bad entries of a list are
 *   reported by index; the others are added.
 * - GET /v1/suppressions?cursor&limit&phone: a page in phone order; `phone` keeps the numbers
 *   starting with it (international form: "+569", or a whole number).
 * - DELETE /v1/suppressions/:phone: the number, URL-encoded ("%2B56987654321").
 * - POST /v1/suppressions/import: a CSV (text/csv, or multipart/form-data with one file),
 *   streamed through the ingest's reader and phone column mapping. Options (query string, or
 *   form fields before the file): phoneColumn, defaultCountry, detail, filename.
 * - GET /v1/suppressions/export.csv: the whole list, for a spreadsheet.
 */
import type { Readable } from 'node:stream';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { countryCodeSchema } from '../../phones/country.js';
import { z } from 'zod';
import { errors } from '../../errors.js';
import { spreadsheetCsv } from '../../exports/spreadsheet-csv.js';
import { normalizePhone } from '../../phones/normalize-phone.js';
import { importSuppressions } from '../../ingest/import-suppressions.js';
import { addSuppressions, listSuppressions, removeSuppression, type SuppressionEntry } from '../../suppressions/suppression-list.js';
import type { AppContext } from '../app.js';
import { streamedTypes, uploadBody, uploadFormat } from '../streamed-upload.js';
import { parseInput } from '../../validate.js';
import { doc, empty, json, jsonBody, other } from '../openapi/route-doc.js';
import { suppressionAdded, suppressionImport, suppressionPage, suppressionPageExample } from '../openapi/responses/lists.js';

/** Rows per page of the CSV export's reads. */
const EXPORT_PAGE_ROWS = 5_000;

const country = countryCodeSchema;
const detail = z.string().trim().min(1).max(500);
/** A phone as JSON brings it: text, or a number from a spreadsheet. */
const phoneValue = z.union([z.string().max(64), z.number().int().nonnegative()]).transform(String);

const addBody = z
  .object({
    phone: phoneValue.optional(),
    phones: z.array(phoneValue).min(1).max(10_000).optional(),
    detail: detail.optional(),
    /** Country for numbers written without "+country code". Default CL. */
    defaultCountry: country.default('CL'),
  })
  .refine((body) => (body.phone === undefined) !== (body.phones === undefined), 'send either "phone" or "phones", not both');
const listQuery = z.object({
  /** The `next` of the previous page (a "+" sent unencoded arrives as a space and is read back). */
  cursor: z
    .string()
    .regex(/^[+ ]?\d{1,15}$/, 'not a cursor from a previous page')
    .transform((value) => `+${value.replace(/^[+ ]/, '')}`)
    .optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  phone: z
    .string()
    .regex(/^[+ ]?[\d\s().-]*\d[\d\s().-]*$/, 'the start of an international number, like +569')
    .transform((value) => `+${value.replace(/\D/g, '')}`)
    .optional(),
});
const phoneParams = z.object({ phone: z.string().min(1).max(64) });
const countryQuery = z.object({ defaultCountry: country.default('CL') });
const importQuery = z.object({
  phoneColumn: z.string().min(1).optional(),
  defaultCountry: country.default('CL'),
  detail: detail.optional(),
  filename: z.string().min(1).max(255).optional(),
});

const tag = 'suppressions';
const csvFile = z.object({ file: z.string().meta({ format: 'binary' }), phoneColumn: z.string().optional(), defaultCountry: z.string().optional(), detail: z.string().optional() });
const BAJAS_CSV = 'telefono,motivo\r\n+56912345678,pidió no recibir más\r\n';
const EXPORT_CSV = 'phone,reason,detail,created_at\r\n+56912345678,STOP_WORD,replied BAJA,2026-11-22T14:03:00.000Z\r\n';
const addedExample = { added: 1, alreadyPresent: 1, rejected: [{ index: 2, phone: '12', reason: 'PHONE_INVALID', message: 'The phone "12" is too short to be a phone number.' }] };

type Rejected = { index: number; phone: string; reason: string; message: string };

function isCsv(contentType: string, filename?: string): boolean {
  return uploadFormat(contentType, filename, ['csv']) !== null;
}

export function suppressionRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    const addDoc = doc({
      tag,
      summary: 'Add phones to the suppression list: {phone} or {phones: [...]}',
      description: 'Bad entries of a list are reported by index and the others added; a bad single phone is a 400. 201 when something was added, else 200.',
      body: jsonBody(addBody, { phones: ['+56 9 1234 5678', '912345679', '12'], detail: 'asked by phone', defaultCountry: 'CL' }),
      responses: { 201: json(suppressionAdded, addedExample, 'At least one phone added'), 200: json(suppressionAdded, { phone: '+56912345678', added: 0, alreadyPresent: 1, rejected: [] }, 'Nothing new: every phone was on the list') },
    });
    app.post('/v1/suppressions', addDoc, async (request, reply) => {
      const body = parseInput(addBody, request.body);
      const single = body.phone !== undefined;
      const entries: SuppressionEntry[] = [];
      const rejected: Rejected[] = [];
      (body.phones ?? [body.phone ?? '']).forEach((raw, index) => {
        const phone = normalizePhone(raw, body.defaultCountry);
        if (phone.ok) entries.push({ phone: phone.e164, reason: 'MANUAL', detail: body.detail ?? null });
        else rejected.push({ index, phone: raw, reason: phone.problem, message: phone.message });
      });
      if (single && rejected[0]) throw errors.validation([`phone: ${rejected[0].message.replace(/\.$/, '')}`]);
      const added = await addSuppressions(ctx.db, request.tenantId, entries);
      request.log.info({ added, rejected: rejected.length }, 'suppressions added');
      const summary = { added, alreadyPresent: entries.length - added, rejected };
      return reply.status(added > 0 ? 201 : 200).send(single ? { phone: entries[0]?.phone, ...summary } : summary);
    });

    app.get('/v1/suppressions', doc({ tag, summary: 'The suppression list, in phone order, keyset-paged', query: listQuery, responses: { 200: json(suppressionPage, suppressionPageExample) } }), async (request) => {
      const query = parseInput(listQuery, request.query);
      return listSuppressions(ctx.db, request.tenantId, query);
    });

    const deleteDoc = doc({
      tag,
      summary: 'Take a phone off the list (URL-encoded: %2B56912345678)',
      description: 'Only if the person asked to be contacted again.',
      params: phoneParams,
      query: countryQuery,
      responses: { 204: empty('Removed') },
      errors: [errors.suppressionNotFound('+56912345678')],
    });
    app.delete('/v1/suppressions/:phone', deleteDoc, async (request, reply) => {
      const { phone: raw } = parseInput(phoneParams, request.params);
      const { defaultCountry } = parseInput(countryQuery, request.query);
      const phone = normalizePhone(raw, defaultCountry);
      if (!phone.ok) throw errors.validation([`phone: ${phone.message.replace(/\.$/, '')}`]);
      if (!(await removeSuppression(ctx.db, request.tenantId, phone.e164))) throw errors.suppressionNotFound(phone.e164);
      request.log.info('suppression removed');
      return reply.status(204).send();
    });

    const exportDoc = doc({ tag, summary: 'The whole list as CSV, for a spreadsheet', responses: { 200: other('text/csv', z.string(), EXPORT_CSV, 'One row per phone') } });
    app.get('/v1/suppressions/export.csv', exportDoc, async (request, reply) => {
      const { db } = ctx;
      const tenantId = request.tenantId;
      async function* rows(): AsyncGenerator<unknown[]> {
        let cursor: string | undefined;
        do {
          const page = await listSuppressions(db, tenantId, { limit: EXPORT_PAGE_ROWS, ...(cursor ? { cursor } : {}) });
          for (const s of page.suppressions) yield [s.phone, s.reason, s.detail ?? '', s.createdAt.toISOString()];
          cursor = page.next ?? undefined;
        } while (cursor);
      }
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="suppressions.csv"')
        .send(spreadsheetCsv(['phone', 'reason', 'detail', 'created_at'], rows()));
    });

    // The import has a scope of its own, where CSV bodies reach the handler as streams.
    await app.register(async (scope) => {
      scope.removeContentTypeParser('text/plain');
      scope.addContentTypeParser(streamedTypes(['csv']), (_request, payload, done) => done(null, payload));

      const importDoc = doc({
        tag,
        summary: 'Import a CSV of phones into the list (streamed)',
        description: 'Options in the query string, or as form fields before the file. The phone column is found by name as in an upload.',
        rawBody: true,
        query: importQuery,
        body: { required: true, content: { 'text/csv': { schema: z.string(), example: BAJAS_CSV }, 'multipart/form-data': { schema: csvFile, example: { file: BAJAS_CSV } } } },
        responses: { 200: json(suppressionImport, { totalRows: 1200, added: 1150, alreadyPresent: 40, rejectedCount: 10, rejected: [{ line: 17, reason: 'PHONE_INVALID', message: 'The phone "12" is too short to be a phone number.' }], encoding: 'utf-8', delimiter: ',' }) },
        errors: [
          errors.malformedInput('the multipart body has no file part'),
          errors.noPhoneColumn(['nombre']),
          errors.uploadTooLarge(50 * 1_048_576),
          errors.contentEncodingUnsupported('zstd'),
          errors.encodingUnsupported('Shift_JIS'),
          errors.uploadNotText('a PDF document', 'export the list as CSV'),
        ],
      });
      scope.post('/v1/suppressions/import', importDoc, async (request: FastifyRequest, reply) => {
        let options = parseInput(importQuery, request.query);
        const contentType = request.headers['content-type'] ?? '';
        let stream: Readable;
        if (contentType.startsWith('multipart/form-data')) {
          const file = await request.file();
          if (!file) throw errors.malformedInput('the multipart body has no file part');
          const fields: Record<string, string> = {};
          for (const [name, value] of Object.entries(file.fields)) {
            const one = Array.isArray(value) ? value[0] : value;
            if (one && one.type === 'field' && typeof one.value === 'string') fields[name] = one.value;
          }
          options = parseInput(importQuery, { ...(request.query as Record<string, unknown>), ...fields, ...(file.filename ? { filename: file.filename } : {}) });
          if (!isCsv(file.mimetype, options.filename)) throw errors.unsupportedMediaType(file.mimetype);
          stream = file.file;
        } else {
          if (!isCsv(contentType, options.filename)) throw errors.unsupportedMediaType(contentType || 'none');
          stream = request.body as Readable;
        }
        const encoding = contentType.startsWith('multipart/form-data') ? undefined : request.headers['content-encoding'];
        const result = await importSuppressions(ctx.db, request.tenantId, uploadBody(stream, encoding, ctx.config.uploadMaxBytes), {
          defaultCountry: options.defaultCountry,
          ...(options.phoneColumn ? { phoneColumn: options.phoneColumn } : {}),
          detail: options.detail ?? (options.filename ? `import of ${options.filename}` : null),
        });
        request.log.info({ added: result.added, alreadyPresent: result.alreadyPresent, rejected: result.rejectedCount }, 'suppressions imported');
        return reply.status(200).send(result);
      });
    });
  };
}
