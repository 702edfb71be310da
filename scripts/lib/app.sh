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
