#!/usr/bin/env bash
# Builds the Boka image on the local base (scripts/container-base.sh) and exercises it with
# podman: embedded database (health + signup from the host, non-root, read-only root fs,
# HEALTHCHECK, secrets from files), PID 1 drain under steady load via `podman stop`, the data
# volume across a restart, and the host's PostgreSQL + Redis through --network host.
# Finally validates compose.yaml (docker-compose config). Exits non-zero at the first failed check.
set -euo pipefail
cd "$(dirname "$0")/.."
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/scripts/containers.conf}

run_id=boka-ct-$$
# No systemd here to schedule podman's healthcheck timer; `podman healthcheck run` still runs it.
no_timer=(--health-interval=disable)
image=localhost/boka:ci
port=${CT_PORT:-3990}
pg_port=${CT_PG_PORT:-3991}
work=$(mktemp -d)
pass() { echo "  ok  $*"; }
# Logs into a file first: `podman logs | grep -q` fails under pipefail when grep exits early.
log_has() { podman logs "$1" > "$work/logs" 2>&1; grep -q -- "$2" "$work/logs"; }
log_count() { podman logs "$1" > "$work/logs" 2>&1; grep -c -- "$2" "$work/logs" || true; }
fail() { echo "  FAIL $*" >&2; exit 1; }
cleanup() {
  # One at a time: `podman rm` stops at the first name that does not exist.
  for c in "$run_id-a" "$run_id-b" "$run_id-pg"; do podman rm -f -t 0 "$c" >/dev/null 2>&1 || true; done
  podman volume rm -f "$run_id-data" >/dev/null 2>&1 || true
  [ -n "${scratch_db:-}" ] && psql -h 127.0.0.1 -U root -d test -qc "DROP DATABASE IF EXISTS $scratch_db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

wait_ready() { # wait_ready <url> <container>
  for _ in $(seq 1 180); do
    curl -sf "$1/api/health/ready" >/dev/null && return 0
    [ "$(podman inspect -f '{{.State.Running}}' "$2")" = true ] || { podman logs "$2" | tail -20 >&2; fail "$2 exited before it was ready"; }
    sleep 1
  done
  podman logs "$2" | tail -20 >&2
  fail "$2 not ready within 180 s"
}

echo "== container: base image"
t0=$(date +%s)
base=$(scripts/container-base.sh)
echo "  base $base ($(( $(date +%s) - t0 )) s)"

echo "== container: build"
t0=$(date +%s)
ca_args=()
# A TLS-intercepting proxy's CA, when the host's npm uses one, reaches `npm ci` as a build secret.
cafile=$(npm config get cafile 2>/dev/null || true)
[ -n "$cafile" ] && [ "$cafile" != null ] && [ -f "$cafile" ] && ca_args=(--secret "id=ca,src=$cafile")
podman build -q --format docker --network host "${ca_args[@]}" \
  --build-arg NODE_IMAGE="$base" \
  --build-arg BOKA_VERSION="$(node -p 'require("./package.json").version')" \
  --build-arg BOKA_REVISION="$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
  --build-arg BOKA_CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  -t "$image" . >/dev/null
echo "  built $image ($(( $(date +%s) - t0 )) s, $(podman image inspect -f '{{.Size}}' "$image" | awk '{printf "%d MB", $1/1e6}'))"
[ "$(podman image inspect -f '{{index .Labels "org.opencontainers.image.revision"}}' "$image")" != "" ] && pass "OCI labels" || fail "OCI revision label missing"

echo "== container: embedded database, read-only root, non-root, secrets from files"
printf 'smtp://127.0.0.1:2525\n' > "$work/smtp_url"
chmod 0644 "$work/smtp_url"
podman volume create "$run_id-data" >/dev/null
# AUTH_SIGNUP_MODE=open: the drain and restart checks below need a session from sign-up. The
# image's production default (verify: 202, no tokens until the mailed link) is checked on the
# PostgreSQL container further down.
start_embedded() { # start_embedded <name>
  podman run -d --name "$1" --read-only -p "127.0.0.1:$port:3000" -e AUTH_SIGNUP_MODE=open \
    -v "$run_id-data:/data" -v "$work/smtp_url:/run/secrets/smtp_url:ro" \
    -e SMTP_URL_FILE=/run/secrets/smtp_url -e SHUTDOWN_DELAY_MS=2000 -e SHUTDOWN_TIMEOUT_MS=20000 \
    -e RATE_LIMIT_PER_PRINCIPAL_PER_MINUTE=0 "${no_timer[@]}" "$image" >/dev/null 2>>"$work/podman.err"
}
start_embedded "$run_id-a"
url=http://127.0.0.1:$port
wait_ready "$url" "$run_id-a"
[[ "$(curl -sf "$url/api/health")" == *'"status":"ok"'* ]] && pass "/api/health from the host" || fail "/api/health"
signup=$(curl -s -w '\n%{http_code}' -X POST "$url/api/auth/signup" -H 'content-type: application/json' \
  -d '{"email":"ct@example.test","password":"correct horse battery staple","name":"CT"}')
[ "$(tail -1 <<<"$signup")" = 201 ] && pass "signup from the host (201)" || fail "signup: $signup"
token=$(head -1 <<<"$signup" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).accessToken))')
uid=$(podman exec "$run_id-a" id -u)
[ "$uid" != 0 ] && pass "runs as uid $uid" || fail "runs as root"
[ "$(podman inspect -f '{{.HostConfig.ReadonlyRootfs}}' "$run_id-a")" = true ] || fail "root fs not read-only"
podman exec "$run_id-a" sh -c 'touch /app/probe' 2>/dev/null && fail "root fs is writable" || pass "read-only root fs (only /data and /tmp writable)"
[ "$(podman exec "$run_id-a" cat /proc/1/cmdline | tr '\0' ' ')" = "node dist/main.js " ] && pass "PID 1 is node dist/main.js" || fail "PID 1: $(podman exec "$run_id-a" cat /proc/1/cmdline | tr '\0' ' ')"
podman healthcheck run "$run_id-a" >/dev/null && pass "HEALTHCHECK passes" || fail "HEALTHCHECK"
log_has "$run_id-a" '"secretKey":"generated into /data/secret.key"' && pass "secret key generated into the volume" || fail "secret key origin not logged"
podman exec "$run_id-a" node bin/boka.mjs db status >/dev/null 2>"$work/err" && fail "a second process opened the held data dir" || true
grep -q 'in use by pid 1 ' "$work/err" && pass "CLI in the running container refused: $(cut -c1-80 "$work/err")" || fail "CLI not refused: $(cat "$work/err")"

