#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Benchmarks a RELEASE build of `tollgate serve` with the project's load generator
# (bench/, binary `loadgen`) and prints a summary table:
#
#   1. events/s accepted by POST /api/v1/events, 100 events per request;
#   2. events/s accepted by POST /api/v1/events, 1 event per request;
#   3. POST /api/v1/check latency (p50/p90/p99/p99.9/max, ms) at a fixed rate, open
#      loop (latency from each request's scheduled send time), a read on a
#      `starter` account (soft limit);
#   4. the same with `consume: true` and a unique idempotency key on a `pro`
#      account (a write), at a lower fixed rate;
#   5. GET /api/v1/usage/history over a year of daily rollups of one account (12k
#      rows: 366 days × 3 models × 11 members), by day and split by model, one
#      request at a time (issue 13: the query's p50 and p99);
#   6. GET /usage/export.csv of 100,000 stored events (EXPORT_ROWS), downloaded
#      whole by a signed-in owner, rows/s (issue 13: the export's throughput);
#
# and beside them, from the same run, their baselines:
#
#   copy       a raw `COPY` of rows shaped like stored events into the same tables
#              (usage_events and usage_event_keys), rows/s: the ceiling for scenario 1;
#   healthz    GET /healthz, closed loop, req/s: the same server doing no work;
#   check-max  the read check of scenario 3, closed loop, req/s: its share of
#              healthz is printed under the table.
#
# Each scenario runs RUNS times (round robin, so slow drift such as table growth
# or autovacuum spreads over all of them); the table gives the median and the
# min–max. Every run uses its own account and key. One server on 127.0.0.1:PORT,
# a fresh database `tollgate_bench` on the private PostgreSQL (or DATABASE_URL),
# both stopped on exit. Results go to .data/bench/<time>/ (JSON lines, server log,
# `top` snapshots, the summary).
#
# The load generator, the server and PostgreSQL share this machine's CPUs: the
# figures describe that setup, not a server with the machine to itself.
#
# Tunables (environment):
#   DURATION=15s         measurement window of each run
#   WARMUP=2s            load before each window, not measured
#   RUNS=3               runs per scenario
#   EVENTS_CONCURRENCY=32 requests in flight, 100-event batches
#   SINGLE_CONCURRENCY=32 requests in flight, single events
#   BATCH=100            events per request in scenario 1
#   CHECK_RATE=5000      req/s for the check (read) latency scenario (issue 12's
#                        goal: p99 <= 2 ms at 5000 req/s)
#   MAX_CONCURRENCY=16   requests in flight for healthz and check-max
#   COPY_ROWS=300000     rows per COPY
#   CONSUME_RATE=200     req/s for the consuming check scenario
#   HISTORY_CONCURRENCY=1 history requests in flight (1: each request's own time)
#   EXPORT_ROWS=100000   events stored for the export scenario
#   PAUSE=2              seconds of rest between runs
#   PORT=3200            where the server listens
#   SKIP_BUILD=1         reuse the existing release builds (iterating on the script)
#   KEEP_DB=1            keep the database tollgate_bench afterwards (~600 MB)
#   STORED_EVENTS=0      events stored before the runs, spread over the last 12 months
#                        and STORED_ACCOUNTS accounts (issue 12: the figures with 50M
#                        stored events, a year of usage_events' monthly partitions);
#                        50000000 took 22 minutes to seed and 20 GB of disk here
#   STORED_ACCOUNTS=10000 accounts the stored events belong to
#   SCENARIOS="copy events-batch events-single healthz check-max check check-consume history export"  a subset
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/app.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/app.sh"
# shellcheck source=lib/stored.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/stored.sh"

