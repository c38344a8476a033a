# Sourced by scripts/conformance.sh and scripts/sdk-clients.sh, after they define `log` and `die`
# and set ROOT and WORK: the server side of a suite run.
#
#   food_server_binary          sets BIN: $FOOD_MCP_BIN, or a debug build (reusing target/)
#   food_server_port            sets PORT and METRICS_PORT (free loopback ports, so a running dev
#                               server is no obstacle) and BASE (http://127.0.0.1:$PORT)
#   food_server_env             for a subshell: runs in $WORK (no developer .env), drops the caller's
#                               FOOD_MCP_* settings, a throwaway database, upstreams on a closed
#                               port and no catalog download (nothing leaves the machine); the
#                               caller exports the rest
#   show_server_log [LINES]     the end of $WORK/server.log, on stderr
#   wait_for_health TIMEOUT     until GET $BASE/health answers 200; dies if SERVER_PID exits first
#   stop_server                 SIGTERM to SERVER_PID (graceful, 5 s), then SIGKILL; no-op if gone

food_server_binary() {
  if [[ -n "${FOOD_MCP_BIN:-}" ]]; then
    BIN="$FOOD_MCP_BIN"
  else
    log "building the server (cargo build --locked)"
    (cd "$ROOT" && cargo build --locked --quiet --bin food-mcp)
    BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/food-mcp"
  fi
  [[ -x "$BIN" ]] || die "server binary $BIN not found or not executable"
}

free_port() {
  # The kernel picks a free port; we release it and hand it to the server.
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

food_server_port() {
  PORT="$(free_port)"
  METRICS_PORT="$(free_port)"
  [[ "$METRICS_PORT" != "$PORT" ]] || METRICS_PORT="$(free_port)"
  BASE="http://127.0.0.1:$PORT"
}

food_server_env() {
  cd "$WORK"
  local var
  for var in $(compgen -e); do
    [[ "$var" == FOOD_MCP__* || "$var" == FOOD_MCP_CONFIG ]] && unset "$var"
  done
  export FOOD_MCP__BIND="127.0.0.1:$PORT" \
         FOOD_MCP__PUBLIC_URL="$BASE" \
         FOOD_MCP__METRICS__BIND="127.0.0.1:$METRICS_PORT" \
         FOOD_MCP__DATABASE_PATH="$WORK/food.db" \
         FOOD_MCP__CATALOG__AUTO_IMPORT=false \
         FOOD_MCP__USDA__BASE_URL="http://127.0.0.1:9" \
         FOOD_MCP__OPENFOODFACTS__BASE_URL="http://127.0.0.1:9"
}

show_server_log() {
  local lines="${1:-100}"
  if [[ -s "$WORK/server.log" ]]; then
    log "server log ($WORK/server.log), last $lines lines:"
    tail -n "$lines" "$WORK/server.log" >&2
  else
    log "server log is empty"
  fi
}

wait_for_health() {
  local timeout="$1" deadline=$((SECONDS + $1))
  until node -e 'fetch(process.argv[1]).then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))' "$BASE/health"; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      show_server_log
      die "server exited before answering GET /health"
    fi
    if ((SECONDS >= deadline)); then
      show_server_log
      die "GET $BASE/health did not answer 200 within ${timeout}s"
    fi
    sleep 0.2
  done
}

stop_server() {
  if [[ -n "${SERVER_PID:-}" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
  fi
}
