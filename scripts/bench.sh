#!/usr/bin/env bash
# Runs Salon's standard benchmark set against a fresh release server on
# this machine and writes the JSON of each run and a Markdown table of all
# of them to bench-results/<date>/ (a measurement, never a test: see
# README "Measure it").
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$SALON_ROOT/scripts/setup.sh"
cd "$SALON_ROOT"
say "Building Salon and salon-bench (release)"
cargo leptos build --release
cargo build --release --package bench
bench="$CARGO_TARGET_DIR/release/salon-bench"

data_dir="$(mktemp -d)"
out="$SALON_ROOT/bench-results/$(date -u +%Y-%m-%dT%H%M%SZ)"
mkdir -p "$out"
RUST_LOG=warn "$CARGO_TARGET_DIR/release/salon" --bind 127.0.0.1:3999 --data-dir "$data_dir" \
    --site-root "$SALON_ROOT/target/site" &
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
run idle-server --scenario idle --clients 1 --duration 2
run fanout-1000 --scenario fanout --clients 1000 --senders 40 --rate 500 --duration 10
run small-room-latency --scenario fanout --clients 1000 --senders 10 --rate 100 --duration 10
run durable-2000 --scenario durable --clients 300 --rate 2000 --duration 10
run idle-2000 --scenario idle --clients 2000 --duration 5

"$bench" table "$out"/*.json | tee "$out/results.md"
say "Results in $out"