DURATION=${DURATION:-15s}
WARMUP=${WARMUP:-2s}
RUNS=${RUNS:-3}
# Ingestion is closed loop. The server stores the requests that arrive while a
# transaction runs together in the next one (src/service/ingest_queue.rs), so
# its throughput grows with the requests in flight until the CPUs are busy:
# measured on this 2-core machine, batches of 100 gave 46k events/s with 8 in
# flight, 54k with 16, 59k with 32 (p50 53 ms); single events 2.6k with 8, 7.1k
# with 32 (p50 4.5 ms), 9.8k with 64. A closed loop of few clients measures
# their round trips rather than the server, so 32 stand for the many clients
# that send one event per request.
EVENTS_CONCURRENCY=${EVENTS_CONCURRENCY:-32}
SINGLE_CONCURRENCY=${SINGLE_CONCURRENCY:-32}
BATCH=${BATCH:-100}
# Fixed rates for the latency scenarios. The read check answers from memory and
# is held to issue 12's goal (p99 <= 2 ms at 5000 req/s); the consuming check
# writes and saturates near 600 req/s for one account, so a third of that
# describes a loaded but healthy server rather than a queue.
CHECK_RATE=${CHECK_RATE:-5000}
MAX_CONCURRENCY=${MAX_CONCURRENCY:-16}
HISTORY_CONCURRENCY=${HISTORY_CONCURRENCY:-1}
EXPORT_ROWS=${EXPORT_ROWS:-100000}
COPY_ROWS=${COPY_ROWS:-300000}
CONSUME_RATE=${CONSUME_RATE:-200}
PAUSE=${PAUSE:-2}
PORT=${PORT:-3200}
SKIP_BUILD=${SKIP_BUILD:-0}
STORED_EVENTS=${STORED_EVENTS:-0}
STORED_ACCOUNTS=${STORED_ACCOUNTS:-10000}
SCENARIOS=${SCENARIOS:-copy events-batch events-single healthz check-max check check-consume history export}
BENCH_DB=tollgate_bench
URL="http://127.0.0.1:$PORT"

started=$SECONDS
export TG_PROFILE=release

server_pid=""
db_created=0
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        tg_log "stopping the server (pid $server_pid)"
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
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

if [ "$SKIP_BUILD" != 1 ]; then
    tg_build
    tg_log "building the load generator (release)"
    (cd "$TG_ROOT" && cargo build --release -p tollgate-bench)
fi
bin=$(tg_bin)
loadgen="$CARGO_TARGET_DIR/release/loadgen"
[ -x "$bin" ] || tg_die "no release server at $bin (run without SKIP_BUILD=1)"
[ -x "$loadgen" ] || tg_die "no load generator at $loadgen (run without SKIP_BUILD=1)"

# Something already on the port would be measured instead of this build.
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    tg_die "port $PORT is in use; stop what listens there or set PORT"
fi

out="$TG_DATA/bench/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
results="$out/results.jsonl"
: >"$results"

tg_log "fresh database $BENCH_DB"
tg_fresh_database "$BENCH_DB"
db_created=1
bench_url=$(tg_database_url_for "$BENCH_DB")
DATABASE_URL=$bench_url RUST_LOG=warn tg_prepare_db >/dev/null 2>>"$out/setup.log" \
    || tg_die "could not prepare $BENCH_DB; see $out/setup.log"

stored_count=0
stored_size=""
if [ "$STORED_EVENTS" -gt 0 ]; then
    tg_seed_stored_events "$bench_url" "$STORED_EVENTS" "$STORED_ACCOUNTS" queries "$out/setup.log"
fi

# new_key SCENARIO RUN PLAN: a user with a personal account on PLAN; prints the
# account's new API key.
new_key() {
    local email="bench-$1-$2@bench.invalid"
    (
        cd "$TG_ROOT"
        export DATABASE_URL=$bench_url RUST_LOG=warn
        "$bin" users create --email "$email" --name "Bench $1 $2" --password "bench-password-$1-$2" >/dev/null
        "$bin" accounts set-plan "$email" "$3" >/dev/null
        "$bin" keys create --account "$email" --name "bench $1 $2"
    ) 2>>"$out/setup.log" || tg_die "could not create the account for $1 run $2; see $out/setup.log"
}

