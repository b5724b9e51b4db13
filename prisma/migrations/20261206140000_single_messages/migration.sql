-- AlterTable
ALTER TABLE "recipient_events" ADD COLUMN     "single_message_id" BIGINT,
ALTER COLUMN "campaign_id" DROP NOT NULL,
ALTER COLUMN "recipient_id" DROP NOT NULL;

-- CreateTable
CREATE TABLE "single_messages" (
    "id" BIGSERIAL NOT NULL,
    "tenant_id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "kind" TEXT NOT NULL,
    "phone" TEXT,
    "ticket_id" TEXT,
    "status" "recipient_status" NOT NULL DEFAULT 'sending',
    "provider_message_id" TEXT,
    "error_code" TEXT,
    "provider_error_code" TEXT,
    "provider_error_text" TEXT,

    CONSTRAINT "single_messages_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "single_messages_tenant_id_created_at_idx" ON "single_messages"("tenant_id", "created_at");

-- CreateIndex
CREATE INDEX "single_messages_account_id_idx" ON "single_messages"("account_id");

-- CreateIndex
CREATE INDEX "recipient_events_single_message_id_id_idx" ON "recipient_events"("single_message_id", "id");

-- AddForeignKey
ALTER TABLE "single_messages" ADD CONSTRAINT "single_messages_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "single_messages" ADD CONSTRAINT "single_messages_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "provider_accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "recipient_events" ADD CONSTRAINT "recipient_events_single_message_id_fkey" FOREIGN KEY ("single_message_id") REFERENCES "single_messages"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Beyond schema.prisma: single messages move through the recipient transition table too.
CREATE TRIGGER single_messages_status_guard
  BEFORE UPDATE OF status ON single_messages
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION recipient_status_guard();

-- A history row belongs to a campaign's recipient or to a single message.
ALTER TABLE recipient_events ADD CONSTRAINT recipient_events_one_subject CHECK (
  (recipient_id IS NOT NULL AND campaign_id IS NOT NULL AND single_message_id IS NULL)
  OR (recipient_id IS NULL AND campaign_id IS NULL AND single_message_id IS NOT NULL));
