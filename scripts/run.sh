#!/usr/bin/env bash
# Installs what is missing, builds Salon in release mode and serves it on
# http://127.0.0.1:3000 with an SQLite database under ./data. Any argument
# is passed to the server (see `--help`); settings can also come from the
# environment (README).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$SALON_ROOT/scripts/setup.sh"
cd "$SALON_ROOT"
say "Building Salon (release)"
# --precompress: the front end is compressed once here, at brotli's and
# gzip's best settings, and served as such (never compressed per request).
# Hashed file names (read again by the server at run time): browsers keep
# each built file a year and fetch only what a new build changed.
export LEPTOS_HASH_FILES=true
cargo leptos build --release --precompress
say "Starting Salon"
exec "$CARGO_TARGET_DIR/release/salon" --site-root "$SALON_ROOT/target/site" "$@"
