#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Prints the size of what a browser downloads to run Tollgate's signed-in pages:
# the release WASM, its JS glue and the CSS, raw and gzipped (gzip -9, what the
# server's compression layer sends at most). The public pages (issue 12: "<= 350
# KB gzipped for the public pages") load none of the WASM or JS: they are plain
# HTML (app/src/hydration.rs), which end2end/tests/s_public_pages_static.spec.ts
# checks in the browser.
#
# Tunables (environment):
#   SKIP_BUILD=1   measure the front end built last (the test command builds a
#                  debug one into the same place: build first after tests)
set -euo pipefail
# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
# shellcheck source=lib/app.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/app.sh"

SKIP_BUILD=${SKIP_BUILD:-0}

tg_ensure_toolchain
if [ "$SKIP_BUILD" != 1 ]; then
    tg_log "building the release front end"
    (cd "$TG_ROOT" && cargo leptos build --release --frontend-only)
fi
pkg="$CARGO_TARGET_DIR/site/pkg"
[ -f "$pkg/tollgate.wasm" ] || pkg="$TG_ROOT/target/site/pkg"
[ -f "$pkg/tollgate.wasm" ] || tg_die "no release front end in $pkg (run without SKIP_BUILD=1)"

total_raw=0 total_gz=0 app_gz=0
printf '%-16s %12s %12s\n' file bytes gzipped
for f in tollgate.wasm tollgate.js tollgate.css; do
    [ -f "$pkg/$f" ] || continue
    raw=$(stat -c %s "$pkg/$f")
    gz=$(gzip -9 -c "$pkg/$f" | wc -c)
    printf '%-16s %12d %12d\n' "$f" "$raw" "$gz"
    total_raw=$((total_raw + raw))
    total_gz=$((total_gz + gz))
    case $f in *.wasm | *.js) app_gz=$((app_gz + gz)) ;; esac
done
printf '%-16s %12d %12d\n' total "$total_raw" "$total_gz"
awk -v gz="$app_gz" 'BEGIN {
    printf "signed-in pages, WASM + JS gzipped: %.0f KB\n", gz / 1024
}'