echo "== container: podman stop under steady load (PID 1 drains)"
node scripts/container-load.mjs "$url" "$token" > "$work/load.json" &
load_pid=$!
sleep 3
t0=$(date +%s%N)
podman stop -t 30 "$run_id-a" >/dev/null 2>>"$work/podman.err"
stop_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
wait "$load_pid" && load_ok=1 || load_ok=0
echo "  load: $(cat "$work/load.json"), podman stop took ${stop_ms} ms"
[ "$load_ok" = 1 ] && pass "0 failed requests" || fail "requests failed during the drain"
[ "$(podman inspect -f '{{.State.ExitCode}}' "$run_id-a")" = 0 ] && pass "exit code 0" || fail "exit code $(podman inspect -f '{{.State.ExitCode}}' "$run_id-a")"
[ "$(log_count "$run_id-a" '"msg":"draining"')" = 1 ] && pass "drain started exactly once" || fail "drain count"
log_has "$run_id-a" '"msg":"shutdown complete"' && pass "shutdown complete (not killed)" || fail "no clean shutdown"

echo "== container: the data volume survives a restart"
podman rm "$run_id-a" >/dev/null 2>>"$work/podman.err"
start_embedded "$run_id-b"
wait_ready "$url" "$run_id-b"
login=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/api/auth/login" -H 'content-type: application/json' \
  -d '{"email":"ct@example.test","password":"correct horse battery staple"}')
[ "$login" = 200 ] && pass "the account from the first container logs in" || fail "login after restart: $login"
log_has "$run_id-b" '"secretKey":"read from /data/secret.key"' && pass "same secret key reused" || fail "secret key not reused"
podman stop -t 30 "$run_id-b" >/dev/null 2>>"$work/podman.err"

echo "== container: host PostgreSQL + Redis (--network host)"
scratch_db=boka_ct_$$
psql -h 127.0.0.1 -U root -d test -v ON_ERROR_STOP=1 -qc "CREATE DATABASE $scratch_db" >/dev/null
printf 'postgres://root@127.0.0.1:5432/%s\n' "$scratch_db" > "$work/database_url"
node -e 'console.log(require("crypto").randomBytes(32).toString("base64url"))' > "$work/secret_key"
chmod 0644 "$work/database_url" "$work/secret_key"
podman run -d --name "$run_id-pg" --read-only --network host \
  -v "$work/database_url:/run/secrets/database_url:ro" -v "$work/secret_key:/run/secrets/secret_key:ro" \
  -v "$work/smtp_url:/run/secrets/smtp_url:ro" \
  -e PORT="$pg_port" -e HOST=127.0.0.1 \
  -e DATABASE_URL_FILE=/run/secrets/database_url -e BOKA_SECRET_KEY_FILE=/run/secrets/secret_key \
  -e SMTP_URL_FILE=/run/secrets/smtp_url -e REDIS_URL=redis://127.0.0.1:6379 \
  "${no_timer[@]}" "$image" >/dev/null 2>>"$work/podman.err"
pg_url=http://127.0.0.1:$pg_port
wait_ready "$pg_url" "$run_id-pg"
deep=$(curl -s "$pg_url/api/health/deep")
node -e 'const d=JSON.parse(process.argv[1]); const bad=Object.entries(d.checks).filter(([,c])=>c.status!=="pass"); if(d.status!=="ok"||bad.length) {console.error(JSON.stringify(d)); process.exit(1)}' "$deep" \
  && pass "deep health: every check passes on PostgreSQL + Redis" || fail "deep health: $deep"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$pg_url/api/auth/signup" -H 'content-type: application/json' \
  -d '{"email":"ct-pg@example.test","password":"correct horse battery staple","name":"PG"}')
[ "$code" = 202 ] && pass "signup on PostgreSQL (202: the production default, verify by mail)" || fail "signup on PostgreSQL: $code"
log_has "$run_id-pg" "\"database\":\"PostgreSQL 127.0.0.1:5432/$scratch_db\"" && pass "startup log names the database" || fail "database not in the startup log"
podman stop -t 30 "$run_id-pg" >/dev/null 2>>"$work/podman.err"
[ "$(podman inspect -f '{{.State.ExitCode}}' "$run_id-pg")" = 0 ] && pass "clean stop" || fail "exit code on PostgreSQL"

echo "== compose.yaml"
# Debian's podman-compose (1.0.3) has no `config` command; docker-compose 1.29 (also a Debian
# package) validates the file against the Compose schema without needing an engine.
docker-compose -f compose.yaml config -q && pass "docker-compose config (schema-valid)" || fail "compose.yaml is invalid"
echo "container test: all checks passed"
