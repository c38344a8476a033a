#!/usr/bin/env bash
# Measure the server's memory under a burst of wrong owner passwords (issue 11: argon2 memory
# must be bounded and reused). Starts the server on a free loopback port with a throwaway
# database and the guessing limits lifted (so every guess reaches argon2), registers a client,
# opens the consent page and posts GUESSES wrong passwords from CONCURRENCY threads; prints the
# server's RSS before and after (and its peak) from /proc, and exits non-zero when the RSS after
# the burst is above LIMIT_MB.
#
#   scripts/argon2-rss.sh
#
# Environment:
#   FOOD_MCP_BIN   the server binary (default: a `cargo build` debug binary; argon2 is optimized
#                  in debug builds too, see Cargo.toml)
#   GUESSES        wrong passwords to post (default 1000)
#   CONCURRENCY    client threads (default 8)
#   LIMIT_MB       the RSS bound (default 100)
# Needs python3 (standard library only). Linux only (/proc). Nothing leaves the machine.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GUESSES="${GUESSES:-1000}"
CONCURRENCY="${CONCURRENCY:-8}"
LIMIT_MB="${LIMIT_MB:-100}"
log() { printf 'argon2-rss: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

if [[ -n "${FOOD_MCP_BIN:-}" ]]; then
  BIN="$FOOD_MCP_BIN"
else
  log "building the server (cargo build --locked)"
  (cd "$ROOT" && cargo build --locked --quiet --bin food-mcp)
  BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/food-mcp"
fi
[[ -x "$BIN" ]] || die "server binary $BIN not found"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/food-mcp-argon2-rss.XXXXXX")"
SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT="$(free_port)"
METRICS_PORT="$(free_port)"
BASE="http://127.0.0.1:$PORT"

(
  cd "$WORK"
  for var in $(compgen -e); do
    [[ "$var" == FOOD_MCP__* || "$var" == FOOD_MCP_CONFIG ]] && unset "$var"
  done
  export FOOD_MCP__BIND="127.0.0.1:$PORT" FOOD_MCP__PUBLIC_URL="$BASE" \
    FOOD_MCP__METRICS__BIND="127.0.0.1:$METRICS_PORT" FOOD_MCP__DATABASE_PATH="$WORK/food.db" \
    FOOD_MCP__CATALOG__AUTO_IMPORT=false \
    FOOD_MCP__USDA__BASE_URL="http://127.0.0.1:9" FOOD_MCP__OPENFOODFACTS__BASE_URL="http://127.0.0.1:9" \
    FOOD_MCP__AUTH__MAX_PASSWORD_FAILURES=1000000 FOOD_MCP__AUTH__GLOBAL_PASSWORD_FAILURES=1000000 \
    FOOD_MCP__AUTH__CONSENT_PER_MINUTE=1000000 FOOD_MCP__AUTH__REGISTER_PER_MINUTE=1000
  exec "$BIN" serve </dev/null >"$WORK/server.log" 2>&1
) &
SERVER_PID=$!

python3 - "$BASE" "$SERVER_PID" "$GUESSES" "$CONCURRENCY" "$LIMIT_MB" <<'PY'
import concurrent.futures, html, http.cookiejar, json, re, sys, time, urllib.error, urllib.parse, urllib.request

base, pid, guesses, threads, limit = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])

def rss(field="VmRSS"):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise SystemExit(f"argon2-rss: no {field} for pid {pid}")

deadline = time.time() + 60
while True:
    try:
        urllib.request.urlopen(base + "/health", timeout=2)
        break
    except Exception:
        if time.time() > deadline:
            raise SystemExit("argon2-rss: the server did not answer /health within 60 s")
        time.sleep(0.2)

redirect = "http://127.0.0.1:9/callback"
req = urllib.request.Request(base + "/register", method="POST", headers={"content-type": "application/json"},
    data=json.dumps({"redirect_uris": [redirect], "token_endpoint_auth_method": "none"}).encode())
client_id = json.load(urllib.request.urlopen(req))["client_id"]
query = urllib.parse.urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": redirect,
    "state": "s", "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256"})
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
page = opener.open(base + "/authorize?" + query).read().decode()
fields = {m[0]: html.unescape(m[1]) for m in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)}
cookie = "; ".join(f"{c.name}={c.value}" for c in jar)

def guess(i):
    body = urllib.parse.urlencode({**fields, "password": f"wrong guess {i}", "decision": "approve"}).encode()
    req = urllib.request.Request(base + "/authorize", data=body, method="POST",
        headers={"content-type": "application/x-www-form-urlencoded", "cookie": cookie})
    try:
        urllib.request.urlopen(req)
        return 200
    except urllib.error.HTTPError as e:
        return e.code

guess(-1)  # one check first: the pool's buffers exist from here on
before = rss()
started = time.time()
with concurrent.futures.ThreadPoolExecutor(threads) as pool:
    answers = list(pool.map(guess, range(guesses)))
after, peak = rss(), rss("VmHWM")
checked = answers.count(401)
print(f"argon2-rss: {checked}/{guesses} wrong passwords checked (401) in {time.time() - started:.1f} s "
      f"from {threads} threads; RSS {before:.1f} MB after one check, {after:.1f} MB after the burst, "
      f"peak {peak:.1f} MB (limit {limit} MB)")
if checked != guesses:
    raise SystemExit(f"argon2-rss: not every guess was checked: {sorted(set(answers))}")
if after > limit:
    raise SystemExit(f"argon2-rss: RSS {after:.1f} MB is above {limit} MB")
PY
