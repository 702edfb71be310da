# shellcheck shell=bash
# Tollgate helper library: tool-chain installation and a private PostgreSQL.
#
# Sourced (never executed) by the project's run and test scripts:
#     source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# Safe under `set -euo pipefail`; it does not change the caller's shell options.
# Every tg_ensure_* function is idempotent and cheap when there is nothing to do,
# because this machine (and CI, which runs here from a fresh clone) has no
# internet besides the package registries: whatever a build needs must be
# installed from them by these functions, never by hand.

if [ -z "${BASH_VERSION:-}" ]; then
    echo "[tollgate] scripts/lib/common.sh needs bash" >&2
    # shellcheck disable=SC2317  # `exit` is reached when executed instead of sourced
    return 1 2>/dev/null || exit 1
fi

# Repository root, from this file's own location (scripts/lib/common.sh), so the
# scripts work from any working directory and from any clone.
TG_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# Local state (private PostgreSQL cluster, ...); git-ignored.
TG_DATA="$TG_ROOT/.data"
export TG_ROOT TG_DATA

# Pinned tool versions. cargo-leptos 0.3.11 does not build on rustc 1.95.
TG_CARGO_LEPTOS_VERSION="0.3.10"
# Default TCP port of the private PostgreSQL cluster.
TG_PG_DEFAULT_PORT=55432

# ---------------------------------------------------------------------------
# Logging
# ---------------------------------------------------------------------------

# tg_log MSG...: print a progress message to stderr (stdout stays clean for data).
tg_log() {
    printf '[tollgate] %s\n' "$*" >&2
}

# tg_die MSG...: print an error and exit the calling script with status 1.
tg_die() {
    tg_log "error: $*"
    exit 1
}

# tg__is_root: true when running as root (CI and the dev machines here), where
# apt-get may be used and PostgreSQL must run as another OS user.
tg__is_root() {
    [ "$(id -u)" -eq 0 ]
}

# tg__apt_install PKG...: install Debian packages as root. The package lists may
# be missing or stale on a fresh machine, so `apt-get update` runs only when the
# first attempt fails. Waits for a concurrent apt/dpkg instead of failing.
tg__apt_install() {
    local apt=(apt-get -y -q -o DPkg::Lock::Timeout=300 install "$@")
    tg_log "installing Debian package(s): $*"
    if ! DEBIAN_FRONTEND=noninteractive "${apt[@]}" >&2; then
        tg_log "apt-get install failed; running apt-get update and retrying"
        DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300 update >&2
        DEBIAN_FRONTEND=noninteractive "${apt[@]}" >&2
    fi
}

# ---------------------------------------------------------------------------
# PATH and build cache
# ---------------------------------------------------------------------------

# tg__path_prepend DIR: put DIR first on PATH unless it is already on it.
tg__path_prepend() {
    case ":$PATH:" in
        *":$1:"*) ;;
        *) PATH="$1:$PATH" ;;
    esac
}

# tg_path_setup: make cargo-installed tools (cargo-leptos, wasm-bindgen) and the
# npm tools (tailwindcss, wasm-opt, playwright) visible, because cargo-leptos
# looks them up on PATH (and otherwise tries a download, which fails here).
# Exports CARGO_TARGET_DIR to a cache outside the clone: CI builds from a fresh
# clone on this same machine, and a shared target dir keeps those builds warm.
# Override with TOLLGATE_TARGET_DIR.
tg_path_setup() {
    tg__path_prepend "$TG_ROOT/node_modules/.bin"
    tg__path_prepend "$HOME/.cargo/bin"
    export PATH
    export CARGO_TARGET_DIR="${TOLLGATE_TARGET_DIR:-$HOME/.cache/tollgate/target}"
    mkdir -p "$CARGO_TARGET_DIR"
}

# Free GB on the file system holding the target directory.
tg__free_gb() {
    df -Pk "$CARGO_TARGET_DIR" | awk 'NR==2 { print int($4 / 1048576) }'
}

