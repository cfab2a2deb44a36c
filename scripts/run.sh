#!/usr/bin/env bash
# Builds the SPA and starts the server with the embedded demo projects on loopback, printing
# working plain and encrypted links. Installs what is missing first (idempotent).
# LIVEFORM_ADDR overrides the address (default 127.0.0.1:8080; loopback only).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/tools/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
scripts/ensure-tools.sh
scripts/build-spa.sh
cargo build -p liveform-server --locked
exec target/debug/liveform demo --addr "${LIVEFORM_ADDR:-127.0.0.1:8080}" --dist dist
