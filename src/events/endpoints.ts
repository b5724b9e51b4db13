/**
 * A tenant's event endpoints and their delivery log. Every query is scoped by tenant. The
 * signing secret is returned only by create and rotate.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { errors } from '../errors.js';
import { DEFAULT_EVENT_TYPES, type EventType } from './catalog.js';
import type { EndpointFormat } from './deliver.js';
import { outboundHostProblem } from '../security/outbound-guard.js';
import { newEndpointSecret } from './signature.js';
import { sealEndpointSecret } from './endpoint-secrets.js';
import { securitySettings } from '../security/security-settings.js';

export type PublicEndpoint = {
  id: string;
  url: string;
  description: string | null;
  events: string[];
  format: EndpointFormat;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
};

type EndpointRow = { id: string; url: string; description: string | null; event_types: string[]; format: EndpointFormat; enabled: boolean; created_at: Date; updated_at: Date };

const COLUMNS = 'id, url, description, event_types, format, enabled, created_at, updated_at';

function toPublic(row: EndpointRow): PublicEndpoint {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    events: row.event_types,
    format: row.format,
    enabled: row.enabled,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export type EndpointInput = { url: string; events?: EventType[]; format?: EndpointFormat; description?: string | null; enabled?: boolean };

/** A first, early answer when the endpoint is saved; every delivery is checked again when it connects (src/events/deliver.ts). */
async function checkUrl(url: string, allowPrivate: boolean): Promise<void> {
  const problem = await outboundHostProblem(url, { allowPrivateHosts: allowPrivate });
  if (problem) throw errors.eventEndpointUrlRefused(url, problem);
}

export async function createEndpoint(pool: pg.Pool, tenantId: string, input: EndpointInput, allowPrivate: boolean): Promise<{ endpoint: PublicEndpoint; secret: string }> {
  await checkUrl(input.url, allowPrivate);
  const secret = newEndpointSecret();
  const id = randomUUID();
  const sealed = sealEndpointSecret(securitySettings().vault, id, secret);
  const { rows } = await pool.query<EndpointRow>(
    `INSERT INTO event_endpoints (id, tenant_id, url, description, event_types, format, secret, enabled, secret_key_id)
     VALUES ($8, $1, $2, $3, $4, $5, $6, $7, $9) RETURNING ${COLUMNS}`,
    [tenantId, input.url, input.description ?? null, [...new Set(input.events ?? DEFAULT_EVENT_TYPES)], input.format ?? 'json', sealed.secret, input.enabled ?? true, id, sealed.secretKeyId],
  );
  return { endpoint: toPublic(rows[0] as EndpointRow), secret };
}

export async function listEndpoints(pool: pg.Pool, tenantId: string): Promise<PublicEndpoint[]> {
  const { rows } = await pool.query<EndpointRow>(`SELECT ${COLUMNS} FROM event_endpoints WHERE tenant_id = $1 ORDER BY created_at, id`, [tenantId]);
  return rows.map(toPublic);
}

export async function getEndpoint(pool: pg.Pool, tenantId: string, id: string): Promise<PublicEndpoint> {
  const { rows } = await pool.query<EndpointRow>(`SELECT ${COLUMNS} FROM event_endpoints WHERE id = $1 AND tenant_id = $2`, [id, tenantId]);
  if (!rows[0]) throw errors.eventEndpointNotFound(id);
  return toPublic(rows[0]);
}

export async function updateEndpoint(pool: pg.Pool, tenantId: string, id: string, input: Partial<EndpointInput>, allowPrivate: boolean): Promise<PublicEndpoint> {
  if (input.url !== undefined) await checkUrl(input.url, allowPrivate);
  const { rows } = await pool.query<EndpointRow>(
    `UPDATE event_endpoints SET url = coalesce($3, url), event_types = coalesce($4, event_types), format = coalesce($5, format),
            description = CASE WHEN $6 THEN $7 ELSE description END, enabled = coalesce($8, enabled), updated_at = now()
      WHERE id = $1 AND tenant_id = $2 RETURNING ${COLUMNS}`,
    [
      id,
      tenantId,
      input.url ?? null,
      input.events ? [...new Set(input.events)] : null,
      input.format ?? null,
      input.description !== undefined,
      input.description ?? null,
      input.enabled ?? null,
    ],
  );
  if (!rows[0]) throw errors.eventEndpointNotFound(id);
  return toPublic(rows[0]);
}

