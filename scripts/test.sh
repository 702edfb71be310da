#!/usr/bin/env bash
# Runs every test: the domain crate with and without `ssr`, the Leptos crates with
# `ssr` and with `hydrate`, the PostgreSQL tests (one database per test), and the
# Playwright tests in system Chromium against two `tollgate serve` processes on one
# database. Installs what is missing first; `.ci/run` calls exactly this. E-mail is
# sent through a real SMTP server (aiosmtpd, scripts/smtp_sink.py) that stores every
# message as an .eml file, which the Rust and Playwright tests read.
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/app.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/app.sh"

# No incremental caches: a CI clone cannot reuse them and they cost gigabytes.
export CARGO_INCREMENTAL=0
tg_ensure_toolchain
tg_ensure_chromium
tg_ensure_poppler
tg_ensure_postgres
export DATABASE_URL
cd "$TG_ROOT"

servers=()
cleanup() {
    local pid
    for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null || true; done
    tg_stop_smtp_sink
    wait 2>/dev/null || true
    tg_stop_private_postgres
}
trap cleanup EXIT

step() { tg_log "── $* ──"; }

step "SMTP sink for the e-mail tests"
smtp_port=2525
mail_dir="$TG_DATA/e2e/mail"
tg_start_smtp_sink "$smtp_port" "$mail_dir"
export TOLLGATE_TEST_SMTP=127.0.0.1:$smtp_port TOLLGATE_TEST_MAIL_DIR=$mail_dir

step "Standard Webhooks' reference library, which verifies the outgoing webhooks in the server tests"
TOLLGATE_TEST_WEBHOOK_VERIFIER=$(tg_ensure_webhook_verifier)
export TOLLGATE_TEST_WEBHOOK_VERIFIER

# `scripts/test.sh --e2e [playwright args]`: only the end-to-end part (a developer's
# loop; CI runs everything).
e2e_only=false
if [[ "${1:-}" == "--e2e" ]]; then
    e2e_only=true
    shift
fi

if ! $e2e_only; then
    step "domain crate without ssr (the pure core builds and passes alone)"
    # With the same flags as the builds below, so the dependencies they share
    # (serde, rust_decimal, chrono…) are compiled once.
    tg_test_env cargo test -p tollgate

    step "every crate with ssr: domain, Leptos app, server (API, CLI, PostgreSQL), Stripe double, bench"
    # One invocation: each dependency compiled once (see TG_TEST_CRATES). The app's
    # hydrate side is compiled for the browser by the site build below.
    tg_test_env cargo test "${TG_TEST_CRATES[@]}"
fi

step "build the site (front end) and the binaries the end-to-end tests run"
tg_build_for_tests
bin=$(tg_bin)

step "end-to-end: two servers on one database"
tg_fresh_database tollgate_e2e
e2e_db=$(tg_database_url_for tollgate_e2e)
DATABASE_URL=$e2e_db tg_prepare_db
mkdir -p "$TG_DATA/e2e"
# Every spec signs its users up and in from 127.0.0.1: the per-address limits on
# those forms (10 a minute by default) are raised here; the server tests cover them.
for port in 3100 3101; do
    DATABASE_URL=$e2e_db TOLLGATE_LISTEN=127.0.0.1:$port RUST_LOG=warn TOLLGATE_AUTH_ATTEMPTS_PER_MINUTE=100000 \
        TOLLGATE_EMBED_ORIGINS=http://localhost:3199 \
        TOLLGATE_WEBHOOK_ALLOW_PRIVATE_TARGETS=true \
        TOLLGATE_SMTP_HOST=127.0.0.1 TOLLGATE_SMTP_PORT=$smtp_port TOLLGATE_SMTP_TLS=none \
        "$bin" serve >"$TG_DATA/e2e/server-$port.log" 2>&1 &
    servers+=($!)
done
tg_wait_ready http://127.0.0.1:3100
tg_wait_ready http://127.0.0.1:3101

step "end-to-end: a third server paying through the Stripe test double"
double_url=http://127.0.0.1:12111
stripe_env=(TOLLGATE_STRIPE_SECRET_KEY=sk_test_e2e TOLLGATE_STRIPE_WEBHOOK_SECRET=whsec_e2e TOLLGATE_STRIPE_API_BASE=$double_url)
STRIPE_DOUBLE_LISTEN=127.0.0.1:12111 STRIPE_DOUBLE_API_KEY=sk_test_e2e STRIPE_DOUBLE_WEBHOOK_SECRET=whsec_e2e \
    STRIPE_DOUBLE_WEBHOOK_URL=http://127.0.0.1:3102/webhooks/stripe RUST_LOG=warn \
    "$CARGO_TARGET_DIR/debug/stripe-double" >"$TG_DATA/e2e/stripe-double.log" 2>&1 &
servers+=($!)
tg_wait_url "$double_url/_double/health"
env "${stripe_env[@]}" DATABASE_URL=$e2e_db "$bin" stripe sync
env "${stripe_env[@]}" DATABASE_URL=$e2e_db TOLLGATE_LISTEN=127.0.0.1:3102 RUST_LOG=warn TOLLGATE_AUTH_ATTEMPTS_PER_MINUTE=100000 \
    TOLLGATE_WEBHOOK_ALLOW_PRIVATE_TARGETS=true TOLLGATE_SMTP_HOST=127.0.0.1 TOLLGATE_SMTP_PORT=$smtp_port TOLLGATE_SMTP_TLS=none \
    "$bin" serve >"$TG_DATA/e2e/server-3102.log" 2>&1 &
servers+=($!)
tg_wait_ready http://127.0.0.1:3102
E2E_BASE_URL=http://127.0.0.1:3100 E2E_SECOND_URL=http://127.0.0.1:3101 E2E_STRIPE_URL=http://127.0.0.1:3102 E2E_DOUBLE_URL=$double_url \
    E2E_DATABASE_URL=$e2e_db E2E_MAIL_DIR=$mail_dir E2E_TOLLGATE_BIN=$bin \
    npx playwright test --config end2end/playwright.config.ts "$@"

if ! $e2e_only; then
    step "API contract: Schemathesis against /api/v1/openapi.json (short run; scripts/schemathesis.sh runs long)"
    tg_schemathesis http://127.0.0.1:3100 "$e2e_db" "$bin" 30

    step "exactness: 1000 consuming checks at once against a hard limit of 100 (scripts/exactness.sh alone)"
    tg_race http://127.0.0.1:3100 "$e2e_db" "$bin" 1000 100
fi
step "all tests passed"
