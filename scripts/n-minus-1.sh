#!/usr/bin/env bash
# N-1 compatibility gate (ADR 0011). During a blue-green release the PREVIOUS release (blue)
# runs on a database the CURRENT release (green) migrated. This checks exactly that, with real
# processes: check out the previous release (`git worktree add --detach`), `npm ci` there,
# migrate a fresh database with the current tree (`node bin/boka.mjs db migrate`), start the
# previous server on it, run the previous release's own smoke suite (`boka smoke`) and the
# current tree's API contract (scripts/api-contract.mjs) against it. On an embedded PGlite data
# directory, and on PostgreSQL when DATABASE_URL (or N1_DATABASE_URL) names a server.
#
#   scripts/n-minus-1.sh                          # what .ci/run calls
#   N1_PREVIOUS=<commit|tag> scripts/n-minus-1.sh # another previous release
#   BOKA_MIGRATIONS_DIR=<dir> scripts/n-minus-1.sh   # the current tree's migrations from elsewhere
#
# The previous release: the newest `vX.Y.Z` tag reachable from HEAD that is not HEAD itself;
# without one, the commit in release/previous (docs/operations.md "Releasing"). A previous
# release whose commit is not in this clone FAILS the gate (never skipped).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
say() { echo "n-minus-1: $*"; }
die() { say "FAIL: $*" >&2; exit 1; }

# --- which release is "previous" --------------------------------------------------------------
head_commit=$(git rev-parse HEAD)
previous="" source=""
if [ -n "${N1_PREVIOUS:-}" ]; then
  previous=$N1_PREVIOUS source="N1_PREVIOUS"
else
  while read -r tag; do
    [ -n "$tag" ] || continue
    c=$(git rev-list -n 1 "$tag")
    if [ "$c" != "$head_commit" ]; then previous=$c source="tag $tag"; break; fi
  done < <(git tag --merged HEAD --list 'v[0-9]*.[0-9]*.[0-9]*' --sort=-v:refname)
fi
if [ -z "$previous" ]; then
  [ -f release/previous ] || die "no vX.Y.Z tag reachable from HEAD and no release/previous file"
  previous=$(grep -v '^[[:space:]]*#' release/previous | grep -m1 -o '[0-9a-f]\{7,40\}' || true)
  [ -n "$previous" ] || die "release/previous holds no commit id"
  source="release/previous"
fi
git cat-file -e "${previous}^{commit}" 2>/dev/null \
  || die "previous release $previous ($source) is not in this clone; fetch the full history (git fetch --unshallow --tags) — the gate cannot pass without it"
previous=$(git rev-parse "${previous}^{commit}")
say "previous release ${previous:0:12} ($source); current ${head_commit:0:12}${BOKA_MIGRATIONS_DIR:+, migrations from $BOKA_MIGRATIONS_DIR}"

# --- the previous release, installed ----------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/boka-n1.XXXXXX")
server_pid="" scratch_db="" pg_admin_url=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  [ -n "$scratch_db" ] && psql "$pg_admin_url" -qc "DROP DATABASE IF EXISTS $scratch_db WITH (FORCE)" >/dev/null 2>&1
  git -C "$root" worktree remove --force "$work/prev" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
git worktree add --detach --quiet "$work/prev" "$previous"
say "npm ci in the previous release"
(cd "$work/prev" && npm ci --no-audit --no-fund --loglevel=error >"$work/npm-ci.log" 2>&1) || { tail -20 "$work/npm-ci.log"; die "npm ci failed in the previous release"; }

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# Runs the gate on one database: $1 = label; the rest = env assignments naming the database.
check_on() {
  local label=$1; shift
  say "[$label] migrate with the current tree"
  env "$@" LOG_LEVEL=warn node bin/boka.mjs db migrate || { say "[$label] FAIL: the current release cannot migrate"; return 1; }
  local port; port=$(free_port)
  say "[$label] start the previous release on :$port"
  (cd "$work/prev" && exec env -u BOKA_MIGRATIONS_DIR "$@" NODE_ENV=development HOST=127.0.0.1 PORT="$port" LOG_LEVEL=warn REDIS_URL= \
    RATE_LIMIT_PER_PRINCIPAL_PER_MINUTE=1000000 RATE_LIMIT_AUTH_FAILURES_PER_IP=1000000 \
    node --import tsx src/main.ts) >"$work/server-$label.log" 2>&1 &
  server_pid=$!
  local url="http://127.0.0.1:$port" ready=""
  for _ in $(seq 1 120); do
    kill -0 "$server_pid" 2>/dev/null || break
    if curl -sf -o /dev/null "$url/api/health/ready"; then ready=1; break; fi
    sleep 0.5
  done
  local rc=0
  if [ -z "$ready" ]; then
    say "[$label] FAIL: the previous release did not become ready on the migrated database"; tail -20 "$work/server-$label.log"; rc=1
  else
    say "[$label] previous release's smoke suite"
    (cd "$work/prev" && node bin/boka.mjs smoke "$url") || rc=1
    say "[$label] API contract (current tree's scripts/api-contract.mjs)"
    node scripts/api-contract.mjs "$url" || rc=1
  fi
  kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  server_pid=""
  [ $rc -eq 0 ] && say "[$label] ok" || say "[$label] FAILED"
  return $rc
}

failed=()
mkdir -p "$work/pglite"
check_on pglite -u DATABASE_URL BOKA_DATA_DIR="$work/pglite/data" || failed+=(pglite)

pg_admin_url=${N1_DATABASE_URL:-${DATABASE_URL:-}}
if [ -n "$pg_admin_url" ]; then
  scratch_db="boka_n1_$(node -e 'console.log(require("crypto").randomBytes(5).toString("hex"))')"
  psql "$pg_admin_url" -v ON_ERROR_STOP=1 -qc "CREATE DATABASE $scratch_db" >/dev/null
  db_url=$(node -e 'const u=new URL(process.argv[1]);u.pathname="/"+process.argv[2];console.log(u.toString())' "$pg_admin_url" "$scratch_db")
  key=$(node -e 'console.log(require("crypto").randomBytes(32).toString("base64url"))')
  check_on postgres DATABASE_URL="$db_url" BOKA_SECRET_KEY="$key" || failed+=(postgres)
else
  say "[postgres] not run: set DATABASE_URL (CI does)"
fi

if [ ${#failed[@]} -gt 0 ]; then die "previous release ${previous:0:12} breaks on the current schema (${failed[*]})"; fi
say "PASS: previous release ${previous:0:12} works on the schema the current release migrates"
