#!/usr/bin/env bash
# wasm-bindgen-test in three engines, exactly one *DRIVER variable per run (the runner would
# otherwise pick geckodriver from PATH). Same as `wasm-pack test --headless --chrome` etc.
# web/tests/bench_vision.rs is `#[ignore]`d here (listed as ignored): scripts/bench.sh runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
unset CHROMEDRIVER GECKODRIVER SAFARIDRIVER CHROMEDRIVER_REMOTE GECKODRIVER_REMOTE SAFARIDRIVER_REMOTE
# web/tests/camera.rs needs a fake camera: Chromium and Firefox get one through web/webdriver.json
# (the runner reads it from the package directory, where cargo runs each test);
# the runner's WebKit path ignores that file, so WebKit runs the other targets only (its camera
# is covered by the e2e suite `camera`).
run() {
  local name=$1 targets=$2; shift 2
  local t0; t0=$(date +%s)
  echo "-- browser tests in $name ($targets)"
  env "$@" cargo test --locked --target wasm32-unknown-unknown $targets
  echo "-- $name: $(( $(date +%s) - t0 ))s"
}
engines=${ENGINES:-chromium firefox webkit}
for e in $engines; do
  case $e in
    chromium) run Chromium "-p liveform-app --test web -p liveform-web --test camera --test jpeg --test hooks -p liveform-capture --test upload" CHROMEDRIVER=/usr/bin/chromedriver ;;
    firefox) run Firefox "-p liveform-app --test web -p liveform-web --test camera --test jpeg --test hooks -p liveform-capture --test upload" GECKODRIVER="${CARGO_HOME:-$HOME/.cargo}/bin/geckodriver" ;;
    webkit) run WebKitGTK "-p liveform-app --test web -p liveform-web --test hooks -p liveform-capture --test upload" SAFARIDRIVER=/usr/bin/WebKitWebDriver xvfb-run -a ;;
    *) echo "unknown engine $e" >&2; exit 2 ;;
  esac
done
