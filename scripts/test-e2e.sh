#!/usr/bin/env bash
# End-to-end WebDriver tests: the real server and the Trunk-built SPA (dist/), one engine per run.
# Needs dist/ (scripts/build-spa.sh), the server binary, built here with the test-only
# `fault-injection` feature (POST /api/__fault; see server/src/fault.rs), and the camera feeds in
# target/feeds (scripts/make-feeds.sh, run here; needs ffmpeg). The Chromium run also needs the
# test PostgreSQL and S3 servers for e2e/tests/scale.rs (scripts/services.sh; started here and
# stopped after that run, or reused as they are when they already run).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
export LIVEFORM_BIN="${LIVEFORM_BIN:-$PWD/target/debug/liveform}"
export LIVEFORM_DIST="${LIVEFORM_DIST:-$PWD/dist}"
export GECKODRIVER="${GECKODRIVER:-${CARGO_HOME:-$HOME/.cargo}/bin/geckodriver}"
cargo build -p liveform-server --features fault-injection --locked
[ -f "$LIVEFORM_DIST/index.html" ] || scripts/build-spa.sh
cargo build -p liveform-e2e --tests --locked -q
# Chromium fake-camera feeds for e2e/tests/feeds.rs and the capture tests (skips up-to-date ones).
scripts/make-feeds.sh
engines=${ENGINES:-chromium firefox webkit}
for e in $engines; do
  t0=$(date +%s)
  echo "-- end-to-end in $e"
  case $e in
    webkit) E2E_BROWSER=webkit xvfb-run -a -s "-screen 0 1280x1024x24" cargo test -p liveform-e2e --locked -- --test-threads=1 ;;
    chromium)
      # In a subshell: its EXIT trap stops the services it started as soon as this run ends.
      # Services that already run (another run's, or started by hand) are reused and left alone:
      # `scripts/services.sh start` would stop them first. Each scale test has its own schema
      # and S3 prefix, so sharing them is safe.
      (
        if env_file=$(scripts/services.sh env 2>/dev/null); then
          echo "-- reusing the running test services ($env_file)"
        else
          trap 'scripts/services.sh stop' EXIT
          scripts/services.sh start
          env_file=$(scripts/services.sh env)
        fi
        # shellcheck source=/dev/null
        . "$env_file"
        E2E_BROWSER=chromium cargo test -p liveform-e2e --locked -- --test-threads=1
      ) ;;
    firefox) E2E_BROWSER=$e cargo test -p liveform-e2e --locked -- --test-threads=1 ;;
    *) echo "unknown engine $e" >&2; exit 2 ;;
  esac
  echo "-- end-to-end $e: $(( $(date +%s) - t0 ))s"
done
