#!/usr/bin/env bash
# Proves the test-only fault injection is absent from a release build of the server: the binary
# built without the `fault-injection` feature must not contain its route or its log line.
# (tests/uploads.rs checks the route answers 404 in a normal test build, too.)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -p liveform-server --release --locked
bin=target/release/liveform
for needle in "/api/__fault" "fault injection armed"; do
  if strings "$bin" | grep -qF "$needle"; then
    echo "check-release: $bin contains \"$needle\": fault injection leaked into a release build" >&2
    exit 1
  fi
done
echo "check-release: $bin has no fault injection"
