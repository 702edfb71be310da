#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Times the manual provider's invoice run over many accounts (issue 12: "the
# manual invoice run over 100k accounts <= 60 s; a bench seeds them").
#
# Seeds ACCOUNTS personal accounts straight into a fresh database (users that
# cannot log in), each on a paid plan billed by the manual provider since the
# month before last, with usage last month above the plan's allowance (so every
# invoice has a base line and a usage line); then runs `tollgate invoices run
# --period <last month>` and prints the time, invoices/s, and whether the result
# is exact: one invoice per account, numbers gap-free from 1, and every invoice's
# total equal to its lines' sum.
#
# Tunables (environment):
#   ACCOUNTS=100000
#   CATALOG=catalogs/digital-twin.toml
#   PLAN=standard-ai    a plan of CATALOG with a usage price on METER
#   METER=api_calls     (digital-twin's standard-ai: 10,000 included, $0.01 after)
#   TG_PROFILE=release  (debug: the test build)
#   SKIP_BUILD=1        reuse the existing build
#   STORED_EVENTS=0     events of METER stored first, over the last 12 months and
#                       STORED_ACCOUNTS=10000 accounts without a subscription
#                       (issue 12: the figures with 50M stored events)
#   KEEP_DB=1           keep the database afterwards
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/app.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/app.sh"
# shellcheck source=lib/stored.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/stored.sh"

ACCOUNTS=${ACCOUNTS:-100000}
CATALOG=${CATALOG:-catalogs/digital-twin.toml}
PLAN=${PLAN:-standard-ai}
METER=${METER:-api_calls}
SKIP_BUILD=${SKIP_BUILD:-0}
STORED_EVENTS=${STORED_EVENTS:-0}
STORED_ACCOUNTS=${STORED_ACCOUNTS:-10000}
export TG_PROFILE=${TG_PROFILE:-release}
BENCH_DB=tollgate_bench_invoices

db_created=0
cleanup() {
    if [ "$db_created" = 1 ] && [ "${KEEP_DB:-0}" != 1 ]; then
        psql "$(tg_database_url_for postgres)" -qAtc "DROP DATABASE IF EXISTS \"$BENCH_DB\" WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    # shellcheck disable=SC2119  # no argument: stop the cluster only if we started it
    tg_stop_private_postgres
}
trap cleanup EXIT

tg_ensure_toolchain
tg_ensure_postgres
export DATABASE_URL
[ "$SKIP_BUILD" = 1 ] || tg_build
bin=$(tg_bin)
[ -x "$bin" ] || tg_die "no server build at $bin (run without SKIP_BUILD=1)"

out="$TG_DATA/bench/invoices-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
tg_fresh_database "$BENCH_DB"
db_created=1
url=$(tg_database_url_for "$BENCH_DB")
DATABASE_URL=$url RUST_LOG=warn tg_prepare_db >/dev/null 2>>"$out/setup.log" \
    || tg_die "could not prepare $BENCH_DB; see $out/setup.log"
(cd "$TG_ROOT" && DATABASE_URL=$url RUST_LOG=warn "$bin" catalog load "$CATALOG") >/dev/null 2>>"$out/setup.log" \
    || tg_die "could not load $CATALOG; see $out/setup.log"
stored_count=0
if [ "$STORED_EVENTS" -gt 0 ]; then
    tg_seed_stored_events "$url" "$STORED_EVENTS" "$STORED_ACCOUNTS" "$METER" "$out/setup.log"
fi

tg_log "seeding $ACCOUNTS accounts on $PLAN ($CATALOG)"
started=$SECONDS
psql "$url" -XqAt -v ON_ERROR_STOP=1 -v n="$ACCOUNTS" -v plan="$PLAN" -v meter="$METER" >/dev/null 2>>"$out/setup.log" <<'SQL' || tg_die "could not seed; see $out/setup.log"
CREATE TEMP TABLE crowd AS
    SELECT g, gen_random_uuid() AS u, gen_random_uuid() AS a, gen_random_uuid() AS s,
           date_trunc('month', now()) - interval '2 months' AS since,
           date_trunc('month', now()) - interval '1 month' AS last_month
    FROM generate_series(1, :n) g;
INSERT INTO users (id, email, name, password_hash)
    SELECT u, 'inv-' || g || '@bench.invalid', 'Invoice ' || g, '$argon2id$not-a-hash' FROM crowd;
INSERT INTO accounts (id, kind, name, personal_user_id, created_at)
    SELECT a, 'personal', 'Invoice ' || g, u, since FROM crowd;
INSERT INTO memberships (account_id, user_id, role) SELECT a, u, 'owner' FROM crowd;
INSERT INTO subscriptions (id, account_id, plan_key, interval, status, provider, cycle_anchor, created_at)
    SELECT s, a, :'plan', 'month', 'active', 'manual', since, since FROM crowd;
-- Two events each last month, 12,000 to 12,012 in all (what the usage lines read).
INSERT INTO usage_events (id, account_id, meter, quantity, occurred_at, idempotency_key)
    SELECT gen_random_uuid(), a, :'meter', 6000 + (g % 7), last_month + (k || ' days')::interval, 'seed-' || k
    FROM crowd, generate_series(1, 2) k;
ANALYZE;
SQL
tg_log "seeded in $((SECONDS - started)) s"

period=$(psql "$url" -XAtqc "SELECT to_char(now() - interval '1 month', 'YYYY-MM')")
tg_log "invoice run for $period over $ACCOUNTS accounts ($TG_PROFILE build)"
t0=$(date +%s.%N)
(cd "$TG_ROOT" && DATABASE_URL=$url RUST_LOG=warn "$bin" invoices run --period "$period") \
    >"$out/run.txt" 2>>"$out/run.log" || tg_die "the run failed; see $out/run.log"
t1=$(date +%s.%N)

read -r issued first last distinct lines mismatched < <(psql "$url" -XAtq -F ' ' -c \
    "SELECT count(*), min(split_part(number, '-', 3)::int), max(split_part(number, '-', 3)::int), count(DISTINCT account_id),
            (SELECT count(*) FROM invoice_lines),
            (SELECT count(*) FROM invoices i WHERE i.subtotal <> (SELECT sum(amount) FROM invoice_lines l WHERE l.account_id = i.account_id AND l.invoice_id = i.id))
     FROM invoices")
exact=exact
[ "$issued" = "$ACCOUNTS" ] && [ "$distinct" = "$ACCOUNTS" ] && [ "$first" = 1 ] && [ "$last" = "$ACCOUNTS" ] \
    && [ "$mismatched" = 0 ] && [ "$lines" -ge $((2 * ACCOUNTS)) ] || exact="NOT EXACT"
awk -v n="$issued" -v a="$ACCOUNTS" -v t0="$t0" -v t1="$t1" -v e="$exact" -v last="$(tail -n1 "$out/run.txt")" \
    -v lines="$lines" 'BEGIN { printf "invoice run: %d invoices (%d lines) for %d accounts in %.1f s (%.0f invoices/s), numbers 1..%d: %s\n  %s\n", n, lines, a, t1 - t0, n / (t1 - t0), n, e, last }' \
    | tee "$out/summary.txt"
if [ "$stored_count" -gt 0 ]; then
    echo "  stored before the run: $stored_count events over 12 months ($STORED_ACCOUNTS other accounts), database $stored_size" \
        | tee -a "$out/summary.txt"
fi
[ "$exact" = exact ] || exit 4