export async function deleteEndpoint(pool: pg.Pool, tenantId: string, id: string): Promise<void> {
  const { rowCount } = await pool.query(`DELETE FROM event_endpoints WHERE id = $1 AND tenant_id = $2`, [id, tenantId]);
  if (!rowCount) throw errors.eventEndpointNotFound(id);
}

/** A new secret; deliveries signed from now on use it (pending retries included). */
export async function rotateEndpointSecret(pool: pg.Pool, tenantId: string, id: string): Promise<string> {
  const secret = newEndpointSecret();
  const sealed = sealEndpointSecret(securitySettings().vault, id, secret);
  const { rowCount } = await pool.query(`UPDATE event_endpoints SET secret = $3, secret_key_id = $4, updated_at = now() WHERE id = $1 AND tenant_id = $2`, [
    id,
    tenantId,
    sealed.secret,
    sealed.secretKeyId,
  ]);
  if (!rowCount) throw errors.eventEndpointNotFound(id);
  return secret;
}

export type DeliveryLogEntry = {
  id: string;
  eventId: string;
  type: string;
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  createdAt: string;
  data: unknown;
  tries: { at: string; statusCode: number | null; error: string | null; durationMs: number }[];
};

type DeliveryRow = {
  id: string;
  event_id: string;
  type: string;
  status: string;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: Date;
  delivered_at: Date | null;
  created_at: Date;
  data: unknown;
  tries: { at: string; statusCode: number | null; error: string | null; durationMs: number }[] | null;
};

/** Newest first, `before` a delivery id for the next page. Each entry carries its last tries (up to 10). */
export async function listDeliveries(
  pool: pg.Pool,
  tenantId: string,
  endpointId: string,
  query: { status?: string; before?: string; limit: number },
): Promise<{ deliveries: DeliveryLogEntry[]; next: string | null }> {
  await getEndpoint(pool, tenantId, endpointId);
  const { rows } = await pool.query<DeliveryRow>(
    `SELECT d.id, d.event_id, ev.type, d.status::text, d.attempts, d.last_status_code, d.last_error, d.next_attempt_at, d.delivered_at, d.created_at, ev.data,
            (SELECT json_agg(json_build_object('at', a.attempted_at, 'statusCode', a.status_code, 'error', a.error, 'durationMs', a.duration_ms) ORDER BY a.id)
               FROM (SELECT * FROM event_delivery_attempts WHERE delivery_id = d.id ORDER BY id DESC LIMIT 10) a) AS tries
       FROM event_deliveries d JOIN outbound_events ev ON ev.id = d.event_id
      WHERE d.endpoint_id = $1 AND d.tenant_id = $2 AND ($3::text IS NULL OR d.status::text = $3) AND ($4::bigint IS NULL OR d.id < $4)
      ORDER BY d.id DESC LIMIT $5`,
    [endpointId, tenantId, query.status ?? null, query.before ?? null, query.limit + 1],
  );
  const page = rows.slice(0, query.limit);
  return {
    deliveries: page.map((r) => ({
      id: r.id,
      eventId: r.event_id,
      type: r.type,
      status: r.status,
      attempts: r.attempts,
      lastStatusCode: r.last_status_code,
      lastError: r.last_error,
      nextAttemptAt: r.status === 'pending' ? r.next_attempt_at.toISOString() : null,
      deliveredAt: r.delivered_at?.toISOString() ?? null,
      createdAt: r.created_at.toISOString(),
      data: r.data,
      tries: r.tries ?? [],
    })),
    next: rows.length > query.limit ? (page[page.length - 1]?.id ?? null) : null,
  };
}
