-- The invoice run reads each subscription's change history (by subscription and
-- time); until now only the account's history was indexed.
CREATE INDEX subscription_changes_subscription_idx ON subscription_changes (subscription_id, effective_at);
