#!/usr/bin/env bash
# A client that sends half a request head and stalls, then SIGTERM: how long the server takes to
# exit, giving up after BOUND seconds. Loopback only.
#
# Usage: bash bench/half-sent.sh BINARY BOUND [FOOD_MCP__…=… settings]
set -uo pipefail
bin=$1; bound=$2; shift 2
work=$(mktemp -d); port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
env FOOD_MCP__DATABASE_PATH=$work/db FOOD_MCP__BIND=127.0.0.1:$port FOOD_MCP__PUBLIC_URL=http://127.0.0.1:$port FOOD_MCP__AUTH__ENABLED=false FOOD_MCP__METRICS__BIND= FOOD_MCP__CATALOG__AUTO_IMPORT=false "$@" RUST_LOG=warn $bin 2>$work/log &
server=$!
for _ in $(seq 1 100); do curl -fsS http://127.0.0.1:$port/health >/dev/null 2>&1 && break; sleep 0.2; done
python3 -c "
import socket,time
s=socket.create_connection(('127.0.0.1',$port)); s.sendall(b'POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty'); time.sleep($bound+5)" &
client=$!
sleep 0.5; start=$(date +%s.%N); kill -TERM $server
for _ in $(seq 1 $((bound*10))); do kill -0 $server 2>/dev/null || break; sleep 0.1; done
if kill -0 $server 2>/dev/null; then echo "still running $bound s after SIGTERM"; kill -9 $server; else echo "exited $(python3 -c "print(round($(date +%s.%N)-$start,2))") s after SIGTERM"; fi
kill $client 2>/dev/null; rm -rf $work
