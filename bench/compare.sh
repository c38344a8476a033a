#!/usr/bin/env bash
# Side by side: food-mcp against the TypeScript anchor (shared/anchors/ts-seed: Express + the MCP
# TypeScript SDK, stateful sessions, better-sqlite3), on the same authenticated
# `tools/call get_nutrition` (150 g of food 173944), same concurrency, rounds alternating between
# the two (benches/compare.rs). Both answer from their local database: food-mcp from the offline
# USDA catalog imported from ../shared/data, the anchor from its seeded cache. Loopback only.
#
# Usage: bash bench/compare.sh   (env: BENCH_REQUESTS, BENCH_CONCURRENCY, BENCH_ROUNDS)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
data=${FOOD_MCP_USDA_DATA:-$root/../shared/data/usda-sr-legacy}
anchor=${ANCHOR_DIR:-$root/../shared/anchors/ts-seed}
[ -d "$data" ] || { echo "compare: no SR Legacy data at $data"; exit 1; }
[ -d "$anchor" ] || { echo "compare: no TypeScript anchor at $anchor"; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_health() {
  for _ in $(seq 1 100); do curl -fsS "$1/health" >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "compare: $1 did not come up"; return 1
}

cargo build --release --locked --bin food-mcp --quiet
food_port=$(free_port)
# Metrics on a free port too, so a running dev server (9464) does not stop the benchmark.
export FOOD_MCP__DATABASE_PATH="$work/food.db" FOOD_MCP__BIND="127.0.0.1:$food_port" \
  FOOD_MCP__PUBLIC_URL="http://127.0.0.1:$food_port" FOOD_MCP__AUTH__CONSENT=auto \
  FOOD_MCP__METRICS__BIND="127.0.0.1:$(free_port)" FOOD_MCP__CATALOG__AUTO_IMPORT=false \
  FOOD_MCP__USDA__BASE_URL="http://127.0.0.1:9" FOOD_MCP__OPENFOODFACTS__BASE_URL="http://127.0.0.1:9" \
  RUST_LOG=warn
bin="${CARGO_TARGET_DIR:-target}/release/food-mcp"
"$bin" import usda "$data" >/dev/null
"$bin" >"$work/food.log" 2>&1 &
pids+=($!)

# The anchor is copied out of shared/ (read-only) and installed with its own lockfile.
cp -r "$anchor" "$work/ts-seed"
(cd "$work/ts-seed" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
ts_port=$(free_port)
(cd "$work/ts-seed" && PORT=$ts_port exec node server.mjs >"$work/ts.log" 2>&1) &
pids+=($!)

wait_health "http://127.0.0.1:$food_port"
wait_health "http://127.0.0.1:$ts_port"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); node $(node --version)"
BENCH_TARGETS="food-mcp=http://127.0.0.1:$food_port,ts-seed=http://localhost:$ts_port" \
  cargo bench --locked --bench compare --quiet
