-- Provider credentials encrypted at rest (AES-256-GCM). The key is in the environment, so SQL
-- cannot encrypt: the migrate command seals existing plaintext rows right after this runs
-- (src/security/credential-rotation.ts), and leaves `credentials` as {}.
ALTER TABLE "provider_accounts" ADD COLUMN     "credentials_sealed" TEXT,
ADD COLUMN     "credentials_key_id" TEXT;
