#!/usr/bin/env bash
# The long Schemathesis run (issue 12): `bash scripts/schemathesis.sh [EXAMPLES]`
# (default 1000 cases per operation and phase) against a server of its own on a
# fresh database. The test command runs a short one (30) on every run. Prints
# Schemathesis' summary; fails on any finding (see tg_schemathesis).
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/app.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/app.sh"

examples=${1:-1000}
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
tg_fresh_database tollgate_schemathesis
db=$(tg_database_url_for tollgate_schemathesis)
DATABASE_URL=$db tg_prepare_db
port=${TOLLGATE_SCHEMATHESIS_PORT:-3190}
mkdir -p "$TG_DATA"
DATABASE_URL=$db TOLLGATE_LISTEN=127.0.0.1:$port RUST_LOG=warn "$bin" serve >"$TG_DATA/schemathesis-server.log" 2>&1 &
server=$!
tg_wait_ready "http://127.0.0.1:$port"
tg_schemathesis "http://127.0.0.1:$port" "$db" "$bin" "$examples"
