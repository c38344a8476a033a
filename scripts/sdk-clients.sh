#!/usr/bin/env bash
# Drive food-mcp with the official MCP SDK clients, OAuth and all: the TypeScript SDK
# (npm @modelcontextprotocol/sdk, the OAuth client Claude Code builds on) and the Python SDK
# (PyPI mcp). Each does the whole flow against a locally started server: 401 -> protected-resource
# metadata -> authorization-server metadata -> dynamic client registration -> consent page (a
# wrong owner password must re-show the form with 401, then the right one approves; the script
# plays the browser) -> token exchange -> tools/list, save_food, get_nutrition, search_food ->
# refresh through the SDK's own code -> tool calls with the refreshed token.
#
#   scripts/sdk-clients.sh
#
# Installs its own pinned tools into .sdk-clients/ (git-ignored; reused by later runs):
#   Node 22.23.3 and @modelcontextprotocol/sdk, pinned with every transitive dependency by
#   scripts/sdk-clients/package-lock.json (`npm ci`), and a Python venv with mcp and every
#   dependency pinned by scripts/sdk-clients/requirements.txt (needs python3 >= 3.10 with venv).
# Builds the server (`cargo build --locked`, debug) unless FOOD_MCP_BIN is set, starts it on a free
# loopback port with a throwaway database and upstreams pointed at a closed port, and takes the
# owner password the first start generated from the `owner-password` file beside the database
# (where a server without a terminal puts it); prints one line per client and finally
#   sdk-clients: N passed, M failed
# and exits non-zero when any client failed. Network: only the npm registry and PyPI (first run).
#
# Environment:
#   FOOD_MCP_BIN                  use this server binary instead of building one
#   SDK_CLIENTS_STARTUP_TIMEOUT   seconds to wait for GET /health (default 60)
#   SDK_CLIENTS                   space-separated subset of "ts py"
#   SDK_CLIENTS_KEEP=1            keep the temp folder (server log, client output); kept on failure
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HERE="$ROOT/scripts/sdk-clients"
CACHE="$ROOT/.sdk-clients"
NODE_VERSION="22.23.3"
read -r -a CLIENTS <<<"${SDK_CLIENTS:-ts py}"

log() { printf 'sdk-clients: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---- tools: Node 22 + the TypeScript SDK; a venv with the Python SDK ------------------------------
# shellcheck source=scripts/lib/node-tools.sh
source "$ROOT/scripts/lib/node-tools.sh"
install_node_tools "$HERE" "$CACHE/node" "$NODE_VERSION" sdk-clients

install_venv() {
  local venv="$CACHE/venv" stamp want python
  python="$(command -v python3 || true)"
  [[ -n "$python" ]] || die "python3 (>= 3.10, with venv) is needed for the Python SDK client"
  "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
    || die "the Python SDK needs python >= 3.10, $python is $("$python" --version 2>&1)"
  stamp="$venv/.installed"
  want="$( (cat "$HERE/requirements.txt"; "$python" --version 2>&1) | sha256sum | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$venv/bin/python" ]]; then
    return
  fi
  log "installing the Python SDK pinned by scripts/sdk-clients/requirements.txt into $venv"
  rm -rf "$venv"
  "$python" -m venv "$venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
       -r "$HERE/requirements.txt" >"$CACHE/pip.log" 2>&1; then
    cat "$CACHE/pip.log" >&2
    die "pip install failed"
  fi
  echo "$want" >"$stamp"
}
install_venv
PYTHON="$CACHE/venv/bin/python"

# The TypeScript client resolves its imports next to itself: run a copy inside the install.
cp "$HERE/ts-client.mjs" "$HERE/browser.mjs" "$CACHE/node/"

# ---- server binary --------------------------------------------------------------------------------
source "$ROOT/scripts/lib/food-server.sh"
food_server_binary

# ---- start the server ----------------------------------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/food-mcp-sdk-clients.XXXXXX")"
SERVER_PID=""
cleanup() {
  local rc=$?
  stop_server
  if [[ $rc -eq 0 && -z "${SDK_CLIENTS_KEEP:-}" ]]; then
    rm -rf "$WORK"
  else
    log "server log and client output kept in $WORK"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

food_server_port

# Every server command runs from the temp dir so a developer's .env is not picked up, with none of
# the caller's FOOD_MCP_* settings, against the throwaway database, OAuth on with the password
# consent page, and upstreams on a closed port: nothing leaves the machine.
server_env() {
  food_server_env
  export FOOD_MCP__AUTH__ENABLED=true FOOD_MCP__AUTH__CONSENT=password
}
(server_env; exec "$BIN") >"$WORK/server.log" 2>&1 </dev/null &
SERVER_PID=$!

wait_for_health "${SDK_CLIENTS_STARTUP_TIMEOUT:-60}"
log "server up at $BASE (pid $SERVER_PID)"
# First start without a terminal: the generated password is in a private file, never in the log.
[[ -f "$WORK/owner-password" ]] || { show_server_log; die "no owner-password file beside the database"; }
[[ "$(stat -c %a "$WORK/owner-password")" == 600 ]] || die "owner-password is not mode 0600"
PASSWORD="$(cat "$WORK/owner-password")"
if grep -qF "$PASSWORD" "$WORK/server.log"; then die "the owner password is in the server log"; fi

# ---- run the clients -----------------------------------------------------------------------------
passed=0
failed=0
server_died=""
results=()
for client in "${CLIENTS[@]}"; do
  case "$client" in
    ts) cmd=(node "$CACHE/node/ts-client.mjs");
        what="TypeScript SDK @modelcontextprotocol/sdk $(node -p 'require(process.argv[1]).version' \
              "$CACHE/node/node_modules/@modelcontextprotocol/sdk/package.json")" ;;
    py) cmd=("$PYTHON" "$HERE/py_client.py");
        what="Python SDK mcp $("$PYTHON" -c 'from importlib.metadata import version; print(version("mcp"))')" ;;
    *) die "unknown client '$client' (want ts or py)" ;;
  esac
  out="$WORK/$client.log"
  rc=0
  start=$SECONDS
  FOOD_MCP_BASE_URL="$BASE" FOOD_MCP_OWNER_PASSWORD="$PASSWORD" "${cmd[@]}" >"$out" 2>&1 </dev/null || rc=$?
  took=$((SECONDS - start))
  cat "$out"
  if [[ $rc -eq 0 ]] && grep -q '^\(ts\|py\)  ok:' "$out"; then
    passed=$((passed + 1))
    results+=("$(printf 'PASS  %-4s %s (%ss)' "$client" "$what" "$took")")
  else
    failed=$((failed + 1))
    results+=("$(printf 'FAIL  %-4s %s (exit %s, %ss): %s' "$client" "$what" "$rc" "$took" \
      "$(grep -m1 'FAILED' "$out" | cut -c1-200 || true)")")
  fi
done

if kill -0 "$SERVER_PID" 2>/dev/null; then
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
else
  server_died=1
  results+=("FAIL  the server exited during the run")
fi
SERVER_PID=""
if ((failed > 0)) || [[ -n "$server_died" ]]; then
  show_server_log
fi
printf '%s\n' "${results[@]}"
echo "sdk-clients: $passed passed, $failed failed"
((failed == 0)) && [[ -z "$server_died" ]]
