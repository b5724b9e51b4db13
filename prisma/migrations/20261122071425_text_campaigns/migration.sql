-- AlterTable
ALTER TABLE "campaigns" ALTER COLUMN "template_id" DROP NOT NULL;
