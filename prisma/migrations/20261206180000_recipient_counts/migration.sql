-- CreateTable
CREATE TABLE "recipient_count_deltas" (
    "id" BIGSERIAL NOT NULL,
    "campaign_id" UUID NOT NULL,
    "account_id" UUID,
    "status" "recipient_status" NOT NULL,
    "delta" BIGINT NOT NULL,

    CONSTRAINT "recipient_count_deltas_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "recipient_counts" (
    "campaign_id" UUID NOT NULL,
    "account_id" UUID NOT NULL,
    "status" "recipient_status" NOT NULL,
    "n" BIGINT NOT NULL,

    CONSTRAINT "recipient_counts_pkey" PRIMARY KEY ("campaign_id","account_id","status")
);

-- CreateIndex
CREATE INDEX "recipient_count_deltas_campaign_id_idx" ON "recipient_count_deltas"("campaign_id");

-- AddForeignKey
ALTER TABLE "recipient_counts" ADD CONSTRAINT "recipient_counts_campaign_id_fkey" FOREIGN KEY ("campaign_id") REFERENCES "campaigns"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Beyond schema.prisma: Postgres keeps the recipients' counts by (campaign, account, status), so
-- every writer is counted (ingest COPY, feeder, claims, results, webhooks, moves, deletes, manual
-- SQL). Each statement on recipients appends one row per (campaign, account, status) it changed
-- to recipient_count_deltas, from its transition tables: appends only, so writers updating the
-- same campaign at once never wait on one shared row. The leader folds the deltas into
-- recipient_counts (src/recipients/status-counts.ts); a count is recipient_counts + pending deltas.
CREATE FUNCTION recipient_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $counts$
BEGIN
  INSERT INTO recipient_count_deltas (campaign_id, account_id, status, delta)
  SELECT campaign_id, account_id, status, count(*) FROM new_rows GROUP BY campaign_id, account_id, status;
  RETURN NULL;
END
$counts$;

-- A row whose campaign, account and status stay the same adds -1 and +1 to one key: no delta.
CREATE FUNCTION recipient_counts_updated() RETURNS trigger LANGUAGE plpgsql AS $counts$
BEGIN
  INSERT INTO recipient_count_deltas (campaign_id, account_id, status, delta)
  SELECT campaign_id, account_id, status, sum(delta)
    FROM (SELECT campaign_id, account_id, status, -1 AS delta FROM old_rows
          UNION ALL
          SELECT campaign_id, account_id, status, 1 AS delta FROM new_rows) AS changes
   GROUP BY campaign_id, account_id, status
  HAVING sum(delta) <> 0;
  RETURN NULL;
END
$counts$;

CREATE FUNCTION recipient_counts_deleted() RETURNS trigger LANGUAGE plpgsql AS $counts$
BEGIN
  INSERT INTO recipient_count_deltas (campaign_id, account_id, status, delta)
  SELECT campaign_id, account_id, status, -count(*) FROM old_rows GROUP BY campaign_id, account_id, status;
  RETURN NULL;
END
$counts$;

-- TRUNCATE fires no row or statement DELETE triggers: it empties every count.
CREATE FUNCTION recipient_counts_truncated() RETURNS trigger LANGUAGE plpgsql AS $counts$
BEGIN
  DELETE FROM recipient_count_deltas;
  DELETE FROM recipient_counts;
  RETURN NULL;
END
$counts$;

CREATE TRIGGER recipients_count_inserted AFTER INSERT ON recipients
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION recipient_counts_inserted();
CREATE TRIGGER recipients_count_updated AFTER UPDATE ON recipients
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION recipient_counts_updated();
CREATE TRIGGER recipients_count_deleted AFTER DELETE ON recipients
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION recipient_counts_deleted();
CREATE TRIGGER recipients_count_truncated AFTER TRUNCATE ON recipients
  FOR EACH STATEMENT EXECUTE FUNCTION recipient_counts_truncated();

-- The counts of the rows already there. The migration is one transaction and CREATE TRIGGER
-- holds a lock that keeps writers out of recipients until it commits, so no write falls between
-- this snapshot and the triggers.
INSERT INTO recipient_counts (campaign_id, account_id, status, n)
SELECT campaign_id, coalesce(account_id, '00000000-0000-0000-0000-000000000000'), status, count(*)
  FROM recipients GROUP BY 1, 2, 3;