# machine_busy SECONDS: % of all CPUs busy over the next SECONDS (from /proc/stat).
machine_busy() {
    local a b
    a=$(head -n1 /proc/stat)
    sleep "$1"
    b=$(head -n1 /proc/stat)
    awk -v a="$a" -v b="$b" 'BEGIN {
        n = split(a, x); split(b, y); total = 0
        for (i = 2; i <= 9 && i <= n; i++) total += y[i] - x[i]
        idle = (y[5] - x[5]) + (y[6] - x[6]); steal = y[9] - x[9]
        busy = 0
        if (total > 0) busy = (total - idle - steal) / total * 100
        printf "%.0f\n", busy
    }'
}

plan_of() {
    case $1 in
        check | check-max) echo starter ;;
        *) echo pro ;;
    esac
}

# account_of SCENARIO RUN: the id of that run's account.
account_of() {
    psql "$bench_url" -XAtqc "SELECT account_id FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = 'bench-$1-$2@bench.invalid'"
}

# seed_history RUN: a year of daily rollups for that run's account: every day of
# the last 366, three models, and ten members plus events naming none.
seed_history() {
    psql "$bench_url" -XqAt -v ON_ERROR_STOP=1 -v acct="$(account_of history "$1")" >>"$out/setup.log" 2>&1 <<'SQL' || tg_die "could not seed the history; see $out/setup.log"
INSERT INTO usage_daily_rollups (account_id, meter, day, user_id, dimensions, events, quantity, max_quantity, last_quantity, last_occurred_at, cost)
SELECT :'acct', 'queries', d::date,
       CASE WHEN u = 0 THEN NULL ELSE md5(:'acct' || u)::uuid END,
       jsonb_build_object('model', m),
       10, 10 + (extract(doy FROM d)::int + u) % 7, 3, 2, d + interval '12 hours', 0
FROM generate_series(current_date - 365, current_date, interval '1 day') AS d,
     generate_series(0, 10) AS u,
     unnest(ARRAY['gpt-4o', 'claude', 'llama']) AS m;
SQL
}

# seed_export RUN: EXPORT_ROWS events of that run's account over the last day.
seed_export() {
    psql "$bench_url" -XqAt -v ON_ERROR_STOP=1 -v acct="$(account_of export "$1")" -v n="$EXPORT_ROWS" >>"$out/setup.log" 2>&1 <<'SQL' || tg_die "could not seed the export; see $out/setup.log"
INSERT INTO usage_events (id, account_id, meter, quantity, occurred_at, idempotency_key, properties)
SELECT gen_random_uuid(), :'acct', 'queries', (g % 7) + 1, now() - make_interval(secs => g * 86000.0 / :n),
       'export-' || g, '{"model": "claude"}'
FROM generate_series(1, :n) AS g;
SQL
}

# export_run RUN: logs in as that run's owner and downloads its events as CSV
# once; appends the rows/s line.
export_run() {
    local jar="$out/export-$1.jar" file="$out/export-$1.csv" t rows
    curl -s -o /dev/null -c "$jar" -H "Origin: $URL" -H 'accept: text/html' \
        --data-urlencode "email=bench-export-$1@bench.invalid" --data-urlencode "password=bench-password-export-$1" \
        --data-urlencode "next=/dashboard" "$URL/_fn/log_in" || tg_die "the export scenario could not log in"
    t=$(curl -s -f -b "$jar" -o "$file" -w '%{time_total}' "$URL/usage/export.csv?kind=events") \
        || tg_die "the export download failed"
    rows=$(($(wc -l <"$file") - 1))
    rm -f "$jar" "$file"
    [ "$rows" = "$EXPORT_ROWS" ] || tg_die "the export held $rows rows, not $EXPORT_ROWS"
    "$loadgen" copy-result --rows "$rows" --seconds "$t" --label export-events >>"$results"
}

