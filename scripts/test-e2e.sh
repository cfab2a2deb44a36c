#!/usr/bin/env bash
# End-to-end WebDriver tests: the real server and the Trunk-built SPA (dist/), one engine per run.
# Needs dist/ (scripts/build-spa.sh), the server binary, built here with the test-only
# `fault-injection` feature (POST /api/__fault; see server/src/fault.rs), and the camera feeds in
# target/feeds (scripts/make-feeds.sh, run here; needs ffmpeg).
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
    chromium|firefox) E2E_BROWSER=$e cargo test -p liveform-e2e --locked -- --test-threads=1 ;;
    *) echo "unknown engine $e" >&2; exit 2 ;;
  esac
  echo "-- end-to-end $e: $(( $(date +%s) - t0 ))s"
done
