#!/usr/bin/env bash
# Side-by-side start-up timing (issue 20): Liveform's first screen against Onfido's web SDK
# (npm onfido-sdk-ui@13.8.7), in headless Chromium, at 1x and 4x CPU throttle. Not part of
# scripts/test.sh; the numbers depend on the machine and its load.
#
#   scripts/side-by-side.sh [--runs N] [--throttles 1,4] [--no-capture]
#
# Each sample is a fresh WebDriver session (new browser profile: cold caches), throttled with CDP
# Emulation.setCPUThrottlingRate before the navigation; times are the page's performance.now()
# (ms from the navigation start), median / min / max of N samples (default 7):
#   * Liveform (`liveform demo`, a new GCM demo link per sample): the welcome screen's Start
#     button in the DOM, and "ready" (painted, and the app's consent handler enables it);
#   * Onfido: its UMD bundle (dist/onfido.min.js + style.css, served on loopback) evaluated, a
#     lower bound of its first screen (Onfido.init needs a token and Onfido's servers);
#   * at 4x only, Liveform from a real Start click: the next screen's heading; and with a link
#     that preselects country and ID type, the capture step (its heading, the capture view, the
#     fake camera's <video> playing; --no-capture skips it).
# It prints a table and the ratio Liveform ready / Onfido evaluated at each throttle.
#
# Needs: dist/ (scripts/build-spa.sh, run here if dist/index.html is missing), the server binary
# (LIVEFORM_BIN, default target/debug/liveform, built here if missing), chromium +
# chromium-driver, node/npm (the package is cached in target/side-by-side/). Environment as for
# the e2e tests: LIVEFORM_BIN, LIVEFORM_DIST, CHROMEDRIVER, CHROMIUM_BIN.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
export LIVEFORM_BIN="${LIVEFORM_BIN:-$PWD/target/debug/liveform}"
export LIVEFORM_DIST="${LIVEFORM_DIST:-$PWD/dist}"

onfido_version=13.8.7
cache="${CARGO_TARGET_DIR:-$PWD/target}/side-by-side"
onfido="$cache/onfido-sdk-ui-$onfido_version"
if [ ! -f "$onfido/package/dist/onfido.min.js" ]; then
  echo "-- fetching onfido-sdk-ui@$onfido_version from npm"
  mkdir -p "$cache"
  tgz=$(cd "$cache" && npm pack --silent "onfido-sdk-ui@$onfido_version" | tail -n 1)
  rm -rf "$onfido.tmp" && mkdir -p "$onfido.tmp"
  tar -xzf "$cache/$tgz" -C "$onfido.tmp"
  rm -f "$cache/$tgz"
  rm -rf "$onfido" && mv "$onfido.tmp" "$onfido"
fi

[ -x "$LIVEFORM_BIN" ] || cargo build -p liveform-server --locked
[ -f "$LIVEFORM_DIST/index.html" ] || scripts/build-spa.sh
cargo build -p liveform-e2e --bin side_by_side --locked -q

echo "-- $(${CHROMIUM_BIN:-chromium} --version 2>/dev/null || echo 'chromium (version unknown)'); $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
exec "${CARGO_TARGET_DIR:-$PWD/target}/debug/side_by_side" --onfido-dist "$onfido/package/dist" "$@"
