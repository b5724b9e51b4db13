/** What the upload routes answer (src/api/routes/uploads.ts, console-uploads.ts). */
import { z } from 'zod';
import { UploadStatus } from '../../../generated/prisma/enums.js';
import { dateTime, uuid } from '../examples.js';

const count = z.number().int().min(0);

export const upload = z.object({
  id: uuid,
  tenantId: uuid,
  campaignId: uuid,
  filename: z.string().nullable(),
  contentType: z.string(),
  status: z.enum(Object.values(UploadStatus)),
  encoding: z.string().nullable(),
  delimiter: z.string().nullable(),
  totalRows: count,
  accepted: count,
  rejected: count,
  duplicates: count,
  error: z.string().nullable(),
  createdAt: dateTime,
  finishedAt: dateTime.nullable(),
  rejectedReportUrl: z.string(),
});

export const uploadPreview = z.object({
  preview: z.object({
    format: z.enum(['csv', 'json', 'ndjson']),
    encoding: z.enum(['utf-8', 'windows-1252', 'utf-16le', 'utf-16be']),
    delimiter: z.string().nullable(),
    columns: z.array(z.string()),
    mapping: z.object({ phoneColumn: z.string(), variables: z.array(z.string()), timeZoneColumn: z.string().nullable() }).nullable(),
    phoneColumn: z.string().nullable(),
    mappingError: z.object({ code: z.string(), message: z.string() }).nullable(),
    rows: z.array(
      z.object({
        line: z.number().int(),
        cells: z.array(z.string()),
        ok: z.boolean(),
        phone: z.string().optional(),
        variables: z.array(z.string()).optional(),
        problem: z.object({ code: z.string(), message: z.string() }).optional(),
      }),
    ),
  }),
});

export const rejectedSamples = z.object({
  uploadId: uuid,
  reasons: z.array(z.object({ reason: z.string(), count, samples: z.array(z.object({ line: z.number().int(), message: z.string(), raw: z.string() })) })),
});
