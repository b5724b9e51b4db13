-- AlterTable
ALTER TABLE "provider_accounts" ADD COLUMN     "portfolio_id" UUID;

-- AlterTable
ALTER TABLE "campaigns" ADD COLUMN     "pool_id" UUID;

-- AlterTable
ALTER TABLE "recipients" ADD COLUMN     "account_id" UUID,
ADD COLUMN     "account_pinned" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "sender_pools" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "sticky" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sender_pools_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sender_pool_members" (
    "pool_id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "weight" INTEGER NOT NULL DEFAULT 1,
    "template_id" UUID,
    "template_name" TEXT,
    "template_language" TEXT,

    CONSTRAINT "sender_pool_members_pkey" PRIMARY KEY ("pool_id","account_id")
);

-- CreateTable
CREATE TABLE "pool_phone_senders" (
    "pool_id" UUID NOT NULL,
    "phone" TEXT NOT NULL,
    "account_id" UUID NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "pool_phone_senders_pkey" PRIMARY KEY ("pool_id","phone")
);

-- CreateTable
CREATE TABLE "business_portfolios" (
    "id" UUID NOT NULL,
    "tenant_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "messaging_limit" INTEGER,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "business_portfolios_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "sender_pools_tenant_id_name_key" ON "sender_pools"("tenant_id", "name");

-- CreateIndex
CREATE INDEX "sender_pool_members_account_id_idx" ON "sender_pool_members"("account_id");

-- CreateIndex
CREATE UNIQUE INDEX "business_portfolios_tenant_id_name_key" ON "business_portfolios"("tenant_id", "name");

-- AddForeignKey
ALTER TABLE "provider_accounts" ADD CONSTRAINT "provider_accounts_portfolio_id_fkey" FOREIGN KEY ("portfolio_id") REFERENCES "business_portfolios"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "campaigns" ADD CONSTRAINT "campaigns_pool_id_fkey" FOREIGN KEY ("pool_id") REFERENCES "sender_pools"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "sender_pools" ADD CONSTRAINT "sender_pools_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "sender_pool_members" ADD CONSTRAINT "sender_pool_members_pool_id_fkey" FOREIGN KEY ("pool_id") REFERENCES "sender_pools"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "sender_pool_members" ADD CONSTRAINT "sender_pool_members_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "provider_accounts"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "sender_pool_members" ADD CONSTRAINT "sender_pool_members_template_id_fkey" FOREIGN KEY ("template_id") REFERENCES "templates"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "pool_phone_senders" ADD CONSTRAINT "pool_phone_senders_pool_id_fkey" FOREIGN KEY ("pool_id") REFERENCES "sender_pools"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "business_portfolios" ADD CONSTRAINT "business_portfolios_tenant_id_fkey" FOREIGN KEY ("tenant_id") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;
