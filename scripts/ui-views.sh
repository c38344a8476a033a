#!/usr/bin/env bash
# Render food-mcp's MCP App views (ui://food-mcp/nutrition-label.html, ui://food-mcp/day-view.html)
# from real tool results in headless Chromium and check the DOM against the tools' structuredContent.
#
#   scripts/ui-views.sh
#
# Starts the server on a free loopback port with a throwaway database, auth off and upstreams on a
# closed port; imports the USDA SR Legacy catalog from FOOD_MCP_USDA_DATA (default
# ../shared/data/usda-sr-legacy) when it is there, so USDA foods answer offline. Then
# scripts/ui-views/run.mjs uses the official MCP client to list and read the resources and call the
# tools, and loads each view inside a harness page that speaks the official host side of the bridge
# (AppBridge from @modelcontextprotocol/ext-apps) — see run.mjs for every check. Screenshots go to
# .ui-views/artifacts/ (git-ignored). Prints one line per check and finally
#   ui-views: N passed, M failed
# and exits non-zero when any check failed.
#
# Installs what it needs: Debian's chromium through apt-get when /usr/bin/chromium is missing (as
# root), and into .ui-views/ (git-ignored; reused by later runs) Node 22.23.3 with the packages
# pinned by scripts/ui-views/package-lock.json (`npm ci`). Network: Debian's archive and the npm
# registry (first run only); the browser itself reaches nothing (every request but the harness's
# own is refused and fails the run).
#
# Environment:
#   FOOD_MCP_BIN              use this server binary instead of building one
#   FOOD_MCP_USDA_DATA        the SR Legacy CSV folder (default ../shared/data/usda-sr-legacy)
#   CHROMIUM                  the browser binary (default /usr/bin/chromium)
#   UI_VIEWS_STARTUP_TIMEOUT  seconds to wait for GET /health (default 60)
#   UI_VIEWS_KEEP=1           keep the temp folder (server log); kept on failure
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HERE="$ROOT/scripts/ui-views"
CACHE="$ROOT/.ui-views"
NODE_VERSION="22.23.3"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
DATA="${FOOD_MCP_USDA_DATA:-$ROOT/../shared/data/usda-sr-legacy}"

log() { printf 'ui-views: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---- tools: chromium from Debian, Node 22 + the pinned packages ---------------------------------
if [[ ! -x "$CHROMIUM" ]]; then
  [[ "$CHROMIUM" == /usr/bin/chromium ]] || die "CHROMIUM=$CHROMIUM is not an executable"
  [[ $EUID -eq 0 ]] || die "Debian's chromium is needed: run as root, or apt-get install chromium"
  log "installing Debian's chromium (apt-get install chromium)"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
         chromium fonts-dejavu-core; } >"${TMPDIR:-/tmp}/ui-views-apt.log" 2>&1; then
    cat "${TMPDIR:-/tmp}/ui-views-apt.log" >&2
    die "apt-get install chromium failed"
  fi
fi
log "browser: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"

# shellcheck source=scripts/lib/node-tools.sh
source "$ROOT/scripts/lib/node-tools.sh"
install_node_tools "$HERE" "$CACHE/node" "$NODE_VERSION" ui-views
# The driver resolves its imports next to itself: run a copy inside the install.
cp "$HERE/run.mjs" "$HERE/host.mjs" "$CACHE/node/"

# ---- server binary --------------------------------------------------------------------------------
# shellcheck source=scripts/lib/food-server.sh
source "$ROOT/scripts/lib/food-server.sh"
food_server_binary

# ---- start the server ----------------------------------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/food-mcp-ui-views.XXXXXX")"
SERVER_PID=""
cleanup() {
  local rc=$?
  stop_server
  if [[ $rc -eq 0 && -z "${UI_VIEWS_KEEP:-}" ]]; then
    rm -rf "$WORK"
  else
    log "server log kept in $WORK"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

food_server_port
# Auth off: the views are what is tested here (the server then refuses any non-loopback bind).
server_env() {
  food_server_env
  export FOOD_MCP__AUTH__ENABLED=false
}

catalog=0
if [[ -f "$DATA/sr_legacy/food.csv" ]]; then
  if ! (server_env; "$BIN" import usda "$DATA") >"$WORK/import.log" 2>&1; then
    cat "$WORK/import.log" >&2
    die "food-mcp import usda $DATA failed"
  fi
  catalog=1
  log "USDA SR Legacy catalog imported from $DATA"
else
  log "no SR Legacy data at $DATA: USDA foods are left out (set FOOD_MCP_USDA_DATA)"
fi

(server_env; exec "$BIN") >"$WORK/server.log" 2>&1 </dev/null &
SERVER_PID=$!
wait_for_health "${UI_VIEWS_STARTUP_TIMEOUT:-60}"
log "server up at $BASE (pid $SERVER_PID)"

# ---- the views -------------------------------------------------------------------------------------
rc=0
FOOD_MCP_BASE_URL="$BASE" UI_VIEWS_ARTIFACTS="$CACHE/artifacts" UI_VIEWS_CATALOG="$catalog" CHROMIUM="$CHROMIUM" \
  node "$CACHE/node/run.mjs" </dev/null || rc=$?
if ! kill -0 "$SERVER_PID" 2>/dev/null; then
  log "the server exited during the run"
  rc=1
fi
if ((rc != 0)); then
  show_server_log
else
  log "screenshots in $CACHE/artifacts/"
fi
exit "$rc"
