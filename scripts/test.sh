#!/usr/bin/env bash
# Runs every test. Installs what is missing first (idempotent): see scripts/ensure-tools.sh.
#   1. format and lints (host and wasm32)
#   2. native tests: core (vectors, round trips, property tests), server over loopback HTTP, CLI,
#      the small load run; the server tests and a small two-instance load run again on PostgreSQL
#      + S3 (scripts/services.sh);
#      then the server's tests again on PostgreSQL + S3 (scripts/services.sh starts both on loopback);
#      a short run of each fuzz target (scripts/fuzz.sh)
#   3. browser tests (wasm-bindgen-test) in Chromium, Firefox and WebKitGTK, then the wasm benchmark
#      (scripts/bench.sh: per-frame analysis <= 4 ms median, 1920x1080 JPEG <= 450 KB, face
#      detection <= 15 ms median)
#   4. the SPA built by Trunk, its size budget, and a scan of dist/ for project keys
#   5. end-to-end WebDriver tests (real server + built SPA) in Chromium, Firefox and WebKitGTK
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/tools/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
# A test run builds every crate once: incremental state would only add disk (gigabytes) and time.
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
start=$(date +%s)
step() { printf '\n\033[1m== %s (%ss)\033[0m\n' "$*" "$(( $(date +%s) - start ))"; }

step "tools"
# A cold run writes about 15 GB under target/; say so up front rather than fail mid-build.
avail_kb=$(df -Pk . | awk 'NR==2 {print $4}')
echo "disk: $((avail_kb / 1024 / 1024)) GiB free under $PWD"
if [ "$avail_kb" -lt $((15 * 1024 * 1024)) ]; then
  echo "warning: less than 15 GiB free; a cold run may run out of disk (cargo clean frees target/)" >&2
fi
scripts/ensure-tools.sh --browsers --services

step "format"
cargo fmt --all -- --check
cargo fmt --manifest-path fuzz/Cargo.toml -- --check

step "clippy (host)"
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy -p liveform-server --features fault-injection --all-targets --locked -- -D warnings
# The fuzz targets are a workspace of their own (fuzz/; scripts/fuzz.sh builds them instrumented).
cargo clippy --manifest-path fuzz/Cargo.toml --target-dir target/fuzz --all-targets --locked -- -D warnings
step "clippy (wasm32)"
cargo clippy -p liveform-welcome -p liveform-app -p liveform-web -p liveform-ui -p liveform-capture --target wasm32-unknown-unknown --all-targets --locked -- -D warnings
# core's dev-dependencies (proptest) are native-only; its library is linted for wasm32 here.
cargo clippy -p liveform-core -p liveform-vision --target wasm32-unknown-unknown --lib --locked -- -D warnings
# Only the glue crate (web/) touches web-sys, js-sys and wasm-bindgen; proves the lints bite.
scripts/check-boundaries.sh

step "native tests"
cargo test --workspace --exclude liveform-e2e --locked
cargo test -p liveform-server --features fault-injection --test uploads --locked
# The load proof's small version on one instance (SQLite + a directory): 20 concurrent flows.
scripts/load.sh --flows 20

step "fuzz (short runs)"
# Coverage-guided fuzzing (issue 15): each target 12 s from its seeds, failing on any crash;
# scripts/fuzz.sh --long SECONDS is the long run.
scripts/fuzz.sh

step "server tests on PostgreSQL + S3"
trap 'scripts/services.sh stop' EXIT
scripts/services.sh start
( # a subshell: the later steps do not see the services' variables
  # shellcheck source=/dev/null
  . "$(scripts/services.sh env)"
  cargo test -p liveform-server --locked
  # The load proof's small version on two instances sharing PostgreSQL + S3 (scripts/load.sh
  # --flows 200 --release is the full run; its numbers are in docs/deploy.md).
  scripts/load.sh --flows 20 --two-instances
)
scripts/services.sh stop
trap - EXIT

step "default build has no fault injection"
scripts/check-release.sh

step "browser tests"
scripts/test-browsers.sh

step "benchmark (issue 6 and issue 7 budgets, Chromium)"
scripts/bench.sh

step "build the SPA"
scripts/build-spa.sh
scripts/budget.sh
cargo build -p liveform-server --features fault-injection --locked

step "end-to-end"
scripts/test-e2e.sh

step "all tests passed"
