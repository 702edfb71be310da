#!/usr/bin/env bash
# Runs Tollgate with demo data on http://127.0.0.1:3000 until Ctrl-C.
#
# Installs what is missing (quick when nothing is), uses DATABASE_URL when it is set
# and reachable, otherwise a private PostgreSQL under .data/, migrates, loads the
# emtchat catalog, creates the demo users and prints their credentials. Payments use
# the built-in manual provider; nothing outside this machine is needed. With
# `--stripe`, paid plans go through Stripe Checkout on the project's Stripe test
# double instead (still nothing outside this machine). No SMTP server
# is configured (unless TOLLGATE_SMTP_HOST is set): e-mail is written to the log and
# `tollgate mail list` prints it.
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/app.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/app.sh"

stripe_demo=false
if [[ "${1:-}" == "--stripe" ]]; then
    stripe_demo=true
fi

tg_ensure_toolchain
tg_ensure_postgres
double_pid=""
receiver_pid=""
stop_all() {
    [ -z "$double_pid" ] || kill "$double_pid" 2>/dev/null || true
    [ -z "$receiver_pid" ] || kill "$receiver_pid" 2>/dev/null || true
    tg_stop_private_postgres
}
trap stop_all EXIT
tg_build
tg_prepare_db
bin=$(tg_bin)
if $stripe_demo; then
    # Demo mode with card payments: the project's Stripe test double stands in for
    # Stripe (test cards 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined).
    listen=${TOLLGATE_LISTEN:-127.0.0.1:3000}
    double_listen=${STRIPE_DOUBLE_LISTEN:-127.0.0.1:12111}
    (cd "$TG_ROOT" && cargo build -p tollgate-stripe-double --bin stripe-double)
    mkdir -p "$TG_DATA"
    STRIPE_DOUBLE_LISTEN=$double_listen STRIPE_DOUBLE_API_KEY=sk_test_demo STRIPE_DOUBLE_WEBHOOK_SECRET=whsec_demo \
        STRIPE_DOUBLE_WEBHOOK_URL=http://$listen/webhooks/stripe RUST_LOG=warn \
        "$CARGO_TARGET_DIR/debug/stripe-double" >"$TG_DATA/stripe-double.log" 2>&1 &
    double_pid=$!
    tg_wait_url "http://$double_listen/_double/health"
    export TOLLGATE_STRIPE_SECRET_KEY=sk_test_demo TOLLGATE_STRIPE_WEBHOOK_SECRET=whsec_demo TOLLGATE_STRIPE_API_BASE=http://$double_listen
    (cd "$TG_ROOT" && "$bin" stripe sync)
    tg_log "card payments go to the Stripe test double on http://$double_listen (log: $TG_DATA/stripe-double.log)"
fi
# The demo's webhook endpoints point to a local receiver (`tollgate webhooks
# listen`, started below): private targets are allowed for the demo only.
export TOLLGATE_WEBHOOK_ALLOW_PRIVATE_TARGETS=true
(cd "$TG_ROOT" && "$bin" demo seed)
mkdir -p "$TG_DATA"
receiver_listen=127.0.0.1:3999
if tg__port_busy 3999; then
    tg_log "port 3999 is in use: the demo's webhook receiver does not start (deliveries to it will be retried)"
else
    (cd "$TG_ROOT" && "$bin" webhooks listen --listen "$receiver_listen") >"$TG_DATA/webhooks-receiver.log" 2>&1 &
    receiver_pid=$!
    tg_log "webhook deliveries arrive at http://$receiver_listen/ and are verified: tail -f $TG_DATA/webhooks-receiver.log (delivery logs: /admin/webhooks, /settings/webhooks)"
fi
[ -n "${TOLLGATE_SMTP_HOST:-}" ] || tg_log "e-mail is not sent in the demo: it is logged below, and '$bin mail list' prints it"
tg_log "open http://${TOLLGATE_LISTEN:-127.0.0.1:3000} (Ctrl-C stops)"
cd "$TG_ROOT"
"$bin" serve
