#!/usr/bin/env bash
# Load proof (issue 16): starts a `liveform serve` on a free loopback port with a throwaway
# config and data directory under target/load/, runs server/examples/load.rs against it (N
# concurrent flows: session, choice, document front + back and selfie as ~400 KB real JPEGs that
# pass the server's checks, finish; then every submission read back through the results API and
# its three images compared byte for byte), stops the server and prints the numbers: flows/s,
# p50/p99/max per request kind, errors, the server's peak RSS (VmHWM) and CPU time.
#
# Usage: scripts/load.sh [--flows N] [--concurrency C] [--release] [--keep] [--two-instances]
#   --flows N        flows to run (default 20: the small run the test command uses; 200 is the full run)
#   --concurrency C  flows in flight at once (default N: all at once)
#   --release        build and run the release profile. Measured on 2 shared cores: a cold
#                    release build of the server takes ~4.5 min, a cold debug build ~2 min (warm:
#                    seconds). The default debug build optimises the image decoders and checks
#                    ([profile.dev.package.*] in Cargo.toml) but not AES-GCM, SHA-256 or the HTTP
#                    stack: its flows/s and latencies are ~5x worse than release and say little
#                    about production; use --release for the numbers, debug to prove the flow works.
#   --keep           keep the data directory (captures, database) afterwards
#   --two-instances  two instances sharing PostgreSQL + S3 (scripts/services.sh, started here
#                    unless LIVEFORM_TEST_DATABASE_URL is already set); each flow's requests
#                    alternate between them
# Exits non-zero when a flow failed, a capture failed the server's check, or a submission did not
# read back complete.
#
# The config raises sessions_per_minute AND the flows come from 8 loopback source addresses
# (127.0.0.1-8), so the per-address session limit is not what is measured. One project: links
# encrypted with its key (plain ones would do too), no active liveness (the flow is documents +
# selfie, each checked by the server), verify_workers = 0 (one per core).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

flows=20
concurrency=""
profile=debug
keep=0
two=0
while [ $# -gt 0 ]; do
  case "$1" in
    --flows) flows=${2:?--flows needs a number}; shift 2 ;;
    --concurrency) concurrency=${2:?--concurrency needs a number}; shift 2 ;;
    --release) profile=release; shift ;;
    --keep) keep=1; shift ;;
    --two-instances) two=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "load.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$flows" in ''|*[!0-9]*|0) echo "load.sh: --flows must be a positive number" >&2; exit 2 ;; esac

# Two instances share PostgreSQL + S3: the test services (scripts/services.sh), started here
# unless the caller already sourced their env.
services_started=0
if [ "$two" = 1 ] && [ -z "${LIVEFORM_TEST_DATABASE_URL:-}" ]; then
  scripts/services.sh start
  services_started=1
  # shellcheck disable=SC1090
  source "$(scripts/services.sh env)"
fi

cargo_flags=(--locked)
[ "$profile" = release ] && cargo_flags+=(--release)
echo "== build ($profile): liveform + examples/load"
t0=$(date +%s)
cargo build -p liveform-server --bin liveform --example load "${cargo_flags[@]}"
build_s=$(( $(date +%s) - t0 ))
echo "   built in ${build_s}s"
bin="target/$profile/liveform"
load_bin="target/$profile/examples/load"

# One run's config, server log (and with --keep its data) at a time.
rm -rf target/load/run-*
run_dir="$PWD/target/load/run-$$"
mkdir -p "$run_dir"
# The storage key stays out of the config and the data directory: an environment variable.
LIVEFORM_LOAD_STORAGE_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
export LIVEFORM_LOAD_STORAGE_KEY
PROJECT_KEY="load-project-key-0123456789"
API_KEY="load-results-api-key-0123456789"
backend=""
if [ "$two" = 1 ]; then
  # A schema and a key prefix of this run's own.
  schema="load_$$_$(date +%s)"
  psql -q "$LIVEFORM_TEST_DATABASE_URL" -c "CREATE SCHEMA $schema" >/dev/null
  LIVEFORM_LOAD_DATABASE_URL="$LIVEFORM_TEST_DATABASE_URL?options=-c%20search_path%3D$schema"
  export LIVEFORM_LOAD_DATABASE_URL
  backend="database_url_env = \"LIVEFORM_LOAD_DATABASE_URL\"
