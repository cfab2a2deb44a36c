#!/usr/bin/env bash
# Installs what the build and the tests need, idempotently, on a Debian machine.
# Usage: scripts/ensure-tools.sh [--browsers] [--services]
#   always: brotli (apt, to pre-compress dist/), g++ (apt, libFuzzer's runtime for scripts/fuzz.sh), wasm32 target, wasm-bindgen-cli (= the version locked in Cargo.lock), trunk 0.21.14,
#           wasm-opt from npm binaryen@132 (never Debian's binaryen 108: it silently breaks the module),
#           esbuild from npm (minifies the wasm-bindgen glue in dist/),
#           Python's cryptography from PyPI (server/tests/return_auth.rs runs the docs' Python decrypt code)
#   --browsers: chromium, chromium-driver, firefox-esr, webkit2gtk-driver, xvfb, ffmpeg (apt), geckodriver (crates.io),
#               axe-core (npm, pinned: the e2e accessibility audit injects tools/node_modules/axe-core/axe.min.js)
#   --services: postgresql (brings psql and the server's binaries), curl (apt), s3s-fs (crates.io): the servers
#               scripts/services.sh starts
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/"/,"",$3); print $3; exit}' Cargo.lock 2>/dev/null || true)
WASM_BINDGEN_VERSION=${WASM_BINDGEN_VERSION:-0.2.130}
TRUNK_VERSION=0.21.14
GECKODRIVER_VERSION=0.37.1
BINARYEN_VERSION=132.0.0
ESBUILD_VERSION=0.24.2
# The accessibility rules engine of e2e/tests/a11y.rs (one 560 KB file, no dependencies).
AXE_VERSION=4.14.1
# The newest s3s-fs whose rust-version (1.92) the machine's rustc 1.95 meets; 0.15 and later need 1.96.
S3S_FS_VERSION=0.14.1

BROWSERS=0; SERVICES=0
for arg in "$@"; do
  case "$arg" in
    --browsers) BROWSERS=1 ;;
    --services) SERVICES=1 ;;
    *) echo "usage: $0 [--browsers] [--services]" >&2; exit 2 ;;
  esac
done

export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
log() { printf '\033[1m[tools]\033[0m %s\n' "$*" >&2; }
have_version() { command -v "$1" >/dev/null 2>&1 && "$1" --version 2>/dev/null | grep -q -- "$2"; }
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"

apt_pkgs=()
# g++: libFuzzer's C++ runtime, which libfuzzer-sys compiles for scripts/fuzz.sh.
for p in brotli gzip g++ fonts-ocr-b; do
  dpkg -s "$p" >/dev/null 2>&1 || apt_pkgs+=("$p")
done
if [ "$BROWSERS" = 1 ]; then
  for p in chromium chromium-driver firefox-esr webkit2gtk-driver xvfb ffmpeg xauth; do
    dpkg -s "$p" >/dev/null 2>&1 || apt_pkgs+=("$p")
  done
fi
if [ "$SERVICES" = 1 ]; then
  for p in postgresql curl; do
    dpkg -s "$p" >/dev/null 2>&1 || apt_pkgs+=("$p")
  done
fi
if [ ${#apt_pkgs[@]} -gt 0 ]; then
  log "apt: installing ${apt_pkgs[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${apt_pkgs[@]}" >/dev/null
fi
if dpkg -s binaryen >/dev/null 2>&1; then
  log "warning: Debian's binaryen (wasm-opt 108) is installed; it breaks the module. We put npm's wasm-opt first on PATH."
fi

if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$'; then
  log "rustup: adding wasm32-unknown-unknown"; rustup target add wasm32-unknown-unknown
fi

if ! have_version wasm-bindgen " $WASM_BINDGEN_VERSION" || ! have_version wasm-bindgen-test-runner " $WASM_BINDGEN_VERSION"; then
  log "cargo: installing wasm-bindgen-cli@$WASM_BINDGEN_VERSION (about 3.5 min)"
  cargo install --force wasm-bindgen-cli@"$WASM_BINDGEN_VERSION"
fi

if [ ! -x tools/node_modules/.bin/wasm-opt ] || ! tools/node_modules/.bin/wasm-opt --version | grep -q "version ${BINARYEN_VERSION%%.*}"; then
  log "npm: installing binaryen@$BINARYEN_VERSION (wasm-opt) into tools/node_modules"
  mkdir -p tools
  npm install --silent --no-audit --no-fund --prefix tools binaryen@"$BINARYEN_VERSION" >/dev/null
fi

if [ ! -x tools/node_modules/.bin/esbuild ] || [ "$(tools/node_modules/.bin/esbuild --version)" != "$ESBUILD_VERSION" ]; then
  log "npm: installing esbuild@$ESBUILD_VERSION (minifies the JS glue) into tools/node_modules"
  mkdir -p tools
  npm install --silent --no-audit --no-fund --prefix tools esbuild@"$ESBUILD_VERSION" >/dev/null
fi

# The authenticated Return URL's decrypt code in docs/api.md is run by server/tests/return_auth.rs
# with node (its crypto is built in) and python3, which needs the `cryptography` package. Any
# version: AESGCM and HKDF have been in it since 2.0, so one already installed is kept.
if ! python3 -c 'import cryptography.hazmat.primitives.ciphers.aead, cryptography.hazmat.primitives.kdf.hkdf' >/dev/null 2>&1; then
  log "pip: installing cryptography (the docs' Python decrypt code)"
  python3 -m pip install --quiet --disable-pip-version-check cryptography
fi

if ! have_version trunk "trunk $TRUNK_VERSION"; then
  log "cargo: installing trunk@$TRUNK_VERSION --locked (about 12 min on 2 cores)"
  cargo install --locked --force trunk@"$TRUNK_VERSION"
fi

if [ "$BROWSERS" = 1 ] && ! have_version geckodriver "geckodriver $GECKODRIVER_VERSION"; then
  log "cargo: installing geckodriver@$GECKODRIVER_VERSION (about 3.5 min)"
  cargo install --force geckodriver@"$GECKODRIVER_VERSION"
fi
if [ "$BROWSERS" = 1 ] && ! grep -qs "\"version\": \"$AXE_VERSION\"" tools/node_modules/axe-core/package.json; then
  log "npm: installing axe-core@$AXE_VERSION (the e2e accessibility audit) into tools/node_modules"
  mkdir -p tools
  npm install --silent --no-audit --no-fund --prefix tools axe-core@"$AXE_VERSION" >/dev/null
fi
if [ "$SERVICES" = 1 ] && ! have_version s3s-fs "s3s-fs $S3S_FS_VERSION"; then
  # A debug build: 69 s instead of 121 s on 2 cores (measured), and fast enough for the tests'
  # objects (a few hundred KB each).
  log "cargo: installing s3s-fs@$S3S_FS_VERSION (debug build, about 70 s on 2 cores)"
  cargo install --force --debug s3s-fs@"$S3S_FS_VERSION" --features binary
fi
log "tools ready"
