#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Measures outgoing webhooks (issue 14) on one server process with its delivery
# worker, and loadgen's own receiver on 127.0.0.1:RECEIVER_PORT:
#
#   latency: EVENTS accounts each send one POST /api/v1/events that crosses the
#   50 % usage threshold; the event is written in that request's transaction and
#   delivered by the worker. Each latency runs from just before the POST to the
#   delivery's arrival (one at a time, PAUSE apart). Prints p50 and p95 in ms.
#
#   drain: BULK events written in one transaction (the same SQL function the
#   services call), for a second platform endpoint on RECEIVER_PORT+1 (a receiver
#   of its own: connections the first one's exit left in the client's pool would
#   fail once and be retried 30 s later); prints the worker's deliveries/s (first
#   to last arrival) with the default settings (16 in flight per process), and
#   how many attempts failed.
#
# Tunables (environment): EVENTS=200 PAUSE=50ms BULK=20000 PORT=3400
#   RECEIVER_PORT=3998 TG_PROFILE=debug (release for the figures) SKIP_BUILD=1
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/app.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/app.sh"

EVENTS=${EVENTS:-200}
PAUSE=${PAUSE:-50ms}
BULK=${BULK:-20000}
PORT=${PORT:-3400}
RECEIVER_PORT=${RECEIVER_PORT:-3998}
SKIP_BUILD=${SKIP_BUILD:-0}
export TG_PROFILE=${TG_PROFILE:-debug}
BENCH_DB=tollgate_bench_webhooks

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

out="$TG_DATA/bench/webhooks-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
tg_fresh_database "$BENCH_DB"
db_created=1
url=$(tg_database_url_for "$BENCH_DB")
DATABASE_URL=$url RUST_LOG=warn tg_prepare_db >/dev/null 2>>"$out/setup.log" || tg_die "could not prepare $BENCH_DB; see $out/setup.log"

# EVENTS accounts on Starter (500 queries included), external ids wh-0…, no usage yet.
psql "$url" -XqAt -v ON_ERROR_STOP=1 -v n="$EVENTS" >/dev/null 2>>"$out/setup.log" <<'SQL' || tg_die "could not seed the accounts; see $out/setup.log"
CREATE TEMP TABLE crowd AS SELECT g - 1 AS g, gen_random_uuid() AS u, gen_random_uuid() AS a FROM generate_series(1, :n) g;
INSERT INTO users (id, email, name, password_hash) SELECT u, 'wh-' || g || '@bench.invalid', 'Webhooks ' || g, '$argon2id$not-a-hash' FROM crowd;
INSERT INTO accounts (id, kind, name, personal_user_id, external_id) SELECT a, 'personal', 'Webhooks ' || g, u, 'wh-' || g FROM crowd;
INSERT INTO memberships (account_id, user_id, role) SELECT a, u, 'owner' FROM crowd;
INSERT INTO subscriptions (id, account_id, plan_key, interval, status, provider, cycle_anchor)
    SELECT gen_random_uuid(), a, 'starter', 'month', 'active', 'manual', date_trunc('month', now()) FROM crowd;
SQL
export TOLLGATE_WEBHOOK_ALLOW_PRIVATE_TARGETS=true
(
    cd "$TG_ROOT"
    export DATABASE_URL=$url RUST_LOG=warn
    "$bin" webhooks add "http://127.0.0.1:$RECEIVER_PORT/latency" --event usage.threshold_reached --description "bench latency" >/dev/null
    "$bin" webhooks add "http://127.0.0.1:$((RECEIVER_PORT + 1))/drain" --event billing_cycle.ended --description "bench drain" >/dev/null
) 2>>"$out/setup.log" || tg_die "could not add the endpoint; see $out/setup.log"
key=$(cd "$TG_ROOT" && DATABASE_URL=$url RUST_LOG=warn "$bin" keys create --platform --name "bench webhooks" 2>>"$out/setup.log")

(cd "$TG_ROOT" && DATABASE_URL=$url TOLLGATE_LISTEN=127.0.0.1:$PORT RUST_LOG=warn exec "$bin" serve >"$out/server.log" 2>&1) &
pids+=($!)
tg_wait_ready "http://127.0.0.1:$PORT"
sleep 1 # the worker listens

tg_log "latency: $EVENTS events, each crossing a threshold ($TG_PROFILE build), results in $out"
LOADGEN_KEY=$key "$loadgen" webhooks latency --url "http://127.0.0.1:$PORT" --listen "127.0.0.1:$RECEIVER_PORT" \
    --events "$EVENTS" --pause "$PAUSE" >"$out/latency.json" 2> >(tee "$out/summary.txt" >&2)

tg_log "drain: $BULK deliveries written at once"
ready="$out/receiver.ready"
"$loadgen" webhooks drain --listen "127.0.0.1:$((RECEIVER_PORT + 1))" --expect "$BULK" --ready-file "$ready" \
    >"$out/drain.json" 2> >(tee -a "$out/summary.txt" >&2) &
drain_pid=$!
pids+=("$drain_pid")
for _ in $(seq 1 100); do [ -f "$ready" ] && break; sleep 0.1; done
[ -f "$ready" ] || tg_die "the receiver did not start"
psql "$url" -XqAt -v ON_ERROR_STOP=1 -v n="$BULK" >/dev/null 2>>"$out/setup.log" <<'SQL' || tg_die "could not write the bulk; see $out/setup.log"
SELECT count(tollgate_webhook_emit(NULL, 'billing_cycle.ended',
    jsonb_build_object('object', jsonb_build_object('bench', g)), NULL))
FROM generate_series(1, :n) g;
SQL
wait "$drain_pid"
psql "$url" -XAtc "SELECT count(*) FILTER (WHERE error IS NOT NULL) || ' of ' || count(*) || ' attempts failed (both phases)' FROM webhook_attempts" \
    | tee -a "$out/summary.txt" >&2
