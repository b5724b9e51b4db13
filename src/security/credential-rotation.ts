/**
 * Re-encrypts stored credentials to the active key: every row sealed with another key, and
 * every row still in plaintext (written before encryption at rest). Runs while the engine
 * sends: readers accept every configured key, and each row is swapped by a conditional UPDATE
 * (only if it still holds what was read), so a PATCH landing in between is never overwritten;
 * such a row is simply read again.
 *
 * Used by the migrate command (plaintext rows, right after the SQL migrations) and by
 * `npm run cli -- credentials rotate`.
 */
import type { Pool } from 'pg';
import type { CredentialVault } from './credential-vault.js';

export type RotationReport = {
  /** Rows now sealed with the active key by this run. */
  resealed: number;
  /** Of those, rows that were plaintext. */
  fromPlaintext: number;
  /** Rows whose key is not configured (or whose value was altered): left as they are. */
  unreadable: string[];
};

type Row = { id: string; credentials: unknown; credentials_sealed: string | null; credentials_key_id: string | null };

const BATCH = 200;
/** Times one row is re-read when a concurrent write changed it under us. */
const MAX_TRIES = 5;

export async function resealCredentials(pool: Pool, vault: CredentialVault, options: { onlyPlaintext?: boolean } = {}): Promise<RotationReport> {
  const report: RotationReport = { resealed: 0, fromPlaintext: 0, unreadable: [] };
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const { rows } = await pool.query<Row>(
      `SELECT id::text, credentials, credentials_sealed, credentials_key_id FROM provider_accounts
        WHERE id > $1::uuid AND (credentials_sealed IS NULL OR ($2::boolean IS NOT TRUE AND credentials_key_id IS DISTINCT FROM $3))
        ORDER BY id LIMIT ${BATCH}`,
      [after, options.onlyPlaintext ?? false, vault.activeKeyId],
    );
    if (rows.length === 0) return report;
    for (const row of rows) await resealRow(pool, vault, row, report);
    after = rows[rows.length - 1]?.id ?? after;
  }
}

async function resealRow(pool: Pool, vault: CredentialVault, first: Row, report: RotationReport): Promise<void> {
  let row: Row | undefined = first;
  for (let attempt = 0; row && attempt < MAX_TRIES; attempt += 1) {
    if (row.credentials_sealed !== null && row.credentials_key_id === vault.activeKeyId) return;
    let plain;
    try {
      plain = vault.read({ id: row.id, credentials: row.credentials, credentialsSealed: row.credentials_sealed, credentialsKeyId: row.credentials_key_id });
    } catch {
      report.unreadable.push(row.id);
      return;
    }
    const sealed = vault.seal(row.id, plain);
    const { rowCount } = await pool.query(
      `UPDATE provider_accounts SET credentials = '{}'::jsonb, credentials_sealed = $2, credentials_key_id = $3
        WHERE id = $1::uuid AND credentials_sealed IS NOT DISTINCT FROM $4 AND credentials = $5::jsonb`,
      [row.id, sealed.credentialsSealed, sealed.credentialsKeyId, row.credentials_sealed, JSON.stringify(row.credentials ?? {})],
    );
    if (rowCount === 1) {
      report.resealed += 1;
      if (row.credentials_sealed === null) report.fromPlaintext += 1;
      return;
    }
    const fresh: { rows: Row[] } = await pool.query<Row>('SELECT id::text, credentials, credentials_sealed, credentials_key_id FROM provider_accounts WHERE id = $1::uuid', [row.id]);
    row = fresh.rows[0];
  }
  if (row) report.unreadable.push(row.id);
}

/** Rows not sealed with the active key (plaintext included): what a rotation has left to do. */
export async function countNotOnActiveKey(pool: Pool, vault: CredentialVault): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    'SELECT count(*) AS n FROM provider_accounts WHERE credentials_sealed IS NULL OR credentials_key_id IS DISTINCT FROM $1',
    [vault.activeKeyId],
  );
  return Number(rows[0]?.n ?? 0);
}
