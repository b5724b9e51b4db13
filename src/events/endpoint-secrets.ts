/**
 * Event endpoints' signing secrets, sealed at rest with the credentials vault
 * (src/security/credential-vault.ts, bound to `event-endpoint:<id>`), so a database dump holds
 * none of them. `secret_key_id` names the key; a row without one is a plaintext secret written
 * before sealing, read as it is until `db:migrate` or a rotation seals it.
 */
import type pg from 'pg';
import type { CredentialVault } from '../security/credential-vault.js';

const binding = (endpointId: string) => `event-endpoint:${endpointId}`;

export type SealedSecret = { secret: string; secretKeyId: string };

export function sealEndpointSecret(vault: CredentialVault, endpointId: string, secret: string): SealedSecret {
  const sealed = vault.seal(binding(endpointId), { secret });
  return { secret: sealed.credentialsSealed, secretKeyId: sealed.credentialsKeyId };
}

export function openEndpointSecret(vault: CredentialVault, endpointId: string, stored: string, keyId: string | null): string {
  if (keyId === null) return stored;
  const opened = vault.open(binding(endpointId), stored, keyId).secret;
  if (typeof opened !== 'string') throw new Error(`event endpoint ${endpointId}: its sealed secret holds no text`);
  return opened;
}

/**
 * Seals every endpoint secret with the active key: plaintext ones only (`db:migrate`), or also
 * those on another key (a rotation). One conditional update per row, so a rotation racing a
 * secret rotation through the API never overwrites the newer secret.
 */
export async function resealEndpointSecrets(pool: pg.Pool, vault: CredentialVault, options: { onlyPlaintext?: boolean } = {}): Promise<number> {
  const { rows } = await pool.query<{ id: string; secret: string; secret_key_id: string | null }>(
    options.onlyPlaintext
      ? `SELECT id, secret, secret_key_id FROM event_endpoints WHERE secret_key_id IS NULL`
      : `SELECT id, secret, secret_key_id FROM event_endpoints WHERE secret_key_id IS DISTINCT FROM $1`,
    options.onlyPlaintext ? [] : [vault.activeKeyId],
  );
  let resealed = 0;
  for (const row of rows) {
    const sealed = sealEndpointSecret(vault, row.id, openEndpointSecret(vault, row.id, row.secret, row.secret_key_id));
    const { rowCount } = await pool.query(
      `UPDATE event_endpoints SET secret = $2, secret_key_id = $3 WHERE id = $1 AND secret = $4 AND secret_key_id IS NOT DISTINCT FROM $5`,
      [row.id, sealed.secret, sealed.secretKeyId, row.secret, row.secret_key_id],
    );
    resealed += rowCount ?? 0;
  }
  return resealed;
}
