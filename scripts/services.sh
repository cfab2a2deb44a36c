#!/usr/bin/env bash
# Throwaway PostgreSQL and S3 (s3s-fs) servers on loopback, for the server tests' second run.
# Usage: scripts/services.sh start|stop|env
#   start: stops what a previous start left running, wipes target/services/, then starts
#          - a fresh PostgreSQL cluster (Debian's /usr/lib/postgresql/<newest>/bin, or $PG_BIN) on
#            127.0.0.1:<free port>, with the database liveform_test. Trust authentication: it is a
#            throwaway cluster for tests that listens on loopback only. fsync, synchronous_commit and
#            full_page_writes are off for speed: a crash loses the cluster, which nobody keeps.
#          - s3s-fs (scripts/ensure-tools.sh --services) on 127.0.0.1:<another free port>, with the
#            bucket liveform-test. Path-style requests only (no --domain given).
#          then writes target/services/env, to source: LIVEFORM_TEST_DATABASE_URL,
#          LIVEFORM_TEST_S3_ENDPOINT, LIVEFORM_TEST_S3_BUCKET, AWS_ACCESS_KEY_ID,
#          AWS_SECRET_ACCESS_KEY, AWS_REGION (and what `stop` needs).
#          Both servers log to target/services/ (pg/postgres.log, s3s-fs.log).
#   stop:  stops both; fine when nothing runs. Keeps the logs (the next start wipes them).
#   env:   prints the env file's path; fails if the services are not running.
# As root (CI), PostgreSQL runs as the user postgres (initdb and pg_ctl refuse root).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

DIR="$PWD/target/services"
ENV_FILE="$DIR/env"
TIMEOUT=${LIVEFORM_SERVICES_TIMEOUT:-30}   # seconds each server has to accept connections
DB_NAME=liveform_test
BUCKET=liveform-test
ACCESS_KEY=liveform-test
SECRET_KEY=liveform-test-secret
REGION=us-east-1

log() { printf '\033[1m[services]\033[0m %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
tail_log() { [ -f "$1" ] && { log "last lines of $1:"; tail -n 30 "$1" >&2; }; return 0; }

# Runs a command as the owner of the cluster: postgres when we are root, else ourselves.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# A port nobody listens on at 127.0.0.1, below Linux's ephemeral range (32768+) so that
# outgoing connections do not take it in the meantime.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
  local p _
  for _ in $(seq 1 200); do
    p=$(( 20000 + RANDOM % 12000 ))
    if [ "$p" != "${1:-}" ] && port_free "$p"; then echo "$p"; return 0; fi
  done
  die "found no free port on 127.0.0.1 in 20000-31999"
}

pg_bin() {
  if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN"; return; fi
  local d
  d=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$d" ] || [ ! -x "$d/initdb" ]; then
    die "no PostgreSQL server in /usr/lib/postgresql/*/bin: run scripts/ensure-tools.sh --services"
  fi
  echo "$d"
}

# Alive and not a zombie (its parent, this script, has exited: init may take its time to reap it).
running() {
  local state
  state=$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

stop() {
  [ -f "$ENV_FILE" ] || { log "nothing to stop"; return 0; }
  local LIVEFORM_SERVICES_PGBIN="" LIVEFORM_SERVICES_PGDATA="" LIVEFORM_SERVICES_S3_PID=""
  # shellcheck source=/dev/null
  . "$ENV_FILE"
  if [ -n "$LIVEFORM_SERVICES_PGDATA" ] && [ -f "$LIVEFORM_SERVICES_PGDATA/postmaster.pid" ]; then
    as_pg "$LIVEFORM_SERVICES_PGBIN/pg_ctl" -D "$LIVEFORM_SERVICES_PGDATA" -m immediate -w stop >/dev/null 2>&1 \
      || log "warning: pg_ctl stop failed (see $LIVEFORM_SERVICES_PGDATA/../postgres.log)"
  fi
  local pid=$LIVEFORM_SERVICES_S3_PID
  # Only our s3s-fs: the pid may have been reused since.
  if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "s3s-fs" ]; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do running "$pid" || break; sleep 0.1; done
    if running "$pid"; then kill -9 "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$ENV_FILE"
  OLD_PGROOT=${LIVEFORM_SERVICES_PGDATA%/data}
  log "stopped"
}

