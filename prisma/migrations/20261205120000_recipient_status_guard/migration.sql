-- The recipient transition table (src/recipients/transitions.ts), enforced by Postgres.
CREATE OR REPLACE FUNCTION recipient_status_guard() RETURNS trigger LANGUAGE plpgsql AS $guard$
BEGIN
  IF (OLD.status::text, NEW.status::text) NOT IN (VALUES
    ('pending', 'queued'),
    ('pending', 'deferred'),
    ('pending', 'cancelled'),
    ('pending', 'failed'),
    ('deferred', 'queued'),
    ('deferred', 'pending'),
    ('deferred', 'cancelled'),
    ('deferred', 'failed'),
    ('queued', 'sending'),
    ('queued', 'pending'),
    ('queued', 'deferred'),
    ('queued', 'cancelled'),
    ('queued', 'failed'),
    ('sending', 'queued'),
    ('sending', 'deferred'),
    ('sending', 'accepted'),
    ('sending', 'sent'),
    ('sending', 'failed'),
    ('sending', 'unknown'),
    ('accepted', 'sent'),
    ('accepted', 'delivered'),
    ('accepted', 'read'),
    ('accepted', 'failed'),
    ('accepted', 'deferred'),
    ('sent', 'delivered'),
    ('sent', 'read'),
    ('sent', 'failed'),
    ('sent', 'deferred'),
    ('delivered', 'read'),
    ('unknown', 'pending'),
    ('unknown', 'accepted'),
    ('unknown', 'sent'),
    ('unknown', 'delivered'),
    ('unknown', 'read'),
    ('unknown', 'failed'),
    ('unknown', 'deferred')
  ) THEN
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
