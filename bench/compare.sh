#!/usr/bin/env bash
# Side by side, in one run with rounds alternating case by case (benches/compare.rs): the
# TypeScript anchor (shared/anchors/ts-seed: Express + the MCP TypeScript SDK, stateful sessions,
# better-sqlite3) and food-mcp on the same authenticated `tools/call get_nutrition` (150 g of food
# 173944; food-mcp from the offline USDA catalog imported from ../shared/data, the anchor from its
# seeded cache), food-mcp's get_nutrition of a saved food, its tools/list and ping, and the floor: a bare
# axum JSON handler (examples/axum_floor.rs). Then food-mcp and the anchor at each of
# BENCH_OVERLOAD connections, with p99 and errors. Prints the ratios. Loopback only.
#
# Usage: bash bench/compare.sh   (env: BENCH_REQUESTS, BENCH_CONCURRENCY (32), BENCH_ROUNDS,
#        BENCH_OVERLOAD ("128,512"), FOOD_MCP_BIN to run a food-mcp binary built elsewhere,
#        BENCH_CARGO_ARGS, BENCH_LOAD=reqwest for the bench's own load generator instead of oha)
set -euo pipefail
cd "$(dirname "$0")/.."
OHA_VERSION=1.16.0
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

# BENCH_CARGO_ARGS: extra cargo arguments (a shared target dir's --config, say).
read -ra extra <<<"${BENCH_CARGO_ARGS:-}"
# The load comes from oha, as in the issue's measurements (installed once, pinned, into the target
# dir); BENCH_LOAD=reqwest drives it from the bench process itself instead.
if [ "${BENCH_LOAD:-oha}" = oha ]; then
  tools="${CARGO_TARGET_DIR:-$root/target}/bench-tools"
  if [ ! -x "$tools/bin/oha" ]; then
    echo "compare: installing oha $OHA_VERSION into $tools (once)"
    cargo install oha --version "$OHA_VERSION" --locked --root "$tools" --quiet
  fi
  export BENCH_OHA="$tools/bin/oha"
fi
if [ -n "${FOOD_MCP_BIN:-}" ]; then
  cargo build --release --locked --example axum_floor --quiet "${extra[@]}"
else
  cargo build --release --locked --bin food-mcp --example axum_floor --quiet "${extra[@]}"
fi
food_port=$(free_port)
# Metrics on a free port too, so a running dev server (9464) does not stop the benchmark.
export FOOD_MCP__DATABASE_PATH="$work/food.db" FOOD_MCP__BIND="127.0.0.1:$food_port" \
  FOOD_MCP__PUBLIC_URL="http://127.0.0.1:$food_port" FOOD_MCP__AUTH__CONSENT=auto \
  FOOD_MCP__METRICS__BIND="127.0.0.1:$(free_port)" FOOD_MCP__CATALOG__AUTO_IMPORT=false \
  FOOD_MCP__USDA__BASE_URL="http://127.0.0.1:9" FOOD_MCP__OPENFOODFACTS__BASE_URL="http://127.0.0.1:9" \
  RUST_LOG=warn,food_mcp::app=info
bin="${FOOD_MCP_BIN:-${CARGO_TARGET_DIR:-target}/release/food-mcp}"
"$bin" import usda "$data" >/dev/null
"$bin" >"$work/food.log" 2>&1 &
pids+=($!)

# The anchor is copied out of shared/ (read-only) and installed with its own lockfile.
cp -r "$anchor" "$work/ts-seed"
(cd "$work/ts-seed" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
ts_port=$(free_port)
(cd "$work/ts-seed" && PORT=$ts_port exec node server.mjs >"$work/ts.log" 2>&1) &
pids+=($!)

floor_port=$(free_port)
"${CARGO_TARGET_DIR:-target}/release/examples/axum_floor" "127.0.0.1:$floor_port" &
pids+=($!)

wait_health "http://127.0.0.1:$food_port"
wait_health "http://127.0.0.1:$ts_port"
wait_health "http://127.0.0.1:$floor_port"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); node $(node --version); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "load generator: ${BENCH_OHA:-the bench process (reqwest)}"
food_pid=${pids[0]}
echo "food-mcp start: $(grep -m1 'catalog in memory' "$work/food.log" || echo '(no catalog line)')"
echo "food-mcp idle, catalog loaded: $(grep -E 'VmRSS' "/proc/$food_pid/status" | xargs)"
BENCH_TARGETS="food-mcp=http://127.0.0.1:$food_port,ts-seed=http://localhost:$ts_port,floor=http://127.0.0.1:$floor_port" \
  cargo bench --locked --bench compare --quiet "${extra[@]}"
echo "food-mcp after the run: $(grep -E 'VmRSS|VmHWM' "/proc/$food_pid/status" | xargs)"
echo "load after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
