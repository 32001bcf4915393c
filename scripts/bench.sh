#!/usr/bin/env bash
# Runs Salon's standard benchmark set against a fresh release server on
# this machine and writes the JSON of each run and a Markdown table of all
# of them to bench-results/<date>/ (a measurement, never a test: see
# README "Measure it").
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$SALON_ROOT/scripts/setup.sh" --test
cd "$SALON_ROOT"
say "Building Salon and salon-bench (release)"
# --precompress: the front end is compressed once here, at brotli's and
# gzip's best settings, and served as such (never compressed per request).
# Hashed file names (read again by the server at run time): browsers keep
# each built file a year and fetch only what a new build changed.
export LEPTOS_HASH_FILES=true
cargo leptos build --release --precompress
# With the server's flags, so that the crates both use are built once.
RUSTFLAGS="$SALON_LEPTOS_RUSTFLAGS" cargo build --release --package bench
bench="$CARGO_TARGET_DIR/release/salon-bench"

data_dir="$(mktemp -d)"
out="$SALON_ROOT/bench-results/$(date -u +%Y-%m-%dT%H%M%SZ)"
mkdir -p "$out"
trap 'rm -rf "$data_dir"' EXIT

# Users for every scenario (each scenario signs in its own range of them)
# and a room of ten million messages, written before the server starts.
say "Seeding 27,600 users and a room of 10,000,000 messages"
"$bench" seed --database "sqlite://$data_dir/salon.db" --users 27600 --history 10000000 | tee "$out/seed.json"
history_room=$(sed -n 's/.*"history_room": \([0-9]*\).*/\1/p' "$out/seed.json")

# A trusted load test: the abuse limits would refuse its clients' rates.
RUST_LOG=warn "$CARGO_TARGET_DIR/release/salon" --bind 127.0.0.1:3999 --data-dir "$data_dir" \
    --site-root "$SALON_ROOT/target/site" --rate-limits false &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$data_dir"' EXIT
for _ in $(seq 100); do
    curl -sf http://127.0.0.1:3999/healthz >/dev/null && break
    sleep 0.1
done

run() {
    local name=$1
    shift
    say "$name"
    "$bench" --url http://127.0.0.1:3999 --server-pid "$server" --json "$out/$name.json" "$@" >/dev/null
}
run idle-server --scenario idle --clients 1 --seeded 0 --duration 2
# Memory per connection is read on a fresh server, before other scenarios
# leave freed memory behind for the connections to reuse.
run idle-19000 --scenario idle --clients 19000 --sources 4 --duration 5 --seeded 8600
run history-10m-1 --scenario history --clients 1 --seeded 0 --room "$history_room" --duration 10
run history-10m --scenario history --clients 4 --seeded 0 --room "$history_room" --duration 10
run small-room-latency --scenario fanout --clients 1000 --senders 10 --rate 100 --duration 10 --seeded 100
run fanout-5000 --scenario fanout --clients 5000 --senders 40 --rate 200 --duration 10 --seeded 1100
run durable-10000 --scenario durable --clients 500 --rate 10000 --duration 10 --seeded 6100
run durable-50000 --scenario durable --clients 2000 --rate 50000 --duration 10 --seeded 6600

say "Front end: bytes on the wire and first paint on a phone profile"
(cd "$SALON_ROOT/end2end" && node bench/frontend.mjs http://127.0.0.1:3999 \
    seed0 "a long enough secret" "$history_room") | tee "$out/frontend.json"

"$bench" table "$out"/*.json | tee "$out/results.md"
say "Results in $out"