# copy_run RUN: times a raw COPY of COPY_ROWS event-shaped rows into usage_events
# and their idempotency keys into usage_event_keys (written to files first, so
# that only the COPY is timed) and appends its line.
copy_run() {
    local rows="$out/copy-$1.csv" keys="$out/copy-keys-$1.csv" t0 t1
    "$loadgen" copy-rows --account "$(account_of copy "$1")" --rows "$COPY_ROWS" \
        --occurred-at "$(date -u +%FT%TZ)" --keys-file "$keys" >"$rows"
    t0=$(date +%s.%N)
    psql "$bench_url" -XqAt -v ON_ERROR_STOP=1 \
        -c "\\copy usage_events (id, account_id, meter, quantity, occurred_at, idempotency_key, properties) FROM '$rows' WITH (FORMAT csv)" \
        -c "\\copy usage_event_keys (account_id, idempotency_key, payload_hash, event_id, occurred_at) FROM '$keys' WITH (FORMAT csv)" \
        || tg_die "the COPY baseline failed"
    t1=$(date +%s.%N)
    rm -f "$rows" "$keys"
    "$loadgen" copy-result --rows "$COPY_ROWS" --seconds "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" >>"$results"
}

tg_log "creating one account and key per scenario run"
declare -A keys
for run in $(seq 1 "$RUNS"); do
    for s in $SCENARIOS; do
        keys[$s-$run]=$(new_key "$s" "$run" "$(plan_of "$s")")
        if [ "$s" = history ]; then seed_history "$run"; fi
        if [ "$s" = export ]; then seed_export "$run"; fi
    done
done

# Another program busy on the machine (a build, a test suite) disturbs every figure.
idle_busy=$(machine_busy 3)
tg_log "machine busy before the benchmark: ${idle_busy}% of all CPUs"
[ "$idle_busy" -lt 10 ] || tg_log "WARNING: the machine is not idle (${idle_busy}% busy): figures will be noisy"

tg_log "starting the server on $URL (log: $out/server.log)"
cd "$TG_ROOT"
DATABASE_URL=$bench_url TOLLGATE_LISTEN=127.0.0.1:$PORT RUST_LOG=warn "$bin" serve >"$out/server.log" 2>&1 &
server_pid=$!
tg_wait_ready "$URL"

# The postmaster, so that loadgen reports PostgreSQL's CPU use (all backends).
watch=(--watch "server=$server_pid")
pg_datadir=$(psql "$bench_url" -XAtqc "select setting from pg_settings where name = 'data_directory'" 2>/dev/null || true)
if [ -n "$pg_datadir" ] && [ -r "$pg_datadir/postmaster.pid" ]; then
    watch+=(--watch "postgres=$(head -n1 "$pg_datadir/postmaster.pid")")
else
    tg_log "PostgreSQL's process is not readable here: its CPU use is not reported"
fi

# seconds DURATION: 15s, 15, 500ms or 2m in seconds (as loadgen reads them).
seconds() {
    awk -v t="$1" 'BEGIN {
        n = t + 0; u = t; sub(/^[0-9.]+/, "", u)
        print (u == "ms") ? n / 1000 : (u == "m" || u == "min") ? n * 60 : n
    }'
}

# top_snapshot NAME: one `top` snapshot in the middle of the measurement window.
top_snapshot() {
    command -v top >/dev/null || return 0
    local mid
    mid=$(awk -v w="$(seconds "$WARMUP")" -v d="$(seconds "$DURATION")" 'BEGIN { print w + d / 2 }')
    # Two iterations one second apart: the first one's CPU figures are not meaningful.
    (sleep "$mid" && top -b -n 2 -d 1 -w 160 | awk '/^top - / { n++ } n == 2' | head -n 20 >"$out/top-$1.txt") &
}

