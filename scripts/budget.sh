#!/usr/bin/env bash
# Prints the gzip (and brotli) size of everything the first screen loads: the wasm, the JS glue,
# the CSS and index.html (plus the active locale for non-English visitors). Fails over budget.
# Also the face worker (liveform-face*: wasm with the embedded model + JS glue + loader, loaded
# when the selfie step starts): budget 1.1 MB = 1,100,000 bytes gzip (decimal MB), fails above.
# Usage: scripts/budget.sh [DIST]   (default dist/; build it with scripts/build-spa.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
dist=${1:-dist}
# Lowered from 180 when the first screen became the welcome module without Leptos (50.3 KiB);
# never raise it: new screens go into the app module.
budget_kib=54
face_budget=1100000
[ -f "$dist/index.html" ] || { echo "no $dist/index.html: run scripts/build-spa.sh" >&2; exit 1; }
total_gz=0; total_br=0
printf '%-48s %10s %10s %10s\n' file raw gzip-9 brotli-11
# The first screen is the welcome module (liveform-welcome*, no Leptos). The app module
# (liveform-app*: every screen after the welcome) is imported once the welcome is on screen, and
# the capture module (liveform-capture*) when a capture step starts: both reported below, not part
# of the first screen. wasm-bindgen snippets are imported by the module that uses them (all
# counted here, as if the first screen loaded them).
for f in "$dist"/index.html "$dist"/*.wasm "$dist"/*.js "$dist"/*.css $(find "$dist/snippets" -name '*.js' 2>/dev/null); do
  [ -f "$f" ] || continue
  case $(basename "$f") in liveform-app*|liveform-capture*|liveform-face*|capture.css) continue ;; esac
  raw=$(stat -c %s "$f")
  gz=$(gzip -9 -c -n "$f" | wc -c)
  br=$( (command -v brotli >/dev/null && brotli -q 11 -c "$f" | wc -c) || echo 0)
  total_gz=$((total_gz + gz)); total_br=$((total_br + br))
  printf '%-48s %10d %10d %10d\n' "$(basename "$f")" "$raw" "$gz" "$br"
done
# One row per existing file of a lazily loaded part, labelled; its gzip total in $part_gz.
part() {
  local label=$1 f gz; shift
  part_gz=0
  for f in "$@"; do
    [ -f "$f" ] || continue
    gz=$(gzip -9 -c -n "$f" | wc -c); part_gz=$((part_gz + gz))
    printf '%-48s %10d %10d %10s\n' "($label) $(basename "$f")" "$(stat -c %s "$f")" "$gz" ""
  done
}
part "after the welcome" "$dist"/liveform-app*.wasm "$dist"/liveform-app*.js; app=$part_gz
part "lazy" "$dist"/liveform-capture*.wasm "$dist"/liveform-capture*.js "$dist"/capture.css; lazy=$part_gz
part "face worker" "$dist"/liveform-face*.wasm "$dist"/liveform-face*.js; face=$part_gz
ko=$(gzip -9 -c -n "$dist/locales/ko.json" | wc -c)
printf '%-48s %10s %10d %10s\n' "(+ locales/ko.json when Korean)" "" "$ko" ""
printf 'first screen total: %d bytes gzip (%.1f KiB), %d bytes brotli; budget %d KiB gzip\n' \
  "$total_gz" "$(awk -v b="$total_gz" 'BEGIN{print b/1024}')" "$total_br" "$budget_kib"
printf 'app module (loaded behind the welcome screen): %d bytes gzip (%.1f KiB)\n' "$app" "$(awk -v b="$app" 'BEGIN{print b/1024}')"
printf 'capture module (loaded when a capture step starts): %d bytes gzip (%.1f KiB)\n' "$lazy" "$(awk -v b="$lazy" 'BEGIN{print b/1024}')"
printf 'face worker (loaded when the selfie step starts): %d bytes gzip\n' "$face"
# Issue 7's budget for what is loaded lazily, read strictly: everything after the first screen
# that the selfie step needs (the app module, the capture module and the face worker).
lazy=$((lazy + app))
printf 'loaded lazily by the selfie step (app module + capture module + face worker): %d bytes gzip; budget %d bytes (1.1 MB)\n' \
  "$((lazy + face))" "$face_budget"
status=0
if [ "$face" -eq 0 ]; then
  echo "no face worker in $dist (liveform-face*.wasm)" >&2; status=1
elif [ "$((lazy + face))" -gt "$face_budget" ]; then
  echo "LAZY BYTES OVER BUDGET" >&2; status=1
fi
if [ "$total_gz" -gt $((budget_kib * 1024)) ]; then
  echo "OVER BUDGET" >&2
  exit 1
fi
exit $status