# tg_ensure_disk: the shared target directory grows with every clone that builds
# into it (a clone at a new path rebuilds the workspace's own crates under new
# hashes), and this machine's disk is shared and limited. Below 30 GB free, drop
# the workspace crates' artifacts and the incremental caches (dependencies stay
# warm); below 15 GB, drop the whole debug profile. A cold build needs about 12 GB.
tg_ensure_disk() {
    local free
    free=$(tg__free_gb)
    if [ "$free" -lt 30 ]; then
        tg_log "only ${free} GB free: removing old builds of Tollgate's own crates"
        rm -rf "$CARGO_TARGET_DIR/debug/incremental"
        (cd "$TG_ROOT" && cargo clean --quiet -p tollgate -p tollgate-app -p tollgate-server \
            -p tollgate-frontend -p tollgate-stripe-double -p tollgate-bench) || true
        free=$(tg__free_gb)
    fi
    if [ "$free" -lt 15 ]; then
        tg_log "only ${free} GB free: removing the whole debug build (a cold build follows)"
        rm -rf "$CARGO_TARGET_DIR/debug"
        free=$(tg__free_gb)
    fi
    if [ "$free" -lt 12 ]; then
        tg_log "warning: only ${free} GB free; a full build and test run needs about 12 GB"
    fi
}

# ---------------------------------------------------------------------------
# Rust tool chain
# ---------------------------------------------------------------------------

# tg_ensure_rust_target: add the wasm32 target the front end compiles to, only if
# it is missing (rustup is slow to start, so list first).
tg_ensure_rust_target() {
    command -v rustup >/dev/null || tg_die "rustup not found: install Rust with rustup first"
    local installed
    installed="$(rustup target list --installed)"
    if ! grep -qx 'wasm32-unknown-unknown' <<<"$installed"; then
        tg_log "adding Rust target wasm32-unknown-unknown"
        rustup target add wasm32-unknown-unknown >&2
    fi
}

# tg__cmd_version CMD...: print the second word of `CMD --version` (e.g.
# "cargo-leptos 0.3.10" -> "0.3.10"), or nothing when the command is missing.
tg__cmd_version() {
    local out name version
    out="$("$@" --version 2>/dev/null)" || return 0
    read -r name version _ <<<"$out"
    printf '%s\n' "${version:-$name}"
}

# tg_ensure_cargo_leptos: install cargo-leptos at the pinned version (about 15
# minutes on 2 cores, so only when missing or different). `no_downloads` makes it
# fail clearly instead of trying to download a missing tool.
tg_ensure_cargo_leptos() {
    local have
    have="$(tg__cmd_version cargo leptos)"
    if [ "$have" != "$TG_CARGO_LEPTOS_VERSION" ]; then
        tg_log "installing cargo-leptos $TG_CARGO_LEPTOS_VERSION (found: ${have:-none}); this takes ~15 min"
        cargo install cargo-leptos --version "$TG_CARGO_LEPTOS_VERSION" --locked \
            --features no_downloads >&2
    fi
}

