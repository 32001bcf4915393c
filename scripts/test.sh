#!/usr/bin/env bash
# Installs what is missing and runs every test: unit and integration tests
# (the real server on random ports, fresh databases), then the browser tests
# (Playwright driving Debian's Chromium against a fresh server).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$SALON_ROOT/scripts/setup.sh" --test
cd "$SALON_ROOT"

# The PostgreSQL server the integration tests also run on (this machine's
# own by default).
SALON_TEST_POSTGRES_URL="${SALON_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}"
# The Redis server that links the instances of the multi-instance tests
# (both passes); an unreachable one fails them.
export SALON_TEST_REDIS_URL="${SALON_TEST_REDIS_URL:-redis://127.0.0.1:6379}"

started=$SECONDS
say "Unit and integration tests"
(
    salon_leptos_debug_env
    # cargo-nextest runs each test in a process of its own, two at a time:
    # one server per process, as in production. Several servers in one
    # process, each on its own Tokio runtime (`cargo test` with several
    # test threads), sometimes leave a server-rendered page that never
    # completes: every thread parked, no lock held, a lost wake-up inside
    # Leptos' rendering, not reproduced with one server per process. The
    # same package set both times, so the crate graph is built once.
    packages=(--package app --package server --package bench)
    # The schema test compares both engines: it runs in the second pass.
    env -u SALON_TEST_POSTGRES_URL cargo nextest run "${packages[@]}" --no-fail-fast \
        -E 'not test(/^(schema|tls)::/)'
    # The same server tests again on PostgreSQL, each on a database of its
    # own, and the schema test; an unreachable server fails them.
    say "Integration tests on PostgreSQL ($SALON_TEST_POSTGRES_URL)"
    SALON_TEST_POSTGRES_URL="$SALON_TEST_POSTGRES_URL" \
        cargo nextest run "${packages[@]}" --no-fail-fast -E 'package(server)'
)
say "Rust tests took $((SECONDS - started)) s"

started=$SECONDS
say "Browser tests"
data_dir="$(mktemp -d)"
trap 'rm -rf "$data_dir"' EXIT
# The browser tests run their own mock push service, on this machine.
SALON_DATA_DIR="$data_dir" SALON_PUSH_ALLOW_HTTP=true CI=true cargo leptos end-to-end
say "Browser tests took $((SECONDS - started)) s"
