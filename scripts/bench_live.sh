#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Measures the time from a customer's event to a super admin's live usage board
# moving (issue 11 §2), across two server processes on one database, as a
# deployment behind a load balancer has them:
#
#   loadgen live: a super admin logs in on server A and opens
#   /admin/live/usage?accounts=<the customer>; EVENTS single events are sent one at
#   a time to server B (PAUSE apart); each latency runs from just before the POST to
#   the stream's message with the new usage. Prints p50, p95, min and max in ms.
#
# The path is: B commits and NOTIFYs, A's listener hears it, A's board coalesces
# changes for 50 ms, recomputes the account once and broadcasts, the stream sends.
# The 50 ms window is part of every figure by design.
#
# Tunables (environment):
#   EVENTS=40  PAUSE=250ms
#   ACCOUNTS=3000      other subscribed accounts on the board (inserted with SQL:
#                      Starter or Pro, this month's queries between 0 and 599)
#   TABS=7             other admin streams open meanwhile (one admin holds 8 at most)
#   PAGE_LOADS=10      loads of /admin/usage to time
#   LOAD_RATE=0        events/s sent meanwhile to server B for another account,
#                      in batches of 100 (issue 12: "while ingestion runs at half
#                      its maximum"; scripts/bench.sh measures the maximum); the
#                      rate achieved is printed with the result
#   TG_PROFILE=debug   (release: a release build, as scripts/bench.sh uses)
#   PORT=3300          A on PORT, B on PORT+1
#   SKIP_BUILD=1       reuse the existing builds
#   STORED_EVENTS=0    events stored first, over the last 12 months and
#                      STORED_ACCOUNTS=10000 accounts (issue 12: the figures with
#                      50M stored events; scripts/lib/stored.sh)
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/app.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/app.sh"
# shellcheck source=lib/stored.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/stored.sh"

EVENTS=${EVENTS:-40}
ACCOUNTS=${ACCOUNTS:-3000}
TABS=${TABS:-7}
PAGE_LOADS=${PAGE_LOADS:-10}
PAUSE=${PAUSE:-250ms}
LOAD_RATE=${LOAD_RATE:-0}
PORT=${PORT:-3300}
SKIP_BUILD=${SKIP_BUILD:-0}
STORED_EVENTS=${STORED_EVENTS:-0}
STORED_ACCOUNTS=${STORED_ACCOUNTS:-10000}
export TG_PROFILE=${TG_PROFILE:-debug}
BENCH_DB=tollgate_bench_live

pids=()
db_created=0
cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [ "$db_created" = 1 ]; then
        psql "$(tg_database_url_for postgres)" -qAtc "DROP DATABASE IF EXISTS \"$BENCH_DB\" WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    # shellcheck disable=SC2119  # no argument: stop the cluster only if we started it
    tg_stop_private_postgres
}
trap cleanup EXIT

tg_ensure_toolchain
tg_ensure_postgres
export DATABASE_URL

profile_flag=()
[ "$TG_PROFILE" = release ] && profile_flag=(--release)
if [ "$SKIP_BUILD" != 1 ]; then
    tg_build
    (cd "$TG_ROOT" && cargo build "${profile_flag[@]}" -p tollgate-bench)
fi
bin=$(tg_bin)
loadgen="$CARGO_TARGET_DIR/$TG_PROFILE/loadgen"
[ -x "$bin" ] && [ -x "$loadgen" ] || tg_die "missing builds ($bin, $loadgen); run without SKIP_BUILD=1"

out="$TG_DATA/bench/live-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
tg_fresh_database "$BENCH_DB"
db_created=1
url=$(tg_database_url_for "$BENCH_DB")
DATABASE_URL=$url RUST_LOG=warn tg_prepare_db >/dev/null 2>>"$out/setup.log" || tg_die "could not prepare $BENCH_DB; see $out/setup.log"
stored_count=0
if [ "$STORED_EVENTS" -gt 0 ]; then
    tg_seed_stored_events "$url" "$STORED_EVENTS" "$STORED_ACCOUNTS" queries "$out/setup.log"
fi

admin_password="bench-admin-$RANDOM$RANDOM"
(
    cd "$TG_ROOT"
    export DATABASE_URL=$url RUST_LOG=warn
    "$bin" users create --email ops@bench.invalid --name "Bench Ops" --password "$admin_password" --super-admin >/dev/null
    "$bin" users create --email customer@bench.invalid --name "Bench Customer" --password "bench-customer-pw" >/dev/null
    "$bin" accounts set-plan customer@bench.invalid pro >/dev/null
    "$bin" users create --email load@bench.invalid --name "Bench Load" --password "bench-load-pw-1" >/dev/null
    "$bin" accounts set-plan load@bench.invalid pro >/dev/null
) 2>>"$out/setup.log" || tg_die "could not create the users; see $out/setup.log"
load_key=$(cd "$TG_ROOT" && DATABASE_URL=$url RUST_LOG=warn "$bin" keys create --account load@bench.invalid --name "bench load" 2>>"$out/setup.log")
key=$(cd "$TG_ROOT" && DATABASE_URL=$url RUST_LOG=warn "$bin" keys create --account customer@bench.invalid --name "bench live" 2>>"$out/setup.log")
account=$(psql "$url" -XAtqc "select a.id from accounts a join users u on u.id = a.personal_user_id where u.email = 'customer@bench.invalid'")

