-- AlterTable
-- (in schema.prisma's order: the migrations test compares the columns' order too.)
ALTER TABLE "provider_accounts" ADD COLUMN     "quality_rating" TEXT,
ADD COLUMN     "quality_flagged" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "messaging_tier" TEXT,
ADD COLUMN     "restriction_code" TEXT,
ADD COLUMN     "restriction_until" TIMESTAMPTZ(3),
ADD COLUMN     "quality_updated_at" TIMESTAMPTZ(3),
ADD COLUMN     "message_prices" JSONB;
