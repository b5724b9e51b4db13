-- CreateEnum
CREATE TYPE "api_key_scope" AS ENUM ('read', 'full', 'admin');

-- AlterTable
-- (scope first: the columns' order must match schema.prisma's.)
ALTER TABLE "api_keys" ADD COLUMN     "scope" "api_key_scope" NOT NULL DEFAULT 'full',
ADD COLUMN     "expires_at" TIMESTAMPTZ(3);

-- Keys made before scopes existed could do everything a tenant can: they become admin keys, so
-- every tenant can manage its keys through the API without a new key from the CLI.
UPDATE "api_keys" SET "scope" = 'admin';