# scenario NAME RUN: one run; appends its JSON line to $results.
scenario() {
    local name=$1 run=$2 label args=()
    local common=(--url "$URL" --duration "$DURATION" --warmup "$WARMUP" "${watch[@]}")
    case $name in
        events-batch) label="events-batch$BATCH"; args=(events --batch "$BATCH" --concurrency "$EVENTS_CONCURRENCY") ;;
        events-single) label="events-batch1"; args=(events --batch 1 --concurrency "$SINGLE_CONCURRENCY") ;;
        check) label="check@${CHECK_RATE}rps"; args=(check --rate "$CHECK_RATE") ;;
        check-consume) label="check-consume@${CONSUME_RATE}rps"; args=(check --rate "$CONSUME_RATE" --consume) ;;
        healthz) label="healthz"; args=(throughput --path /healthz --concurrency "$MAX_CONCURRENCY") ;;
        check-max) label="check-max"; args=(throughput --path /api/v1/check --body '{"feature":"queries"}' --concurrency "$MAX_CONCURRENCY") ;;
        history)
            label="history-year"
            args=(throughput --path "/api/v1/usage/history?meter=queries&from=$(date -u -d '365 days ago' +%F)&to=$(date -u -d tomorrow +%F)&group_by=property:model" --concurrency "$HISTORY_CONCURRENCY")
            ;;
        copy)
            tg_log "run $run/$RUNS: copy ($COPY_ROWS rows)"
            copy_run "$run"
            return
            ;;
        export)
            tg_log "run $run/$RUNS: export ($EXPORT_ROWS events as CSV)"
            export_run "$run"
            return
            ;;
        *) tg_die "unknown scenario $name" ;;
    esac
    tg_log "run $run/$RUNS: $label"
    if [ "$run" = 1 ]; then top_snapshot "$name"; fi
    LOADGEN_KEY=${keys[$name-$run]} "$loadgen" "${args[@]}" "${common[@]}" --label "$label" >>"$results"
    kill -0 "$server_pid" 2>/dev/null || tg_die "the server died during $label; see $out/server.log"
}

for run in $(seq 1 "$RUNS"); do
    for s in $SCENARIOS; do
        scenario "$s" "$run"
        sleep "$PAUSE"
    done
done

cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
commit=$(git -C "$TG_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$TG_ROOT" diff --quiet HEAD 2>/dev/null || commit="$commit (with uncommitted changes)"
{
    echo
    echo "Tollgate benchmark — $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit"
    echo "machine: $(nproc) CPUs, ${cpu_model:-unknown CPU}, $(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) memory, $(uname -sr)"
    echo "database: $(psql "$bench_url" -XAtqc 'show server_version' 2>/dev/null || echo '?') (private cluster: fsync off, synchronous_commit off)"
    echo "NOTE: the load generator, the server (release build) and PostgreSQL all share these $(nproc) CPUs;"
    echo "      machine busy before the benchmark started: ${idle_busy}% (see 'other' and 'steal' below for during)."
    if [ "$stored_count" -gt 0 ]; then
        echo "stored before the runs: $stored_count events over 12 months ($STORED_ACCOUNTS accounts, monthly partitions), database $stored_size"
    fi
    echo "runs: $RUNS per scenario, ${DURATION} measured after ${WARMUP} warm-up; events: $BATCH-event batches with $EVENTS_CONCURRENCY in flight,"
    echo "      single events with $SINGLE_CONCURRENCY in flight (closed loop); checks: open loop at a fixed rate, latency from the"
    echo "      scheduled send time (no coordinated omission); check = {\"feature\":\"queries\"} on a starter account,"
    echo "      check-consume = consume:true + unique idempotency key on a pro account;"
    echo "      history-year = GET /api/v1/usage/history, a year by day split by model, $HISTORY_CONCURRENCY in flight;"
    echo "      export-events = $EXPORT_ROWS stored events downloaded as CSV by their owner (curl, one at a time)."
    echo
} | tee "$out/summary.txt"
status=0
"$loadgen" summary "$results" --ratio "events-batch$BATCH/copy" --ratio check-max/healthz \
    | tee -a "$out/summary.txt" || status=$?
elapsed=$((SECONDS - started))
{
    echo
    echo "total time of scripts/bench.sh: $((elapsed / 60)) min $((elapsed % 60)) s; files: $out"
} | tee -a "$out/summary.txt"
if [ "$status" -ne 0 ]; then
    tg_log "!!! some runs had errors or anomalies (see above and $out/server.log)"
    exit 1
fi
