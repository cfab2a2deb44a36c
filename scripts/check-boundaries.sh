#!/usr/bin/env bash
# The SPA's boundaries (issue 20), checked three ways; run by scripts/test.sh in its lint step.
#  1. Dependencies: of the SPA's crates only liveform-web (web/) depends on web-sys, js-sys,
#     wasm-bindgen, wasm-bindgen-futures or gloo-*; the first screen (liveform-welcome) depends
#     on neither Leptos nor the app or capture module, and its sources use no serde.
#  2. Text: no `web_sys::`, `js_sys::`, `wasm_bindgen::` path, import or `#[wasm_bindgen]` in the
#     sources of liveform-welcome (welcome/), liveform-app (src/), liveform-ui (ui/) or
#     liveform-capture (capture/) —
#     including `leptos::web_sys` and `leptos::wasm_bindgen`.
#  3. Lints: clippy.toml refuses web-sys calls by any path (the re-exports, Leptos's `window()`,
#     methods on elements a NodeRef hands out); tests/boundary-probe has one deliberate call per
#     feature, and each must fail clippy on the lint, while the probe without features passes.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
target=wasm32-unknown-unknown

for pkg in liveform-welcome liveform-app liveform-ui liveform-capture; do
  direct=$(cargo tree -q --locked -p "$pkg" --target "$target" -e normal --depth 1 --prefix none | tail -n +2)
  bad=$(echo "$direct" | grep -E '^(web-sys|js-sys|wasm-bindgen|wasm-bindgen-futures|gloo[-a-z]*) ' || true)
  if [ -n "$bad" ]; then
    echo "boundary: $pkg depends directly on: $bad (only liveform-web may)" >&2; fail=1
  fi
done
for pkg in liveform-welcome liveform-app; do
  if cargo tree -q --locked -p "$pkg" --target "$target" -e normal --prefix none | grep -q '^liveform-capture '; then
    echo "boundary: $pkg depends on the capture module" >&2; fail=1
  fi
done
# The first screen (welcome/) builds its page without Leptos and reads JSON with the browser's
# JSON.parse: neither Leptos nor a JSON library may reach it, by any dependency path.
if cargo tree -q --locked -p liveform-welcome --target "$target" -e normal --prefix none | grep -qE '^(leptos|tachys|reactive_graph) '; then
  echo "boundary: the first screen (liveform-welcome) depends on Leptos" >&2; fail=1
fi
if cargo tree -q --locked -p liveform-welcome --target "$target" -e normal --prefix none | grep -q '^liveform-app '; then
  echo "boundary: the first screen (liveform-welcome) depends on the app module" >&2; fail=1
fi
if grep -rnE 'serde_json|serde::' welcome/src --include='*.rs' | grep -vE '^[^:]+:[0-9]+:\s*//'; then
  echo "boundary: the first screen (welcome/) uses serde: it reads JSON through liveform_web::json" >&2; fail=1
fi

hits=$(grep -rnE '(^|[^_[:alnum:]])(web_sys|js_sys|wasm_bindgen|wasm_bindgen_futures)::|use (leptos::)?(web_sys|js_sys|wasm_bindgen)\b|#\[wasm_bindgen' \
  src ui/src capture/src welcome/src --include='*.rs' | grep -vE '^[^:]+:[0-9]+:\s*//' || true)
if [ -n "$hits" ]; then
  echo "boundary: browser API outside liveform-web:" >&2; echo "$hits" >&2; fail=1
fi

if ! cargo clippy -q --locked -p liveform-boundary-probe --target "$target" -- -D warnings; then
  echo "boundary: the probe without features must pass clippy" >&2; fail=1
fi
for feature in leptos-web-sys leptos-window web-sys-type js-cast node-ref-focus; do
  out=$(cargo clippy -q --locked -p liveform-boundary-probe --target "$target" --features "$feature" -- -D warnings 2>&1) && {
    echo "boundary: clippy accepted the probe's deliberate web-sys call ($feature)" >&2; fail=1; continue; }
  if ! grep -q 'disallowed' <<<"$out"; then
    echo "boundary: the probe ($feature) failed, but not on the boundary lint:" >&2; echo "$out" >&2; fail=1
  else
    echo "boundary: refused as it should be ($feature): $(grep -m1 -o 'use of a disallowed [a-z]* `[^`]*`' <<<"$out")"
  fi
done
[ "$fail" -eq 0 ] && echo "boundary: ok (web-sys, js-sys and wasm-bindgen only in liveform-web)"
exit "$fail"
