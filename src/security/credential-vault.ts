/**
 * Provider credentials at rest: AES-256-GCM, one random 96-bit IV per value, the account id
 * and key id as additional authenticated data (a sealed value copied onto another account row
 * does not open), and the key id stored beside the value (`credentials_key_id`), so readers
 * pick the right key and a rotation can find what is left to re-encrypt.
 *
 * Keys come from CREDENTIALS_KEYS (`id:base64,...`); CREDENTIALS_KEY_ID names the one that
 * encrypts. Every listed key decrypts, so a rotation runs while the engine sends. With no key
 * outside production a fixed development key is used (it is public: it only keeps values out
 * of plain sight in a development database); in production config refuses to load without one.
 *
 * Stored form, `credentials_sealed`: `v1.<iv>.<tag>.<ciphertext>`, each base64url. The old
 * plaintext `credentials` column is left `{}` once a row is sealed; a row not sealed yet
 * (written before this version) is read from it until `sealPlaintextCredentials` runs.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

/** Id of the development key, stored beside values it sealed, so they can be re-encrypted later. */
export const DEVELOPMENT_KEY_ID = 'dev';
// Not a secret (it is in the source); only for development databases.
const DEVELOPMENT_KEY = createHash('sha256').update('whatsapp-campaign-engine development credentials key: public, never for production').digest();

export type Credentials = Record<string, unknown>;
/** The columns a sealed value is written to. `credentials` is cleared so no plaintext remains. */
export type SealedColumns = { credentials: Record<string, never>; credentialsSealed: string; credentialsKeyId: string };
/** The columns a reader needs. */
export type CredentialColumns = { id: string; credentials: unknown; credentialsSealed: string | null; credentialsKeyId: string | null };

export class CredentialKeyError extends Error {
  override name = 'CredentialKeyError';
}

export class CredentialVault {
  readonly activeKeyId: string;
  private readonly keys: ReadonlyMap<string, Buffer>;

  constructor(keys: ReadonlyMap<string, Buffer>, activeKeyId: string | null) {
    if (keys.size === 0 || activeKeyId === null) {
      this.keys = new Map([[DEVELOPMENT_KEY_ID, DEVELOPMENT_KEY]]);
      this.activeKeyId = DEVELOPMENT_KEY_ID;
    } else {
      this.keys = keys;
      this.activeKeyId = activeKeyId;
    }
    if (!this.keys.has(this.activeKeyId)) throw new CredentialKeyError(`The active credentials key "${this.activeKeyId}" is not configured.`);
  }

  /** True when no key was configured and the public development key is in use. */
  get usesDevelopmentKey(): boolean {
    return this.activeKeyId === DEVELOPMENT_KEY_ID;
  }

  hasKey(id: string): boolean {
    return this.keys.has(id);
  }

  /** The credentials of an account, encrypted with the active key. */
  seal(accountId: string, credentials: Credentials): SealedColumns {
    const key = this.key(this.activeKeyId);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(aad(accountId, this.activeKeyId));
    const ciphertext = Buffer.concat([cipher.update(JSON.stringify(credentials), 'utf8'), cipher.final()]);
    const sealed = ['v1', iv, cipher.getAuthTag(), ciphertext].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
    return { credentials: {}, credentialsSealed: sealed, credentialsKeyId: this.activeKeyId };
  }

  /** Decrypts a sealed value with the key it names; throws when the key is unknown or the value was altered. */
  open(accountId: string, sealed: string, keyId: string): Credentials {
    const [version, iv, tag, ciphertext] = sealed.split('.');
    if (version !== 'v1' || iv === undefined || tag === undefined || ciphertext === undefined) throw new CredentialKeyError('The stored credentials are not in a known format.');
    const decipher = createDecipheriv('aes-256-gcm', this.key(keyId), Buffer.from(iv, 'base64url'));
    decipher.setAAD(aad(accountId, keyId));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    const plain = Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    return JSON.parse(plain) as Credentials;
  }

  /** An account row's credentials: decrypted, or the plaintext of a row not sealed yet. */
  read(row: CredentialColumns): Credentials {
    if (row.credentialsSealed != null && row.credentialsKeyId != null) return this.open(row.id, row.credentialsSealed, row.credentialsKeyId);
    const legacy = row.credentials;
    return typeof legacy === 'object' && legacy !== null && !Array.isArray(legacy) ? (legacy as Credentials) : {};
  }

  /**
   * A key for hashing values kept in Redis (phones in pair-gap keys), derived from the active
   * key, so every process with the same configuration derives the same one.
   */
  derivedKey(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.key(this.activeKeyId), Buffer.alloc(0), `wce:${purpose}`, 32));
  }

  private key(id: string): Buffer {
    const key = this.keys.get(id);
    if (!key) throw new CredentialKeyError(`The credentials were encrypted with key "${id}", which is not in CREDENTIALS_KEYS.`);
    return key;
  }
}

function aad(accountId: string, keyId: string): Buffer {
  return Buffer.from(`provider_accounts:${accountId}:${keyId}`, 'utf8');
}
