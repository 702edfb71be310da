# shellcheck shell=bash
# Building and preparing Tollgate itself. Sourced after common.sh.

# The server binary cargo-leptos builds (debug, or release with TG_PROFILE=release).
tg_bin() {
    printf '%s/%s/tollgate\n' "$CARGO_TARGET_DIR" "${TG_PROFILE:-debug}"
}

# Builds the server and the WASM front end with Tailwind (cargo-leptos).
tg_build() {
    local flags=()
    [ "${TG_PROFILE:-debug}" = release ] && flags+=(--release)
    tg_log "building Tollgate (${TG_PROFILE:-debug})"
    (cd "$TG_ROOT" && cargo leptos build "${flags[@]}")
}

# The crates the test command tests in one cargo invocation, so that every dependency
# is compiled once, with one feature set. Separate invocations per crate resolved
# tokio, sqlx, axum and leptos with different features and compiled each of them
# up to seven times on a cold machine.
TG_TEST_CRATES=(-p tollgate -p tollgate-app -p tollgate-server -p tollgate-stripe-double -p tollgate-bench
    --features tollgate/ssr,tollgate-app/ssr)

# What the end-to-end tests run: the server and Stripe double binaries as the test
# build made them (target/debug, the same artifacts, nothing compiled twice), the
# load generator (for the race), and the site's front end (WASM, CSS, assets) from
# cargo-leptos.
tg_build_for_tests() {
    tg_log "building the test binaries and the front end (debug)"
    (cd "$TG_ROOT" && tg_test_env cargo test "${TG_TEST_CRATES[@]}" --no-run \
        && tg_test_env cargo build "${TG_TEST_CRATES[@]}" --bin loadgen \
        && cargo leptos build --frontend-only)
}

# Runs "$@" with what cargo-leptos gives a debug server build: `--cfg
# erase_components` (server and WASM alike, so the server renders what the WASM
# hydrates) and LEPTOS_OUTPUT_NAME (read at compile time by Leptos to name the
# WASM file the page loads: without it, it asks for tollgate_bg.wasm).
tg_test_env() {
    RUSTFLAGS="--cfg erase_components" LEPTOS_OUTPUT_NAME=tollgate "$@"
}

# Every install step the run and test commands need.
tg_ensure_toolchain() {
    tg_path_setup
    tg_ensure_disk
    tg_ensure_rust_target
    tg_ensure_cargo_leptos
    tg_ensure_wasm_bindgen
    tg_ensure_node_modules
}

# Migrates the database in DATABASE_URL and loads the emtchat catalog unless a
# catalog is already there.
tg_prepare_db() {
    local bin
    bin=$(tg_bin)
    (cd "$TG_ROOT" && "$bin" migrate && "$bin" catalog load --if-empty catalogs/emtchat.toml)
}

# Waits until a server answers /readyz (at most $2 seconds, default 60).
tg_wait_ready() {
    tg_wait_url "$1/readyz" "${2:-60}"
}

# Waits until GET $1 succeeds (at most $2 seconds, default 60).
tg_wait_url() {
    local url=$1 limit=${2:-60} i
    for ((i = 0; i < limit * 4; i++)); do
        curl -fsS "$url" >/dev/null 2>&1 && return 0
        sleep 0.25
    done
    tg_die "$url did not answer"
}

# A database URL on the same server as DATABASE_URL, for database $1.
tg_database_url_for() {
    printf '%s/%s\n' "${DATABASE_URL%/*}" "$1"
}

# Drops and re-creates database $1 on DATABASE_URL's server.
tg_fresh_database() {
    local admin
    admin=$(tg_database_url_for postgres)
    psql "$admin" -qAtc "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" >/dev/null
    psql "$admin" -qAtc "CREATE DATABASE \"$1\"" >/dev/null
}

# tg_schemathesis BASE_URL DATABASE_URL BIN EXAMPLES: Schemathesis against the
# server at BASE_URL (on DATABASE_URL, whose catalog is loaded), with an account
# key of a new customer on Pro made through the CLI BIN, at most EXAMPLES cases per
# operation and phase. Fails on any server error, any response that does not match
# the document (status, content type, headers, body), a schema-violating request
# accepted, or a route that answers without its key. scripts/schemathesis.toml
# says what is not checked and why.
tg_schemathesis() {
    local base=$1 db=$2 bin=$3 examples=$4
    tg_ensure_schemathesis
    tg_customer_key "$db" "$bin" schemathesis pro
    local key=$TG_CUSTOMER_KEY
    "$TG_SCHEMATHESIS_VENV/bin/schemathesis" --config-file "$TG_ROOT/scripts/schemathesis.toml" --no-color \
        run "$base/api/v1/openapi.json" --header "Authorization: Bearer $key" --max-examples "$examples"
}

# tg_race BASE_URL DATABASE_URL BIN REQUESTS LIMIT: REQUESTS consuming checks
# released at once (loadgen race) for a new customer whose `queries` limit is
# overridden to LIMIT, hard, no grace. Prints the result; fails unless exactly
# LIMIT are allowed and the stored usage is LIMIT.
tg_race() {
    local base=$1 db=$2 bin=$3 requests=$4 limit=$5
    tg_customer_key "$db" "$bin" race starter
    DATABASE_URL=$db RUST_LOG=warn "$bin" accounts override "$TG_CUSTOMER_EMAIL" --meter queries --included "$limit" \
        --enforcement hard --grace 0 --reason "exactness race" >/dev/null
    LOADGEN_KEY=$TG_CUSTOMER_KEY "$CARGO_TARGET_DIR/debug/loadgen" race --url "$base" --requests "$requests"
}

# tg_customer_key DATABASE_URL BIN TAG PLAN: a new customer (TAG-<time>@example.com)
# on PLAN with an account key, made through the CLI BIN; sets TG_CUSTOMER_EMAIL and
# TG_CUSTOMER_KEY.
tg_customer_key() {
    local db=$1 bin=$2 tag=$3 plan=$4
    TG_CUSTOMER_EMAIL="$tag-$(date +%s%N)@example.com"
    DATABASE_URL=$db RUST_LOG=warn "$bin" users create --email "$TG_CUSTOMER_EMAIL" --name "$tag" --password "$tag-password-$RANDOM$RANDOM" >/dev/null
    DATABASE_URL=$db RUST_LOG=warn "$bin" accounts set-plan "$TG_CUSTOMER_EMAIL" "$plan" >/dev/null
    TG_CUSTOMER_KEY=$(DATABASE_URL=$db RUST_LOG=warn "$bin" keys create --account "$TG_CUSTOMER_EMAIL" --name "$tag" 2>/dev/null)
}
