#!/usr/bin/env bash
# Prints the gzip (and brotli) size of everything the first screen loads: the wasm, the JS glue,
# the CSS and index.html (plus the active locale for non-English visitors). Fails over budget.
# Usage: scripts/budget.sh [DIST]   (default dist/; build it with scripts/build-spa.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
dist=${1:-dist}
budget_kib=180
[ -f "$dist/index.html" ] || { echo "no $dist/index.html: run scripts/build-spa.sh" >&2; exit 1; }
total_gz=0; total_br=0
printf '%-48s %10s %10s %10s\n' file raw gzip-9 brotli-11
for f in "$dist"/index.html "$dist"/*.wasm "$dist"/*.js "$dist"/*.css; do
  [ -f "$f" ] || continue
  raw=$(stat -c %s "$f")
  gz=$(gzip -9 -c -n "$f" | wc -c)
  br=$( (command -v brotli >/dev/null && brotli -q 11 -c "$f" | wc -c) || echo 0)
  total_gz=$((total_gz + gz)); total_br=$((total_br + br))
  printf '%-48s %10d %10d %10d\n' "$(basename "$f")" "$raw" "$gz" "$br"
done
ko=$(gzip -9 -c -n "$dist/locales/ko.json" | wc -c)
printf '%-48s %10s %10d %10s\n' "(+ locales/ko.json when Korean)" "" "$ko" ""
printf 'first screen total: %d bytes gzip (%.1f KiB), %d bytes brotli; budget %d KiB gzip\n' \
  "$total_gz" "$(awk -v b="$total_gz" 'BEGIN{print b/1024}')" "$total_br" "$budget_kib"
if [ "$total_gz" -gt $((budget_kib * 1024)) ]; then
  echo "OVER BUDGET" >&2
  exit 1
fi
