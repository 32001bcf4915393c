# Settings shared by Salon's scripts (sourced, not run).
#
# One cargo target directory, outside the clone, so that a fresh clone (CI)
# reuses what earlier runs built; override with CARGO_TARGET_DIR. Nothing in
# the build may depend on the clone's path (no repo-relative linker, say):
# cargo would then rebuild every crate in each new clone.
SALON_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export SALON_ROOT
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/salon/target}"
export PATH="$HOME/.cargo/bin:$SALON_ROOT/end2end/node_modules/.bin:$PATH"
# cargo-leptos' own panics read better without a backtrace.
export RUST_BACKTRACE=0

# The flags cargo-leptos builds the server with, in every profile (it erases
# Leptos' view types: `always-erase-components` in Cargo.toml). A cargo
# command building the same crates passes them too, or it builds the crate
# graph a second time.
SALON_LEPTOS_RUSTFLAGS="--cfg erase_components"

# Exactly what cargo-leptos sets when it builds the server in debug mode, so
# that `cargo test` reuses those artifacts instead of building the same crate
# graph a second time with other flags.
salon_leptos_debug_env() {
    export LEPTOS_OUTPUT_NAME=salon LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg \
        LEPTOS_SITE_ADDR=127.0.0.1:3000 LEPTOS_RELOAD_PORT=3001 LEPTOS_LIB_DIR=frontend \
        LEPTOS_BIN_DIR=server LEPTOS_JS_MINIFY=false LEPTOS_HASH_FILES=false \
        RUSTFLAGS="$SALON_LEPTOS_RUSTFLAGS"
}

say() { printf '\033[1;34m==> %s\033[0m\n' "$*"; }