# The crowd: ACCOUNTS subscribed accounts with this month's usage, inserted directly
# (users that cannot log in: their password hash verifies nothing).
psql "$url" -XqAt -v ON_ERROR_STOP=1 -v n="$ACCOUNTS" >/dev/null 2>>"$out/setup.log" <<'SQL' || tg_die "could not seed the accounts; see $out/setup.log"
CREATE TEMP TABLE crowd AS SELECT g, gen_random_uuid() AS u, gen_random_uuid() AS a FROM generate_series(1, :n) g;
INSERT INTO users (id, email, name, password_hash) SELECT u, 'crowd-' || g || '@bench.invalid', 'Crowd ' || g, '$argon2id$not-a-hash' FROM crowd;
INSERT INTO accounts (id, kind, name, personal_user_id) SELECT a, 'personal', 'Crowd ' || g, u FROM crowd;
INSERT INTO memberships (account_id, user_id, role) SELECT a, u, 'owner' FROM crowd;
INSERT INTO subscriptions (id, account_id, plan_key, interval, status, provider, cycle_anchor)
    SELECT gen_random_uuid(), a, CASE WHEN g % 3 = 0 THEN 'pro' ELSE 'starter' END, 'month', 'active', 'manual', date_trunc('month', now()) FROM crowd;
INSERT INTO usage_totals (account_id, meter, period_start, period_end, value, last_occurred_at)
    SELECT a, 'queries', date_trunc('month', now()), date_trunc('month', now()) + interval '1 month', (g * 37) % 600, now() FROM crowd;
SQL

for i in 0 1; do
    port=$((PORT + i))
    # exec: the recorded pid is the server's own, so the clean-up stops it.
    (cd "$TG_ROOT" && DATABASE_URL=$url TOLLGATE_LISTEN=127.0.0.1:$port RUST_LOG=warn exec "$bin" serve >"$out/server-$i.log" 2>&1) &
    pids+=($!)
done
tg_wait_ready "http://127.0.0.1:$PORT"
tg_wait_ready "http://127.0.0.1:$((PORT + 1))"
sleep 1 # both listeners up

if [ "$LOAD_RATE" != 0 ]; then
    # Long enough to cover the whole measurement; stopped right after it.
    load_secs=$(awk -v n="$EVENTS" -v p="$PAUSE" 'BEGIN { sub(/ms$/, "", p); print int(n * (p / 1000 + 0.2)) + 30 }')
    tg_log "ingesting $LOAD_RATE events/s meanwhile (batches of 100, server B)"
    LOADGEN_KEY=$load_key "$loadgen" events --url "http://127.0.0.1:$((PORT + 1))" --batch 100 \
        --concurrency 32 --rate "$LOAD_RATE" --warmup 1s --duration "${load_secs}s" --label "load" \
        >"$out/load.json" 2>"$out/load.txt" &
    pids+=($!)
    sleep 3
fi
# load_total: the load account's stored events this period (0 without load).
load_total() {
    psql "$url" -XAtqc "SELECT coalesce(sum(t.value), 0)::bigint FROM usage_totals t JOIN accounts a ON a.id = t.account_id JOIN users u ON u.id = a.personal_user_id WHERE u.email = 'load@bench.invalid'"
}
load_before=$(load_total)
load_t0=$(date +%s.%N)

tg_log "measuring $EVENTS events with $ACCOUNTS other accounts and $TABS other admin streams ($TG_PROFILE build), results in $out"
LOADGEN_KEY=$key LOADGEN_ADMIN_PASSWORD=$admin_password "$loadgen" live \
    --url "http://127.0.0.1:$PORT" --events-url "http://127.0.0.1:$((PORT + 1))" \
    --account "$account" --admin-email ops@bench.invalid --events "$EVENTS" --pause "$PAUSE" \
    --tabs "$TABS" --page-loads "$PAGE_LOADS" \
    >"$out/result.json" 2> >(tee "$out/summary.txt" >&2)
if [ "$LOAD_RATE" != 0 ]; then
    load_after=$(load_total)
    load_t1=$(date +%s.%N)
    awk -v a="$load_before" -v b="$load_after" -v t0="$load_t0" -v t1="$load_t1" -v want="$LOAD_RATE" \
        'BEGIN { printf "meanwhile: %.0f events/s stored for another account (asked %s; server B, batches of 100)\n", (b - a) / (t1 - t0), want }' \
        | tee -a "$out/summary.txt" >&2
fi
if [ "$stored_count" -gt 0 ]; then
    echo "stored before the run: $stored_count events over 12 months ($STORED_ACCOUNTS accounts), database $stored_size" \
        | tee -a "$out/summary.txt" >&2
fi