start() {
  command -v s3s-fs >/dev/null || die "s3s-fs not found: run scripts/ensure-tools.sh --services"
  command -v curl >/dev/null || die "curl not found"
  local bin; bin=$(pg_bin)
  OLD_PGROOT=""
  stop >/dev/null 2>&1 || true
  # A cluster that had to live outside target/services (see below) goes too.
  case "$OLD_PGROOT" in "" | "$DIR"/*) ;; *) rm -rf "$OLD_PGROOT" ;; esac
  rm -rf "$DIR"
  mkdir -p "$DIR/pg" "$DIR/s3/$BUCKET"   # s3s-fs: a bucket is a directory under its root

  # PostgreSQL: the cluster, its log and its socket in pg/, owned by the cluster's user.
  local pgroot="$DIR/pg"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres:postgres "$pgroot"
    # The socket path must fit in 107 bytes, and postgres must be able to reach the directory.
    if [ ${#pgroot} -gt 80 ] || ! runuser -u postgres -- test -w "$pgroot"; then
      pgroot=$(mktemp -d "${TMPDIR:-/tmp}/liveform-pg.XXXXXX")
      chown postgres:postgres "$pgroot"
      log "PostgreSQL in $pgroot (postgres cannot use $DIR/pg)"
    fi
  elif [ ${#pgroot} -gt 80 ]; then
    pgroot=$(mktemp -d "${TMPDIR:-/tmp}/liveform-pg.XXXXXX")
  fi
  local pgdata="$pgroot/data" pglog="$pgroot/postgres.log"
  local pg_port; pg_port=$(pick_port)
  (cd "$pgroot" && as_pg "$bin/initdb" -D "$pgdata" -U postgres --auth=trust --encoding=UTF8 --locale=C --no-sync \
      >"$pgroot/initdb.log" 2>&1) || { tail_log "$pgroot/initdb.log"; die "initdb failed"; }
  as_pg tee -a "$pgdata/postgresql.conf" >/dev/null <<EOF

# scripts/services.sh: a throwaway test cluster
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$pgroot'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
  (cd "$pgroot" && as_pg "$bin/pg_ctl" -D "$pgdata" -l "$pglog" -w -t "$TIMEOUT" start >/dev/null) \
    || { tail_log "$pglog"; die "PostgreSQL did not start on 127.0.0.1:$pg_port within ${TIMEOUT}s"; }

  # Written now, so that a failure below still lets `stop` end PostgreSQL.
  write_env "$bin" "$pgdata" "$pg_port" "" ""

  local deadline=$((SECONDS + TIMEOUT))
  until "$bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port"; do
    [ "$SECONDS" -lt "$deadline" ] || { tail_log "$pglog"; die "PostgreSQL does not accept connections on 127.0.0.1:$pg_port"; }
    sleep 0.1
  done
  "$bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres "$DB_NAME" \
    || { tail_log "$pglog"; die "createdb $DB_NAME failed"; }

  # s3s-fs: logs at info level (the start line; one line per failed request) unless RUST_LOG says otherwise.
  local s3_port; s3_port=$(pick_port "$pg_port")
  local s3log="$DIR/s3s-fs.log"
  RUST_LOG=${RUST_LOG:-info} setsid s3s-fs --host 127.0.0.1 --port "$s3_port" \
    --access-key "$ACCESS_KEY" --secret-key "$SECRET_KEY" "$DIR/s3" </dev/null >"$s3log" 2>&1 &
  local s3_pid=$!
  write_env "$bin" "$pgdata" "$pg_port" "$s3_port" "$s3_pid"

  # Ready when a signed HeadBucket on the bucket answers 200: proves the port, the keys and the bucket.
  # s3s requires x-amz-content-sha256, which Debian 12's curl 7.88 does not send by itself: here the
  # SHA-256 of the empty body (for a PUT with curl -T, "x-amz-content-sha256: UNSIGNED-PAYLOAD" works).
  deadline=$((SECONDS + TIMEOUT))
  until curl -sf -o /dev/null --max-time 2 --aws-sigv4 "aws:amz:$REGION:s3" --user "$ACCESS_KEY:$SECRET_KEY" \
      -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
      -I "http://127.0.0.1:$s3_port/$BUCKET"; do
    running "$s3_pid" || { tail_log "$s3log"; die "s3s-fs exited"; }
    [ "$SECONDS" -lt "$deadline" ] || { tail_log "$s3log"; die "s3s-fs does not answer on 127.0.0.1:$s3_port within ${TIMEOUT}s"; }
    sleep 0.1
  done
  log "PostgreSQL on 127.0.0.1:$pg_port, s3s-fs on 127.0.0.1:$s3_port; env in $ENV_FILE"
}

write_env() {
  local bin=$1 pgdata=$2 pg_port=$3 s3_port=$4 s3_pid=$5
  cat >"$ENV_FILE.tmp" <<EOF
# Written by scripts/services.sh start: source it.
export LIVEFORM_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$pg_port/$DB_NAME
export LIVEFORM_TEST_S3_ENDPOINT=http://127.0.0.1:$s3_port
export LIVEFORM_TEST_S3_BUCKET=$BUCKET
export AWS_ACCESS_KEY_ID=$ACCESS_KEY
export AWS_SECRET_ACCESS_KEY=$SECRET_KEY
export AWS_REGION=$REGION
export AWS_EC2_METADATA_DISABLED=true
# for scripts/services.sh stop
LIVEFORM_SERVICES_PGBIN=$(printf %q "$bin")
LIVEFORM_SERVICES_PGDATA=$(printf %q "$pgdata")
LIVEFORM_SERVICES_S3_PID=$s3_pid
EOF
  mv "$ENV_FILE.tmp" "$ENV_FILE"
}

env_path() {
  [ -f "$ENV_FILE" ] || die "not started: run scripts/services.sh start"
  local LIVEFORM_SERVICES_PGBIN="" LIVEFORM_SERVICES_PGDATA="" LIVEFORM_SERVICES_S3_PID=""
  # shellcheck source=/dev/null
  . "$ENV_FILE"
  as_pg "$LIVEFORM_SERVICES_PGBIN/pg_ctl" -D "$LIVEFORM_SERVICES_PGDATA" status >/dev/null 2>&1 \
    || die "PostgreSQL is not running: run scripts/services.sh start"
  if [ "$(cat "/proc/$LIVEFORM_SERVICES_S3_PID/comm" 2>/dev/null)" != "s3s-fs" ] || ! running "$LIVEFORM_SERVICES_S3_PID"; then
    die "s3s-fs is not running: run scripts/services.sh start"
  fi
  echo "$ENV_FILE"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) env_path ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
