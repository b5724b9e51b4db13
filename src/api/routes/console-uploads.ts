/**
 * POST /v1/uploads/preview?templateId&format&phoneColumn&variables&defaultCountry&truncated:
 * the first rows of a recipient file as an upload would read them (src/ingest/preview-upload.ts),
 * with the detected encoding, delimiter and column mapping; nothing is stored. The body is the
 * file's beginning (at most PREVIEW_MAX_BYTES; `truncated=true` when it is cut, so a partial
 * last row is left out). The console's upload wizard calls it; so can anyone with a key.
 */
import type { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { errors } from '../../errors.js';
import { previewUpload } from '../../ingest/preview-upload.js';
import type { CountryCode } from '../../phones/normalize-phone.js';
import type { AppContext } from '../app.js';
import { parseInput } from '../validate.js';

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

export function consoleUploadRoutes(ctx: AppContext): FastifyPluginAsync {
  return async (app) => {
    app.removeContentTypeParser(['application/json', 'text/plain']);
    app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

    app.post('/v1/uploads/preview', { bodyLimit: PREVIEW_MAX_BYTES }, async (request) => {
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
