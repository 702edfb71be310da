#!/usr/bin/env bash
# Exactness of consuming checks under concurrency (issue 12):
# `bash scripts/exactness.sh` releases REQUESTS (1000) consuming checks at once,
# each on its own connection, against a hard limit of LIMIT (100, an override
# with no grace), on a server of its own over a fresh database. Prints the counts
# and the usage read back; fails unless exactly LIMIT are allowed and stored.
# The test command runs the same race against its end-to-end server.
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/app.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/app.sh"

REQUESTS=${REQUESTS:-1000}
LIMIT=${LIMIT:-100}
PORT=${PORT:-3191}
tg_ensure_toolchain
tg_ensure_postgres
server=""
cleanup() {
    [ -z "$server" ] || kill "$server" 2>/dev/null || true
    tg_stop_private_postgres
}
trap cleanup EXIT

tg_build_for_tests
bin=$(tg_bin)
tg_fresh_database tollgate_exactness
db=$(tg_database_url_for tollgate_exactness)
DATABASE_URL=$db tg_prepare_db
mkdir -p "$TG_DATA"
DATABASE_URL=$db TOLLGATE_LISTEN=127.0.0.1:$PORT RUST_LOG=warn "$bin" serve >"$TG_DATA/exactness-server.log" 2>&1 &
server=$!
tg_wait_ready "http://127.0.0.1:$PORT"
tg_race "http://127.0.0.1:$PORT" "$db" "$bin" "$REQUESTS" "$LIMIT"
