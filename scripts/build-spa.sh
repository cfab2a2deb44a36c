#!/usr/bin/env bash
# Builds the SPA into dist/ with Trunk (offline, pinned tools), then pre-compresses every asset
# (gzip and brotli) so the server can send them as they are.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/tools/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
command -v trunk >/dev/null || { echo "trunk missing: run scripts/ensure-tools.sh" >&2; exit 1; }
cargo fetch --locked -q
# Pairs the main module with its lazily imported capture module (cache busting, see
# web/src/module.rs).
LIVEFORM_BUILD_ID=${LIVEFORM_BUILD_ID:-$(git rev-parse --short=12 HEAD 2>/dev/null || echo local)-$(date +%s)}
export LIVEFORM_BUILD_ID
# wasm-bindgen never deletes snippet files of an earlier build, and Trunk preloads every file it
# finds there: start from an empty snippet directory so dist/ holds only what this build uses.
rm -rf target/wasm-bindgen/release/snippets
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# --minify: HTML and CSS (the JS glue is minified below).
if ! TRUNK_SKIP_VERSION_CHECK=true trunk build --release --offline --minify true >"$log" 2>&1; then
  cat "$log" >&2
  echo "trunk build failed" >&2
  exit 1
fi
ls dist/*.wasm >/dev/null 2>&1 || { echo "trunk produced no wasm" >&2; exit 1; }
# The face detector's Web Worker (face/, loaded when the selfie step starts): its own Trunk run,
# because it is compiled with wasm SIMD (simd128), which must not reach the app's modules; and
# its own cargo target dir, so that the two sets of flags do not rebuild each other's crates.
face_dist=${CARGO_TARGET_DIR:-target}/face-dist
if ! CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}/face-worker \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128" \
  TRUNK_SKIP_VERSION_CHECK=true trunk build --release --offline --filehash false --dist "$face_dist" face/trunk/index.html >"$log" 2>&1; then
  cat "$log" >&2
  echo "trunk build of the face worker failed" >&2
  exit 1
fi
cp "$face_dist"/liveform-face.js "$face_dist"/liveform-face_bg.wasm "$face_dist"/liveform-face_loader.js dist/
node scripts/minify-dist.mjs dist
find dist -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' -o -name '*.json' -o -name '*.html' \) | while read -r f; do
  gzip -9 -k -f -n "$f"
  if command -v brotli >/dev/null; then brotli -q 11 -k -f "$f"; fi
done
echo "dist/ built:" >&2
ls -l dist | tail -n +2 >&2
