#!/usr/bin/env bash
# Installs whatever Salon's build and tests need and is missing; skips what
# is already there. `setup.sh` installs the build tools; `setup.sh --test`
# also installs the browser-test tools.
#
# Everything comes from crates.io, Debian and npm: cargo-leptos cannot
# download its helpers on these machines, so they are installed here.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

CARGO_LEPTOS_VERSION=0.3.10
# Must equal the wasm-bindgen crate version pinned in Cargo.toml.
WASM_BINDGEN_VERSION=0.2.130
with_tests=false
[[ "${1:-}" == "--test" ]] && with_tests=true

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

apt_packages=()
$with_tests && apt_packages+=(chromium)
missing=()
for package in ${apt_packages[@]+"${apt_packages[@]}"}; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
    say "Installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "Adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
fi

if [[ "$(cargo leptos --version 2>/dev/null)" != *"$CARGO_LEPTOS_VERSION"* ]]; then
    # --debug builds the tool twice as fast, and it is not the bottleneck.
    say "Installing cargo-leptos $CARGO_LEPTOS_VERSION (about 15 minutes, once)"
    CARGO_TARGET_DIR="$HOME/.cache/salon/tools-target" \
        cargo install --locked --debug cargo-leptos --version "$CARGO_LEPTOS_VERSION"
fi

if [[ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]]; then
    # Not --locked: the registry lacks one of its locked dependency versions.
    # --debug halves the install; the tool stays fast enough (seconds).
    say "Installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 4 minutes, once)"
    CARGO_TARGET_DIR="$HOME/.cache/salon/tools-target" \
        cargo install --force --debug wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

if $with_tests && ! cargo nextest --version >/dev/null 2>&1; then
    say "Installing cargo-nextest (a few minutes, once)"
    CARGO_TARGET_DIR="$HOME/.cache/salon/tools-target" cargo install --locked cargo-nextest
fi

# wasm-opt (npm binaryen; Debian's is too old) and Playwright.
cd "$SALON_ROOT/end2end"
stamp=node_modules/.package-lock.json
if [[ ! -f $stamp ]] || ! cmp -s package-lock.json "$stamp.source" 2>/dev/null; then
    say "Installing node packages"
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
    cp package-lock.json "$stamp.source"
fi
