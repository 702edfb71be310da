# shellcheck shell=bash
# Stored events for the benchmarks (issue 12: "the bench shows the figures with
# 50M stored events"). Sourced after common.sh by scripts/bench*.sh.

# tg_seed_stored_events URL EVENTS ACCOUNTS METER LOG: stores EVENTS events of
# METER over the 12 whole months before this one in the database at URL, for
# ACCOUNTS new accounts (users that cannot log in, no subscription), each event
# with its idempotency key, written month by month in account order as a steady
# stream of customers would have left them; then VACUUM ANALYZE. psql's output
# goes to LOG. Sets stored_count (events now in usage_events) and stored_size
# (the database's size, human-readable). 50M events took 22 minutes and 20 GB of
# disk on the 2-core machine of docs/SCALING.md.
tg_seed_stored_events() {
    local url=$1 events=$2 accounts=$3 meter=$4 log=$5
    local per_month=$(((events + 11) / 12)) m t0=$SECONDS
    tg_log "storing $events events of $meter over 12 months and $accounts accounts (log: $log)"
    psql "$url" -XqAt -v ON_ERROR_STOP=1 -v n="$accounts" >>"$log" 2>&1 <<'SQL' || tg_die "could not seed the stored accounts; see $log"
CREATE TABLE bench_stored AS
    SELECT g, gen_random_uuid() AS u, gen_random_uuid() AS a FROM generate_series(1, :n) g;
INSERT INTO users (id, email, name, password_hash)
    SELECT u, 'stored-' || g || '@bench.invalid', 'Stored ' || g, '$argon2id$not-a-hash' FROM bench_stored;
INSERT INTO accounts (id, kind, name, personal_user_id) SELECT a, 'personal', 'Stored ' || g, u FROM bench_stored;
INSERT INTO memberships (account_id, user_id, role) SELECT a, u, 'owner' FROM bench_stored;
SELECT usage_events_ensure_month(now() - make_interval(months => k)) FROM generate_series(0, 12) k;
SQL
    for m in $(seq 12 -1 1); do
        psql "$url" -XqAt -v ON_ERROR_STOP=1 -v m="$m" -v per="$per_month" -v n="$accounts" -v meter="$meter" \
            >>"$log" 2>&1 <<'SQL' || tg_die "could not store month -$m; see $log"
CREATE TEMP TABLE month_rows AS
    SELECT gen_random_uuid() AS id, s.a, 'stored-' || :m || '-' || k AS key,
           date_trunc('month', now()) - make_interval(months => :m)
             + (k::float8 / ceil(:per::float8 / :n)) * interval '27 days' AS at
    FROM bench_stored s, generate_series(1, ceil(:per::float8 / :n)::int) k
    ORDER BY s.a, k;
INSERT INTO usage_events (id, account_id, meter, quantity, occurred_at, idempotency_key, properties)
    SELECT id, a, :'meter', 1, at, key, '{"model":"bench","cost_usd":"0.0031"}' FROM month_rows;
INSERT INTO usage_event_keys (account_id, idempotency_key, payload_hash, event_id, occurred_at)
    SELECT a, key, sha256(key::bytea), id, at FROM month_rows;
SQL
        tg_log "  month -$m stored ($((SECONDS - t0)) s so far)"
    done
    psql "$url" -XqAt -c "DROP TABLE bench_stored" -c "VACUUM ANALYZE" >>"$log" 2>&1
    stored_count=$(psql "$url" -XAtqc "SELECT count(*) FROM usage_events")
    stored_size=$(psql "$url" -XAtqc "SELECT pg_size_pretty(pg_database_size(current_database()))")
    tg_log "stored $stored_count events in $((SECONDS - t0)) s; database $stored_size"
}