# tg__lock_version CRATE: print the version of CRATE recorded in Cargo.lock (the
# first [[package]] entry with that exact name).
tg__lock_version() {
    awk -v want="name = \"$1\"" '
        $0 == want { found = 1; next }
        found && /^version = / { gsub(/"/, "", $3); print $3; exit }
        /^\[\[package\]\]/ { found = 0 }
    ' "$TG_ROOT/Cargo.lock"
}

# tg_ensure_wasm_bindgen: install wasm-bindgen-cli at exactly the version of the
# wasm-bindgen crate in Cargo.lock (the two must match or the build fails).
# No --locked: the CLI's own lock file names a crate version the registry lacks.
tg_ensure_wasm_bindgen() {
    local want have
    [ -f "$TG_ROOT/Cargo.lock" ] || tg_die "no Cargo.lock in $TG_ROOT"
    want="$(tg__lock_version wasm-bindgen)"
    [ -n "$want" ] || tg_die "wasm-bindgen not found in Cargo.lock"
    have="$(tg__cmd_version wasm-bindgen)"
    if [ "$have" != "$want" ]; then
        tg_log "installing wasm-bindgen-cli $want (found: ${have:-none}); this takes ~2 min"
        cargo install wasm-bindgen-cli --version "$want" >&2
    fi
}

# ---------------------------------------------------------------------------
# npm tools and browser
# ---------------------------------------------------------------------------

# tg_ensure_node_modules: `npm ci` (tailwindcss, wasm-opt from binaryen,
# Playwright) when node_modules is missing or package-lock.json changed since the
# last install (npm writes node_modules/.package-lock.json on every install).
# Playwright's browser download is skipped: it cannot work here, and Debian's
# chromium is used instead.
tg_ensure_node_modules() {
    local stamp="$TG_ROOT/node_modules/.package-lock.json"
    command -v npm >/dev/null || tg_die "npm not found: install Node.js 20+ (Debian: apt-get install -y nodejs npm)"
    if [ ! -f "$stamp" ] || [ "$TG_ROOT/package-lock.json" -nt "$stamp" ]; then
        tg_log "installing npm packages (npm ci)"
        (cd "$TG_ROOT" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund >&2)
    fi
}

# tg_ensure_chromium: Playwright drives Debian's /usr/bin/chromium (Playwright's
# own browser download is not reachable). Installs it when root, else explains.
tg_ensure_chromium() {
    [ -x /usr/bin/chromium ] && return 0
    tg__is_root || tg_die "/usr/bin/chromium missing: run 'sudo apt-get install -y chromium'"
    tg__apt_install chromium
    [ -x /usr/bin/chromium ] || tg_die "chromium install did not provide /usr/bin/chromium"
}

# tg_ensure_poppler: the invoice PDF tests render pages with `pdftoppm` and read
# their text with `pdftotext` (Debian's poppler-utils). Installs it when root,
# else explains.
tg_ensure_poppler() {
    command -v pdftoppm >/dev/null && command -v pdftotext >/dev/null && return 0
    tg__is_root || tg_die "pdftoppm/pdftotext missing: run 'sudo apt-get install -y poppler-utils'"
    tg__apt_install poppler-utils
    if ! command -v pdftoppm >/dev/null || ! command -v pdftotext >/dev/null; then
        tg_die "poppler-utils install did not provide pdftoppm and pdftotext"
    fi
}

# ---------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------

# tg__pg_reachable URL: true when a server answers `select 1` at URL within 3 s.
tg__pg_reachable() {
    command -v psql >/dev/null || return 1
    PGCONNECT_TIMEOUT=3 psql "$1" -XAtqc 'select 1' >/dev/null 2>&1
}

# tg__pg_bindir: print the directory holding the server binaries (initdb,
# pg_ctl): `pg_config --bindir`, else the highest /usr/lib/postgresql/N/bin.
# Prints nothing when there is no server installed.
tg__pg_bindir() {
    local dir
    dir="$(pg_config --bindir 2>/dev/null || true)"
    if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
        printf '%s\n' "$dir"
        return 0
    fi
    for dir in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k5,5 -rn); do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
            printf '%s\n' "$dir"
            return 0
        fi
    done
}

# tg__pg_ensure_server: set TG_PG_BINDIR, installing Debian's postgresql as root
# when no server binaries exist (the client alone is not enough).
tg__pg_ensure_server() {
    TG_PG_BINDIR="$(tg__pg_bindir)"
    if [ -z "$TG_PG_BINDIR" ]; then
        tg__is_root || tg_die "no PostgreSQL server binaries (initdb, pg_ctl): run 'sudo apt-get install -y postgresql', or set DATABASE_URL to a reachable database"
        tg__apt_install postgresql
        TG_PG_BINDIR="$(tg__pg_bindir)"
        [ -n "$TG_PG_BINDIR" ] || tg_die "postgresql installed but initdb/pg_ctl not found"
    fi
}

# tg__as_pg CMD...: run a server command as the owner of the cluster. initdb and
# postgres refuse to run as root, so as root they run as the `postgres` OS user
# (from / so an unreadable current directory does not matter); a normal user
# runs them directly.
tg__as_pg() {
    if tg__is_root; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

# tg__pg_paths: set TG_PG_DIR and the data, socket and log paths under it.
# Default $TG_DATA/postgres (override: TOLLGATE_PG_DIR). As root, the postgres
# user must be able to reach it; if a parent directory is closed (e.g. a clone
# under /root), fall back to a per-clone directory under /var/tmp.
tg__pg_paths() {
    TG_PG_DIR="${TOLLGATE_PG_DIR:-$TG_DATA/postgres}"
    mkdir -p "$TG_DATA" "$(dirname "$TG_PG_DIR")"
    chmod go+rx "$TG_DATA"
    if tg__is_root && [ ! -d "$TG_PG_DIR/data" ] \
        && ! runuser -u postgres -- test -x "$(dirname "$TG_PG_DIR")" 2>/dev/null; then
        TG_PG_DIR="/var/tmp/tollgate-postgres-$(printf '%s' "$TG_ROOT" | cksum | cut -d' ' -f1)"
        tg_log "postgres user cannot reach $TG_DATA; using $TG_PG_DIR"
    fi
    TG_PG_DATADIR="$TG_PG_DIR/data"
    TG_PG_RUNDIR="$TG_PG_DIR/run"
    TG_PG_LOG="$TG_PG_DIR/log"
}

# tg__pg_make_dirs: create the cluster directories; as root hand them to the
# postgres user (chown only when needed, to stay fast).
tg__pg_make_dirs() {
    mkdir -p "$TG_PG_DIR" "$TG_PG_RUNDIR"
    if tg__is_root && [ "$(stat -c %U "$TG_PG_DIR")" != postgres ]; then
        chown -R postgres:postgres "$TG_PG_DIR"
    fi
}

# tg__pg_socket_dir: print the Unix socket directory to configure, or nothing
# (TCP only) when the socket path would exceed the ~107-byte limit of Unix
# sockets (deep clone paths); pg_ctl and all clients here use TCP anyway.
tg__pg_socket_dir() {
    if [ "${#TG_PG_RUNDIR}" -le 80 ]; then
        printf '%s\n' "$TG_PG_RUNDIR"
    fi
}

# tg__pg_init: create the cluster once: superuser role `tollgate`, trust auth
# (initdb's pg_hba.conf covers only the local socket and loopback), listening on
# 127.0.0.1 only. Durability is traded for speed: it is a throw-away
# development/test database (after a machine crash, delete $TG_PG_DIR).
tg__pg_init() {
    [ -f "$TG_PG_DATADIR/PG_VERSION" ] && return 0
    tg_log "creating private PostgreSQL cluster in $TG_PG_DATADIR"
    tg__as_pg "$TG_PG_BINDIR/initdb" -D "$TG_PG_DATADIR" -U tollgate -A trust \
        -E UTF8 --locale=C.UTF-8 >"$TG_PG_DIR/initdb.out" 2>&1 \
        || { cat "$TG_PG_DIR/initdb.out" >&2; tg_die "initdb failed"; }
    tg__as_pg tee -a "$TG_PG_DATADIR/postgresql.conf" >/dev/null <<EOF

# --- tollgate private cluster (scripts/lib/common.sh) ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$(tg__pg_socket_dir)'
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
}

# tg__pg_check_version: a cluster runs only under the major version that created
# it (e.g. after the machine gained a newer PostgreSQL): use that version's
# binaries when installed, else say how to recreate the cluster.
tg__pg_check_version() {
    local want have
    [ -f "$TG_PG_DATADIR/PG_VERSION" ] || return 0
    want="$(cat "$TG_PG_DATADIR/PG_VERSION")"
    have="$("$TG_PG_BINDIR/postgres" --version)"
    case "$have" in *" $want".*) return 0 ;; esac
    if [ -x "/usr/lib/postgresql/$want/bin/pg_ctl" ]; then
        TG_PG_BINDIR="/usr/lib/postgresql/$want/bin"
        return 0
    fi
    tg_die "$TG_PG_DATADIR was created by PostgreSQL $want but the server here is '$have': delete $TG_PG_DIR to recreate it"
}

# tg__pg_postmaster_zombie: true when the PID in postmaster.pid is a zombie. In
# containers whose PID 1 reaps late (or never), a killed postmaster lingers as a
# zombie, which pg_ctl and postgres would both take for a running server.
tg__pg_postmaster_zombie() {
    local pid stat
    pid="$(head -n1 "$TG_PG_DATADIR/postmaster.pid" 2>/dev/null)" || return 1
    stat="$(ps -o stat= -p "$pid" 2>/dev/null)" || return 1
    [[ "${stat// /}" == Z* ]]
}

# tg__pg_running: true when the cluster's postmaster is alive (not a zombie).
tg__pg_running() {
    tg__as_pg "$TG_PG_BINDIR/pg_ctl" status -D "$TG_PG_DATADIR" >/dev/null 2>&1 \
        && ! tg__pg_postmaster_zombie
}

# tg__pg_running_port: print the port of the running cluster (line 4 of
# postmaster.pid), so a cluster started on a fallback port is found again.
tg__pg_running_port() {
    sed -n 4p "$TG_PG_DATADIR/postmaster.pid"
}

# tg__port_busy PORT: true when something listens on 127.0.0.1:PORT.
tg__port_busy() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# tg__pg_pick_port: print the port to start on: TOLLGATE_PG_PORT if set (and
# free), else the first free one from 55432 up (another clone's cluster, e.g. a
# developer's while CI runs, may hold the default).
tg__pg_pick_port() {
    local port
    if [ -n "${TOLLGATE_PG_PORT:-}" ]; then
        tg__port_busy "$TOLLGATE_PG_PORT" && tg_die "port $TOLLGATE_PG_PORT (TOLLGATE_PG_PORT) is already in use"
        printf '%s\n' "$TOLLGATE_PG_PORT"
        return 0
    fi
    for port in $(seq "$TG_PG_DEFAULT_PORT" $((TG_PG_DEFAULT_PORT + 20))); do
        if ! tg__port_busy "$port"; then
            printf '%s\n' "$port"
            return 0
        fi
    done
    tg_die "no free port in $TG_PG_DEFAULT_PORT-$((TG_PG_DEFAULT_PORT + 20)); set TOLLGATE_PG_PORT"
}

# tg__pg_clear_stale_pid: after a crash or a machine restart, postmaster.pid may
# name a zombie or a PID now used by an unrelated process, and postgres would
# then refuse to start ("lock file already exists"). Remove it (and the socket
# lock naming the same PID) in those cases only; a dead PID is handled by
# postgres itself.
tg__pg_clear_stale_pid() {
    local pidfile="$TG_PG_DATADIR/postmaster.pid" pid comm
    [ -f "$pidfile" ] || return 0
    pid="$(head -n1 "$pidfile")"
    comm="$(ps -o comm= -p "$pid" 2>/dev/null || true)"
    if tg__pg_postmaster_zombie \
        || { [ -n "$comm" ] && [ "$comm" != postgres ] && [ "$comm" != postmaster ]; }; then
        tg_log "removing stale postmaster.pid (PID $pid is a zombie or now '$comm')"
        rm -f "$pidfile"
        # The socket lock file names the same PID and would block the start too.
        grep -lx "$pid" "$TG_PG_RUNDIR"/.s.PGSQL.*.lock 2>/dev/null | xargs -r rm -f
    fi
}

# tg__pg_start: start the cluster in the background on a free port; pg_ctl -w
# waits until it accepts connections. Fd 9 (our lock) is closed so the server
# does not keep it. Failure is retried by tg__pg_up: after a `kill -9` of the
# postmaster its orphaned children hold the old shared memory for a moment.
tg__pg_start() {
    local port
    tg__pg_clear_stale_pid
    port="$(tg__pg_pick_port)" || exit 1
    tg_log "starting private PostgreSQL on 127.0.0.1:$port (log: $TG_PG_LOG)"
    tg__as_pg "$TG_PG_BINDIR/pg_ctl" start -D "$TG_PG_DATADIR" -l "$TG_PG_LOG" \
        -o "-p $port" -w -t 60 -s 9>&- >&2 || return 1
    TG_PG_STARTED_HERE=1
}

# tg__pg_ready PORT: true when the server on PORT accepts connections (named
# user and database, so no "role does not exist" noise in the server log).
tg__pg_ready() {
    "$TG_PG_BINDIR/pg_isready" -q -h 127.0.0.1 -p "$1" -U tollgate -d postgres
}

# tg__pg_create_db PORT: create database `tollgate` unless it exists (tolerates a
# concurrent creation by another script).
tg__pg_create_db() {
    local admin="postgres://tollgate@127.0.0.1:$1/postgres" psql="$TG_PG_BINDIR/psql" exists
    exists="$("$psql" "$admin" -XAtqc "select 1 from pg_database where datname = 'tollgate'")"
    [ "$exists" = 1 ] && return 0
    tg_log "creating database tollgate"
    "$psql" "$admin" -XAtqc 'create database tollgate' >/dev/null 2>&1 \
        || [ "$("$psql" "$admin" -XAtqc "select 1 from pg_database where datname = 'tollgate'")" = 1 ] \
        || tg_die "could not create database tollgate"
}

# tg__pg_up: initialise (once), check the version, then until the server answers (at most ~45 s,
# 5 start attempts): start it when it is not running, else wait for it (it may
# be starting up or recovering). Then create the database and export
# DATABASE_URL for the private cluster.
tg__pg_up() {
    local port="" starts=0 deadline=$((SECONDS + 45))
    tg__pg_make_dirs
    tg__pg_init
    tg__pg_check_version
    while [ "$SECONDS" -lt "$deadline" ]; do
        if tg__pg_running; then
            port="$(tg__pg_running_port)"
            if [ -n "$port" ] && tg__pg_ready "$port"; then
                break
            fi
        elif [ "$starts" -lt 5 ]; then
            starts=$((starts + 1))
            if ! tg__pg_start; then
                tg_log "start attempt $starts failed; retrying"
                sleep "$starts"
            fi
            continue
        fi
        port=""
        sleep 0.5
    done
    if [ -z "$port" ]; then
        tail -n 20 "$TG_PG_LOG" >&2 || true
        tg_die "private PostgreSQL did not become ready; see $TG_PG_LOG"
    fi
    tg__pg_create_db "$port"
    tg__pg_tls "$port"
    export DATABASE_URL="postgres://tollgate@127.0.0.1:$port/tollgate"
}

# tg__pg_tls PORT: give the private cluster a server certificate for 127.0.0.1 and
# localhost, signed by a throw-away CA of its own, and turn TLS on (reloaded, no
# restart), so `sslmode=require` and `verify-full` connections work and are
# tested. Exports TOLLGATE_TEST_PG_CA (the CA's certificate) for the tests.
# Plain connections keep working. Idempotent.
tg__pg_tls() {
    local dir="$TG_PG_DATADIR/tls" admin="postgres://tollgate@127.0.0.1:$1/postgres" psql="$TG_PG_BINDIR/psql"
    if [ ! -f "$dir/server.crt" ]; then
        if ! command -v openssl >/dev/null; then
            tg__is_root || tg_die "openssl not found: run 'sudo apt-get install -y openssl'"
            tg__apt_install openssl
        fi
        tg_log "creating a TLS certificate for the private PostgreSQL"
        tg__as_pg mkdir -p "$dir"
        tg__as_pg sh -c "cd '$dir' && umask 077 \
            && openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=tollgate-private-ca -keyout ca.key -out ca.crt \
            && openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key -out server.csr \
            && printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >server.ext \
            && openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -extfile server.ext -out server.crt \
            && chmod 644 ca.crt server.crt" >/dev/null 2>&1 || tg_die "openssl could not make the private PostgreSQL's certificate"
    fi
    if [ "$("$psql" "$admin" -XAtqc 'show ssl')" != on ]; then
        "$psql" "$admin" -XAtq >/dev/null <<SQL || tg_die "could not turn TLS on in the private PostgreSQL"
ALTER SYSTEM SET ssl_cert_file = '$dir/server.crt';
ALTER SYSTEM SET ssl_key_file = '$dir/server.key';
ALTER SYSTEM SET ssl = on;
SELECT pg_reload_conf();
SQL
        local i
        for ((i = 0; i < 20; i++)); do
            [ "$("$psql" "$admin" -XAtqc 'show ssl')" = on ] && break
            sleep 0.1
        done
    fi
    export TOLLGATE_TEST_PG_CA="$dir/ca.crt"
}

# tg_ensure_postgres: export DATABASE_URL for a reachable database. A reachable
# DATABASE_URL given by the caller is used as is; otherwise a private cluster
# under $TG_DATA/postgres is created/started (port TOLLGATE_PG_PORT, default
# 55432 or the next free one). Idempotent; well under a second when running.
# Serialised with flock (when available) so parallel scripts do not race initdb.
tg_ensure_postgres() {
    if [ -n "${DATABASE_URL:-}" ] && tg__pg_reachable "$DATABASE_URL"; then
        export DATABASE_URL
        return 0
    fi
    [ -z "${DATABASE_URL:-}" ] || tg_log "DATABASE_URL is not reachable; using the private cluster"
    tg__pg_ensure_server
    tg__pg_paths
    if command -v flock >/dev/null; then
        exec 9>"$TG_PG_DIR.lock"
        flock -w 120 9 || tg_die "timed out waiting for another script setting up PostgreSQL"
        tg__pg_up
        exec 9>&-
    else
        tg__pg_up
    fi
    tg_log "DATABASE_URL=$DATABASE_URL"
}

# tg_stop_private_postgres [force]: stop (pg_ctl stop -m fast) the private
# cluster if this shell started it, so a cluster someone else is using (e.g. a
# running dev server) is left alone. With `force`, stop it whoever started it.
tg_stop_private_postgres() {
    if [ "${1:-}" != force ] && [ "${TG_PG_STARTED_HERE:-0}" != 1 ]; then
        return 0
    fi
    [ -n "${TG_PG_BINDIR:-}" ] || TG_PG_BINDIR="$(tg__pg_bindir)"
    [ -n "$TG_PG_BINDIR" ] || return 0
    [ -n "${TG_PG_DATADIR:-}" ] || tg__pg_paths
    [ -f "$TG_PG_DATADIR/PG_VERSION" ] || return 0
    if tg__pg_running; then
        tg_log "stopping private PostgreSQL"
        tg__as_pg "$TG_PG_BINDIR/pg_ctl" stop -D "$TG_PG_DATADIR" -m fast -w -s >&2
    fi
    TG_PG_STARTED_HERE=0
}

# ---------------------------------------------------------------------------
# SMTP sink for the tests (aiosmtpd from PyPI, in a virtualenv under .data)
# ---------------------------------------------------------------------------

# Pinned aiosmtpd version (PyPI) and the virtualenv that holds it.
TG_AIOSMTPD_VERSION="1.4.6"
TG_MAIL_VENV="$TG_DATA/mail-venv"

# tg__python_with_venv: print a python3 that can create virtualenvs (Debian's
# first, then whichever is on PATH); installs python3 and python3-venv as root
# when none can.
tg__python_with_venv() {
    local py
    for py in /usr/bin/python3 "$(command -v python3 || true)"; do
        if [ -n "$py" ] && [ -x "$py" ] && "$py" -c 'import venv, ensurepip' >/dev/null 2>&1; then
            printf '%s\n' "$py"
            return 0
        fi
    done
    tg__is_root || tg_die "python3 with venv missing: run 'sudo apt-get install -y python3 python3-venv'"
    tg__apt_install python3 python3-venv
    /usr/bin/python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || tg_die "python3-venv installed but venv still fails"
    printf '%s\n' /usr/bin/python3
}

# tg_ensure_smtp_sink: a virtualenv at $TG_MAIL_VENV with aiosmtpd at the pinned
# version (created or repaired only when the import or version check fails).
tg_ensure_smtp_sink() {
    local py="$TG_MAIL_VENV/bin/python" want="$TG_AIOSMTPD_VERSION"
    if [ -x "$py" ] && [ "$("$py" -c 'import aiosmtpd; print(aiosmtpd.__version__)' 2>/dev/null)" = "$want" ]; then
        return 0
    fi
    mkdir -p "$TG_DATA"
    if [ ! -x "$py" ]; then
        tg_log "creating the SMTP sink's virtualenv in $TG_MAIL_VENV"
        "$(tg__python_with_venv)" -m venv "$TG_MAIL_VENV" >&2 || tg_die "could not create $TG_MAIL_VENV"
    fi
    tg_log "installing aiosmtpd $want (PyPI) into $TG_MAIL_VENV"
    "$py" -m pip install -q --disable-pip-version-check "aiosmtpd==$want" >&2 || tg_die "pip could not install aiosmtpd==$want"
}

# Schemathesis (PyPI), the OpenAPI fuzzer that checks /api/v1 against its own
# document, pinned, in a virtualenv of its own.
TG_SCHEMATHESIS_VERSION="4.32.5"
TG_SCHEMATHESIS_VENV="$TG_DATA/schemathesis-venv"

# tg_ensure_schemathesis: the virtualenv with Schemathesis at the pinned version.
tg_ensure_schemathesis() {
    local bin="$TG_SCHEMATHESIS_VENV/bin/schemathesis" want="$TG_SCHEMATHESIS_VERSION"
    if [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -qx "schemathesis, version $want"; then
        return 0
    fi
    mkdir -p "$TG_DATA"
    [ -x "$TG_SCHEMATHESIS_VENV/bin/python" ] || "$(tg__python_with_venv)" -m venv "$TG_SCHEMATHESIS_VENV" >&2 \
        || tg_die "could not create $TG_SCHEMATHESIS_VENV"
    tg_log "installing schemathesis $want (PyPI) into $TG_SCHEMATHESIS_VENV"
    "$TG_SCHEMATHESIS_VENV/bin/python" -m pip install -q --disable-pip-version-check "schemathesis==$want" >&2 \
        || tg_die "pip could not install schemathesis==$want"
}

# The Standard Webhooks reference library (PyPI), pinned, in a virtualenv of its
# own: the server tests verify Tollgate's outgoing webhooks with it
# (scripts/verify_webhooks.py).
TG_STANDARDWEBHOOKS_VERSION="1.3.0"
TG_WEBHOOKS_VENV="$TG_DATA/webhooks-venv"

# tg_ensure_webhook_verifier: the virtualenv with standardwebhooks at the pinned
# version; prints its python.
tg_ensure_webhook_verifier() {
    local py="$TG_WEBHOOKS_VENV/bin/python" want="$TG_STANDARDWEBHOOKS_VERSION"
    if [ -x "$py" ] && "$py" -m pip show standardwebhooks 2>/dev/null | grep -qx "Version: $want"; then
        printf '%s\n' "$py"
        return 0
    fi
    mkdir -p "$TG_DATA"
    [ -x "$py" ] || "$(tg__python_with_venv)" -m venv "$TG_WEBHOOKS_VENV" >&2 \
        || tg_die "could not create $TG_WEBHOOKS_VENV"
    tg_log "installing standardwebhooks $want (PyPI) into $TG_WEBHOOKS_VENV"
    "$py" -m pip install -q --disable-pip-version-check "standardwebhooks==$want" >&2 \
        || tg_die "pip could not install standardwebhooks==$want"
    printf '%s\n' "$py"
}

# tg_start_smtp_sink PORT DIR: start scripts/smtp_sink.py on 127.0.0.1:PORT,
# storing each received message as DIR/*.eml (DIR is emptied first); waits until
# it accepts connections. Sets TG_SMTP_SINK_PID; its log is DIR.log.
tg_start_smtp_sink() {
    local port=$1 dir=$2 i
    tg_ensure_smtp_sink
    tg__port_busy "$port" && tg_die "port $port for the SMTP sink is already in use"
    rm -rf "$dir"
    mkdir -p "$dir"
    "$TG_MAIL_VENV/bin/python" "$TG_ROOT/scripts/smtp_sink.py" --port "$port" --dir "$dir" >"$dir.log" 2>&1 &
    TG_SMTP_SINK_PID=$!
    for ((i = 0; i < 80; i++)); do
        tg__port_busy "$port" && { tg_log "SMTP sink on 127.0.0.1:$port (mail in $dir)"; return 0; }
        kill -0 "$TG_SMTP_SINK_PID" 2>/dev/null || break
        sleep 0.25
    done
    cat "$dir.log" >&2 || true
    tg_die "the SMTP sink did not start on port $port"
}

# tg_stop_smtp_sink: stop the sink tg_start_smtp_sink started, if any.
tg_stop_smtp_sink() {
    if [ -n "${TG_SMTP_SINK_PID:-}" ]; then
        kill "$TG_SMTP_SINK_PID" 2>/dev/null || true
        wait "$TG_SMTP_SINK_PID" 2>/dev/null || true
        TG_SMTP_SINK_PID=""
    fi
}
