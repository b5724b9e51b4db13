/**
 * Event endpoints' signing secrets at rest: sealed with the credentials key, so a raw pg_dump
 * holds none of them; a plaintext secret from before sealing is sealed by the migrate step and
 * still signs the same.
 */
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { openEndpointSecret, resealEndpointSecrets } from '../../src/events/endpoint-secrets.js';
import { securitySettings } from '../../src/security/security-settings.js';
import { apiForFile, expectStatus } from '../api/api-harness.js';

const h = apiForFile();

type Created = { endpoint: { id: string }; secret: string };

async function row(id: string): Promise<{ secret: string; secret_key_id: string | null }> {
  const { rows } = await h.ctx.db.pool.query<{ secret: string; secret_key_id: string | null }>(`SELECT secret, secret_key_id FROM event_endpoints WHERE id = $1`, [id]);
  if (!rows[0]) throw new Error(`no endpoint ${id}`);
  return rows[0];
}

it('stores an endpoint secret sealed, opens it to the secret the API showed once, and rotation seals the new one', async () => {
  const created = expectStatus<Created>(await h.api.post('/v1/event-endpoints', { url: 'https://hooks.example.com/a' }), 201);
  const stored = await row(created.endpoint.id);
  expect(created.secret.length).toBeGreaterThan(16);
  expect(stored.secret).not.toContain(created.secret);
  expect(stored.secret_key_id).toBe(securitySettings().vault.activeKeyId);
  expect(openEndpointSecret(securitySettings().vault, created.endpoint.id, stored.secret, stored.secret_key_id)).toBe(created.secret);

  const rotated = expectStatus<{ secret: string }>(await h.api.post(`/v1/event-endpoints/${created.endpoint.id}/rotate-secret`, {}), 200);
  const after = await row(created.endpoint.id);
  expect(after.secret).not.toContain(rotated.secret);
  expect(openEndpointSecret(securitySettings().vault, created.endpoint.id, after.secret, after.secret_key_id)).toBe(rotated.secret);

  const dump = spawnSync('pg_dump', ['--no-owner', h.ctx.config.databaseUrl], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  expect(dump.status, dump.stderr).toBe(0);
  expect(dump.stdout).toContain('event_endpoints');
  expect(dump.stdout).not.toContain(created.secret);
  expect(dump.stdout).not.toContain(rotated.secret);
});

it('seals a plaintext secret written before sealing, and it opens to the same secret', async () => {
  const created = expectStatus<Created>(await h.api.post('/v1/event-endpoints', { url: 'https://hooks.example.com/b' }), 201);
  await h.ctx.db.pool.query(`UPDATE event_endpoints SET secret = $2, secret_key_id = NULL WHERE id = $1`, [created.endpoint.id, 'legacy-plaintext-secret-123456']);
  expect(await resealEndpointSecrets(h.ctx.db.pool, securitySettings().vault, { onlyPlaintext: true })).toBe(1);
  const stored = await row(created.endpoint.id);
  expect(stored.secret).not.toContain('legacy-plaintext-secret');
  expect(openEndpointSecret(securitySettings().vault, created.endpoint.id, stored.secret, stored.secret_key_id)).toBe('legacy-plaintext-secret-123456');
  expect(await resealEndpointSecrets(h.ctx.db.pool, securitySettings().vault, { onlyPlaintext: true })).toBe(0);
});
