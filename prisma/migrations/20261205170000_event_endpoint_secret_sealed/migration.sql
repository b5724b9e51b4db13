-- Event endpoint secrets are sealed with the credentials key named here (src/events/endpoint-secrets.ts).
-- Existing rows keep their plaintext secret (secret_key_id NULL) until `db:migrate` seals them.
ALTER TABLE "event_endpoints" ADD COLUMN "secret_key_id" TEXT;
