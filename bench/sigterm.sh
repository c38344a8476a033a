#!/usr/bin/env bash
# In-flight requests across a SIGTERM: N concurrent `tools/call search_food` (a query each, so N
# upstream requests) wait on a slow upstream (a local Python server answering USDA's search after
# BENCH_DELAY seconds); once the upstream holds all N, the server gets SIGTERM. Counts the calls
# that did not answer 200 with a result (HTTP 5xx, reset, isError), the exit status and how long
# the server took to exit. Loopback only.
#
# Usage: bash bench/sigterm.sh [BINARY]   (default: builds and uses the release binary)
#        env: BENCH_IN_FLIGHT (64), BENCH_DELAY (1.5)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
n=${BENCH_IN_FLIGHT:-64}
delay=${BENCH_DELAY:-1.5}
if [ $# -ge 1 ]; then
  bin=$1
else
  cargo build --release --locked --bin food-mcp --quiet
  bin="${CARGO_TARGET_DIR:-target}/release/food-mcp"
fi

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

upstream_port=$(free_port)
python3 - "$upstream_port" "$delay" "$root/tests/fixtures/usda/foods-search-banana.json" "$work/upstream.log" <<'EOF' &
import http.server, sys, time
port, delay, fixture, log = int(sys.argv[1]), float(sys.argv[2]), open(sys.argv[3], 'rb').read(), sys.argv[4]
class Slow(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get('Content-Length', 0)))
        with open(log, 'a') as f:
            f.write('request\n')
        time.sleep(delay)
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(fixture)))
        self.end_headers()
        self.wfile.write(fixture)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(('127.0.0.1', port), Slow).serve_forever()
EOF
pids+=($!)
touch "$work/upstream.log"

port=$(free_port)
base="http://127.0.0.1:$port"
FOOD_MCP__DATABASE_PATH="$work/food.db" FOOD_MCP__BIND="127.0.0.1:$port" FOOD_MCP__PUBLIC_URL="$base" \
  FOOD_MCP__AUTH__ENABLED=false FOOD_MCP__METRICS__BIND="" FOOD_MCP__CATALOG__AUTO_IMPORT=false \
  FOOD_MCP__USDA__BASE_URL="http://127.0.0.1:$upstream_port" FOOD_MCP__OPENFOODFACTS__BASE_URL="http://127.0.0.1:9" \
  RUST_LOG=warn "$bin" 2>"$work/server.log" &
server=$!
pids+=($server)
for _ in $(seq 1 100); do curl -fsS "$base/health" >/dev/null 2>&1 && break; sleep 0.2; done

for i in $(seq 1 "$n"); do
  curl -sS -o "$work/body.$i" -w '%{http_code}\n' -X POST "$base/mcp" \
    -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
    -H 'MCP-Protocol-Version: 2025-06-18' \
    -d "{\"jsonrpc\":\"2.0\",\"id\":$i,\"method\":\"tools/call\",\"params\":{\"name\":\"search_food\",\"arguments\":{\"query\":\"banana $i\",\"source\":\"usda\"}}}" \
    >"$work/code.$i" 2>/dev/null &
  pids+=($!)
done
for _ in $(seq 1 200); do
  [ "$(wc -l <"$work/upstream.log")" -ge "$n" ] && break
  sleep 0.05
done
held=$(wc -l <"$work/upstream.log")
started=$(date +%s.%N)
kill -TERM "$server"
set +e
wait "$server"
status=$?
set -e
exited=$(date +%s.%N)
# The curls end with the server.
for pid in "${pids[@]:2}"; do wait "$pid" 2>/dev/null || true; done

# A call succeeded when it answered 200 with a JSON-RPC result that is not a tool error.
ok=0 reset=0 http_error=0 rpc_error=0 tool_error=0 statuses=""
for i in $(seq 1 "$n"); do
  code=$(cat "$work/code.$i" 2>/dev/null || echo 000)
  body="$work/body.$i"
  if [ "$code" = 000 ]; then reset=$((reset + 1))
  elif [ "$code" != 200 ]; then http_error=$((http_error + 1)); statuses="$statuses $code"
  elif ! grep -q '"result"' "$body"; then rpc_error=$((rpc_error + 1))
  elif grep -q '"isError":true' "$body"; then tool_error=$((tool_error + 1))
  else ok=$((ok + 1))
  fi
done
summary=$(for c in $statuses; do echo "$c"; done | sort | uniq -c | awk '{printf " %s×%s", $1, $2}')
echo "in flight at SIGTERM: $held of $n calls waiting on the upstream (delay ${delay}s)"
echo "answered: $ok; failed: $((n - ok)) (reset or refused $reset, HTTP error $http_error${summary:+ [HTTP$summary]}, JSON-RPC error $rpc_error, tool error $tool_error)"
echo "exit status: $status, $(python3 -c "print(round($exited - $started, 2))") s after SIGTERM"
