#!/usr/bin/env bash
# Checks that Cargo.toml's `rust-version` is true to Cargo.lock: no locked dependency of the build
# declares a newer one (cargo would refuse to build with the version the README promises).
#
#   scripts/msrv.sh          prints "msrv: rust-version X.Y covers every locked dependency"
#
# Needs cargo and jq; reads the lock and the local registry cache only (--offline after a build).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
metadata="$(cargo metadata --format-version 1 --locked --offline 2>/dev/null \
  || cargo metadata --format-version 1 --locked)"
ours="$(jq -r '.packages[] | select(.name == "food-mcp") | .rust_version' <<<"$metadata")"
# The packages of the resolved graph only (not every version the index knows), newest MSRV first.
newest="$(jq -r '
  [.resolve.nodes[].id] as $used
  | [.packages[] | select(.id as $id | $used | index($id)) | select(.rust_version != null)
     | {name, version, rust_version}]
  | sort_by(.rust_version | split(".") | map(tonumber) | . + [0, 0] | .[0:3]) | last
  | "\(.rust_version) \(.name) \(.version)"' <<<"$metadata")"
read -r need name version <<<"$newest"
version_key() { awk -F. '{ printf "%05d%05d%05d\n", $1, $2, $3 }' <<<"$1"; }
if [[ "$(version_key "$need")" > "$(version_key "$ours")" ]]; then
  echo "msrv: error: Cargo.toml says rust-version $ours, but $name $version needs $need" >&2
  echo "msrv: raise rust-version (and the README's Rust line) to $need" >&2
  exit 1
fi
echo "msrv: rust-version $ours covers every locked dependency (newest need: $name $version, $need)"
