-- The recipient transition table (src/recipients/transitions.ts), enforced by Postgres.
CREATE OR REPLACE FUNCTION recipient_status_guard() RETURNS trigger LANGUAGE plpgsql AS $guard$
BEGIN
  IF NOT (NEW.status::text = ANY (CASE OLD.status::text
      WHEN 'pending' THEN ARRAY['queued', 'deferred', 'cancelled', 'failed']::text[]
      WHEN 'deferred' THEN ARRAY['queued', 'pending', 'cancelled', 'failed']::text[]
      WHEN 'queued' THEN ARRAY['sending', 'pending', 'deferred', 'cancelled', 'failed']::text[]
      WHEN 'sending' THEN ARRAY['queued', 'deferred', 'accepted', 'sent', 'failed', 'unknown']::text[]
      WHEN 'accepted' THEN ARRAY['sent', 'delivered', 'read', 'failed', 'deferred']::text[]
      WHEN 'sent' THEN ARRAY['delivered', 'read', 'failed', 'deferred']::text[]
      WHEN 'delivered' THEN ARRAY['read']::text[]
      WHEN 'read' THEN ARRAY[]::text[]
      WHEN 'failed' THEN ARRAY[]::text[]
      WHEN 'unknown' THEN ARRAY['pending', 'accepted', 'sent', 'delivered', 'read', 'failed', 'deferred']::text[]
      WHEN 'cancelled' THEN ARRAY[]::text[]
      ELSE ARRAY[]::text[] END)) THEN
    RAISE EXCEPTION 'recipient % cannot move from % to %', OLD.id, OLD.status, NEW.status
      USING ERRCODE = 'check_violation', HINT = 'Recipient status changes are listed in src/recipients/transitions.ts.';
  END IF;
  RETURN NEW;
END
$guard$;

CREATE TRIGGER recipients_status_guard
  BEFORE UPDATE OF status ON recipients
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION recipient_status_guard();
