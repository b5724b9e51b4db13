-- CreateEnum
CREATE TYPE "campaign_kind" AS ENUM ('template', 'text');

-- CreateEnum
CREATE TYPE "event_source" AS ENUM ('send', 'webhook', 'operator', 'engine');

-- CreateEnum
CREATE TYPE "webhook_event_status" AS ENUM ('pending', 'waiting', 'processed', 'ignored', 'failed');

-- AlterEnum
ALTER TYPE "recipient_status" ADD VALUE 'deferred';

-- AlterTable
ALTER TABLE "tenants" ADD COLUMN     "stop_words" TEXT[] DEFAULT ARRAY[]::TEXT[];

-- AlterTable
ALTER TABLE "provider_accounts" ADD COLUMN     "messaging_limit" INTEGER,
ADD COLUMN     "next_probe_at" TIMESTAMPTZ(3),
ADD COLUMN     "pair_gap_seconds" INTEGER NOT NULL DEFAULT 6,
ADD COLUMN     "probe_failures" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "webhook_secret_hash" TEXT;

-- AlterTable
ALTER TABLE "templates" ADD COLUMN     "buttons" JSONB NOT NULL DEFAULT '[]',
ADD COLUMN     "header_type" TEXT NOT NULL DEFAULT 'none';

-- AlterTable
ALTER TABLE "campaigns" ADD COLUMN     "error_budget" DOUBLE PRECISION DEFAULT 0.5,
ADD COLUMN     "expires_at" TIMESTAMPTZ(3),
ADD COLUMN     "kind" "campaign_kind" NOT NULL DEFAULT 'template',
ADD COLUMN     "options" JSONB NOT NULL DEFAULT '{}',
ADD COLUMN     "start_at" TIMESTAMPTZ(3),
ADD COLUMN     "text" TEXT,
ADD COLUMN     "window_end" INTEGER,
ADD COLUMN     "window_start" INTEGER;

-- AlterTable
ALTER TABLE "recipients" ADD COLUMN     "not_before" TIMESTAMPTZ(3),
ADD COLUMN     "opted_out_at" TIMESTAMPTZ(3),
ADD COLUMN     "time_zone" TEXT;

-- CreateTable
CREATE TABLE "recipient_events" (
    "id" BIGSERIAL NOT NULL,
    "tenant_id" UUID NOT NULL,
    "campaign_id" UUID NOT NULL,
    "recipient_id" BIGINT NOT NULL,
    "status" TEXT NOT NULL,
    "source" "event_source" NOT NULL,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "recorded_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "error_code" TEXT,
    "provider_code" TEXT,
    "detail" TEXT,
    "dedupe_key" TEXT,

    CONSTRAINT "recipient_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "webhook_events" (
    "id" BIGSERIAL NOT NULL,
    "tenant_id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "provider" "provider" NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "content_type" TEXT,
    "body" TEXT NOT NULL,
    "status" "webhook_event_status" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3),
    "processed_at" TIMESTAMPTZ(3),
    "error" TEXT,

    CONSTRAINT "webhook_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "inbound_messages" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "webhook_event_id" BIGINT,
    "provider_message_id" TEXT NOT NULL,
    "phone" TEXT NOT NULL,
    "recipient_id" BIGINT,
    "campaign_id" UUID,
    "text" TEXT,
    "button_payload" TEXT,
    "opt_out" BOOLEAN NOT NULL DEFAULT false,
    "received_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "inbound_messages_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "suppressions" (
    "tenant_id" UUID NOT NULL,
    "phone" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "detail" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "suppressions_pkey" PRIMARY KEY ("tenant_id","phone")
);

-- CreateIndex
CREATE INDEX "recipient_events_recipient_id_id_idx" ON "recipient_events"("recipient_id", "id");

-- CreateIndex
CREATE INDEX "recipient_events_campaign_id_status_idx" ON "recipient_events"("campaign_id", "status");

-- CreateIndex
CREATE UNIQUE INDEX "recipient_events_recipient_id_dedupe_key_key" ON "recipient_events"("recipient_id", "dedupe_key");

-- CreateIndex
CREATE INDEX "webhook_events_status_id_idx" ON "webhook_events"("status", "id");

-- CreateIndex
CREATE INDEX "webhook_events_account_id_received_at_idx" ON "webhook_events"("account_id", "received_at");

-- CreateIndex
CREATE INDEX "inbound_messages_campaign_id_idx" ON "inbound_messages"("campaign_id");

-- CreateIndex
CREATE INDEX "inbound_messages_tenant_id_phone_idx" ON "inbound_messages"("tenant_id", "phone");

-- CreateIndex
CREATE UNIQUE INDEX "inbound_messages_account_id_provider_message_id_key" ON "inbound_messages"("account_id", "provider_message_id");

-- AddForeignKey
ALTER TABLE "recipient_events" ADD CONSTRAINT "recipient_events_recipient_id_fkey" FOREIGN KEY ("recipient_id") REFERENCES "recipients"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_events" ADD CONSTRAINT "webhook_events_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "provider_accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "inbound_messages" ADD CONSTRAINT "inbound_messages_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "provider_accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "suppressions" ADD CONSTRAINT "suppressions_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;
