-- Each server process keeps API keys and accounts' standing in memory for the
-- API's hot paths (src/service/state_cache.rs) and drops them when the database
-- announces a change. The services announce the changes they make; these
-- triggers make sure that a change of a subscription, an override or a key is
-- announced whoever makes it (a service, a job, an operator's SQL). Notifications
-- go out at commit; PostgreSQL folds repeats within one transaction.

CREATE FUNCTION tollgate_announce_account() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM pg_notify('tollgate_usage', OLD.account_id::text);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM pg_notify('tollgate_usage', NEW.account_id::text);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER subscriptions_announce
    AFTER INSERT OR UPDATE OR DELETE ON subscriptions
    FOR EACH ROW EXECUTE FUNCTION tollgate_announce_account();

CREATE TRIGGER entitlement_overrides_announce
    AFTER INSERT OR UPDATE OR DELETE ON entitlement_overrides
    FOR EACH ROW EXECUTE FUNCTION tollgate_announce_account();

CREATE FUNCTION tollgate_announce_api_key() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tollgate_keys', OLD.id::text);
    RETURN NULL;
END
$$;

-- `last_used_at` changes once a minute per key and changes nothing cached.
CREATE TRIGGER api_keys_announce_update
    AFTER UPDATE ON api_keys
    FOR EACH ROW
    WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at
          OR OLD.account_id IS DISTINCT FROM NEW.account_id
          OR OLD.kind IS DISTINCT FROM NEW.kind
          OR OLD.secret_hash IS DISTINCT FROM NEW.secret_hash)
    EXECUTE FUNCTION tollgate_announce_api_key();

CREATE TRIGGER api_keys_announce_delete
    AFTER DELETE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION tollgate_announce_api_key();