database_pool = 24

[server.object_store]
endpoint = \"$LIVEFORM_TEST_S3_ENDPOINT\"
bucket = \"$LIVEFORM_TEST_S3_BUCKET\"
prefix = \"$schema\""
fi
cat >"$run_dir/liveform.toml" <<EOF
# scripts/load.sh: a throwaway server for the load proof (issue 16).
[server]
# Far above what N flows open in a minute: the limiter is not what is measured.
sessions_per_minute = 1000000
sessions_per_minute_total = 1000000
storage_key_env = "LIVEFORM_LOAD_STORAGE_KEY"
# One verification worker per CPU core.
verify_workers = 0
# The disk check stays on, with a floor that a build machine has.
min_free_disk_mb = 256
$backend

[[project]]
pid = "load"
name = "Load Test"
key = "$PROJECT_KEY"
algorithm = "ecb"
api_key = "$API_KEY"
# Documents and a selfie, each checked by the server; no active-liveness step.
active_liveness = false
EOF

dist_args=()
[ -f dist/index.html ] && dist_args=(--dist dist)
stop_server() {
  local p
  for p in "${servers[@]}"; do
    if kill -0 "$p" 2>/dev/null; then
      kill "$p" 2>/dev/null || true
      wait "$p" 2>/dev/null || true
    fi
  done
  servers=()
}
# shellcheck disable=SC2317  # called from the EXIT trap
cleanup() {
  stop_server
  if [ "$keep" = 0 ]; then rm -rf "$run_dir/data" "$run_dir/data-b"; fi
  if [ "$services_started" = 1 ]; then scripts/services.sh stop; fi
}
trap cleanup EXIT

servers=()
bases=()
start_instance() { # $1: data dir
  local log="$1.log" base="" pid
  "$bin" serve --config "$run_dir/liveform.toml" --addr 127.0.0.1:0 --data "$1" \
    "${dist_args[@]}" >"$log" 2>&1 &
  pid=$!
  servers+=("$pid")
  for _ in $(seq 1 300); do
    base=$(sed -n 's/^liveform: listening on \(http:[^ ]*\).*/\1/p' "$log" | head -1)
    [ -n "$base" ] && break
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "load.sh: the server exited:" >&2
      cat "$log" >&2
      exit 1
    fi
    sleep 0.1
  done
  if [ -z "$base" ]; then
    echo "load.sh: the server did not start within 30 s:" >&2
    cat "$log" >&2
    exit 1
  fi
  bases+=("$base")
  echo "== server pid $pid on $base ($profile build, $(nproc) cores; log $log)"
}
start_instance "$run_dir/data"
[ "$two" = 1 ] && start_instance "$run_dir/data-b"

# Eight loopback source addresses (all of 127.0.0.0/8 is local on Linux).
source_ips=$(seq -s, -f '127.0.0.%g' 1 8)
pids=$(IFS=,; echo "${servers[*]}")
load_args=(--flows "$flows" --pid load --key "$PROJECT_KEY" --algorithm ecb
  --results-key "$API_KEY" --pids "$pids" --source-ips "$source_ips")
for b in "${bases[@]}"; do load_args+=(--base "$b"); done
# Two instances: each flow's requests alternate between them (state shared, not pinned).
[ "$two" = 1 ] && load_args+=(--spread-requests)
[ -n "$concurrency" ] && load_args+=(--concurrency "$concurrency")
status=0
"$load_bin" "${load_args[@]}" || status=$?
stop_server
if grep -qiE 'panic|error' "$run_dir"/*.log; then
  echo "-- server log lines mentioning panic/error:"
  grep -iE 'panic|error' "$run_dir"/*.log | head -20
fi
echo "== build ${build_s}s ($profile); load exit $status; load average $(cut -d' ' -f1-3 /proc/loadavg)"
exit "$status"
