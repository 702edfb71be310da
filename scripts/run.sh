#!/usr/bin/env bash
# Runs Tollgate with demo data on http://127.0.0.1:3000 until Ctrl-C.
#
# Installs what is missing (quick when nothing is), uses DATABASE_URL when it is set
# and reachable, otherwise a private PostgreSQL under .data/, migrates, loads the
# emtchat catalog, creates the demo users and prints their credentials. Payments use
# the built-in manual provider; nothing outside this machine is needed. No SMTP server
# is configured (unless TOLLGATE_SMTP_HOST is set): e-mail is written to the log and
# `tollgate mail list` prints it.
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/app.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/app.sh"

tg_ensure_toolchain
tg_ensure_postgres
trap tg_stop_private_postgres EXIT
tg_build
tg_prepare_db
bin=$(tg_bin)
(cd "$TG_ROOT" && "$bin" demo seed)
[ -n "${TOLLGATE_SMTP_HOST:-}" ] || tg_log "e-mail is not sent in the demo: it is logged below, and '$bin mail list' prints it"
tg_log "open http://${TOLLGATE_LISTEN:-127.0.0.1:3000} (Ctrl-C stops)"
cd "$TG_ROOT"
"$bin" serve
