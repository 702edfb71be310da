#!/usr/bin/env bash
# Exactness of usage under faults (issue 12): `bash scripts/faults.sh` sends
# EVENTS (1,000,000) usage events in batches of BATCH (100) from CONCURRENCY (50)
# clients to two servers on one fresh database (loadgen faults: a failed batch is
# sent again with the same idempotency keys, and 5 % of batches are sent twice).
# Meanwhile it restarts the private PostgreSQL (after RESTART_AFTER seconds) and
# kills one server with SIGKILL (after KILL_AFTER seconds; it comes back 2 s
# later). Prints the fault timeline and the counts; fails unless the stored usage
# equals the events sent and each event was accepted once.
#
# Needs the private PostgreSQL (it restarts it): leave DATABASE_URL unset.
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/app.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/app.sh"

EVENTS=${EVENTS:-1000000}
BATCH=${BATCH:-100}
CONCURRENCY=${CONCURRENCY:-50}
RESTART_AFTER=${RESTART_AFTER:-5}
KILL_AFTER=${KILL_AFTER:-12}
PORTS=(3192 3193)

[ -z "${DATABASE_URL:-}" ] || tg_die "scripts/faults.sh restarts the private PostgreSQL: run it with DATABASE_URL unset"
tg_ensure_toolchain
tg_ensure_postgres
servers=()
loadgen=""
cleanup() {
    local pid
    [ -z "$loadgen" ] || kill "$loadgen" 2>/dev/null || true
    for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null || true; done
    tg_stop_private_postgres
}
trap cleanup EXIT

tg_build_for_tests
bin=$(tg_bin)
tg_fresh_database tollgate_faults
db=$(tg_database_url_for tollgate_faults)
DATABASE_URL=$db tg_prepare_db
mkdir -p "$TG_DATA/faults"
# start_server PORT: a server in the background; its pid in $started_pid.
start_server() {
    DATABASE_URL=$db TOLLGATE_LISTEN=127.0.0.1:$1 RUST_LOG=warn "$bin" serve >>"$TG_DATA/faults/server-$1.log" 2>&1 &
    started_pid=$!
    servers+=("$started_pid")
}
start_server "${PORTS[0]}"
start_server "${PORTS[1]}"
pid_b=$started_pid
tg_wait_ready "http://127.0.0.1:${PORTS[0]}"
tg_wait_ready "http://127.0.0.1:${PORTS[1]}"

tg_customer_key "$db" "$bin" faults pro
key=$TG_CUSTOMER_KEY

tg_log "sending $EVENTS events (batches of $BATCH, $CONCURRENCY clients) to ${PORTS[*]}; PostgreSQL restarts at ${RESTART_AFTER}s, server ${PORTS[1]} is killed at ${KILL_AFTER}s"
LOADGEN_KEY=$key "$CARGO_TARGET_DIR/debug/loadgen" faults --url "http://127.0.0.1:${PORTS[0]}" --url "http://127.0.0.1:${PORTS[1]}" \
    --events "$EVENTS" --batch "$BATCH" --concurrency "$CONCURRENCY" >"$TG_DATA/faults/result.json" &
loadgen=$!
started=$SECONDS
faults() {
    sleep "$RESTART_AFTER"
    kill -0 "$loadgen" 2>/dev/null || { tg_log "the run ended before the PostgreSQL restart: raise EVENTS"; return; }
    tg_log "fault at $((SECONDS - started))s: restarting PostgreSQL (pg_ctl restart -m fast)"
    # -l again: a restart does not keep the log file, and the server would
    # otherwise hold this script's output open.
    tg__as_pg "$TG_PG_BINDIR/pg_ctl" restart -D "$TG_PG_DATADIR" -l "$TG_PG_LOG" -m fast -w -s 9>&- >&2
    tg_log "PostgreSQL is back at $((SECONDS - started))s"
    sleep $((KILL_AFTER > RESTART_AFTER ? KILL_AFTER - RESTART_AFTER : 0))
    kill -0 "$loadgen" 2>/dev/null || { tg_log "the run ended before the server kill: raise EVENTS"; return; }
    tg_log "fault at $((SECONDS - started))s: kill -9 of the server on ${PORTS[1]}"
    kill -9 "$pid_b"
    sleep 2
    start_server "${PORTS[1]}"
    tg_log "server on ${PORTS[1]} restarted at $((SECONDS - started))s"
}
faults
status=0
wait "$loadgen" || status=$?
cat "$TG_DATA/faults/result.json"
exit "$status"
