#!/usr/bin/env bash
# Proves the test-only fault injection is absent from what ships: the server binary built
# without the `fault-injection` feature (the default, as every release build is) must not
# contain its route or its log line. The feature, not the profile, decides what is compiled in,
# so the debug profile proves it as well as `--release` would, without a second full (8-minute,
# cold) optimised build in CI. `scripts/check-release.sh --release` checks a release build.
# (server/tests/uploads.rs also checks the route answers 404 in a normal build.)
set -euo pipefail
cd "$(dirname "$0")/.."
profile=debug
if [ "${1:-}" = "--release" ]; then
  cargo build -p liveform-server --release --locked
  profile=release
else
  cargo build -p liveform-server --locked
fi
bin=target/$profile/liveform
for needle in "/api/__fault" "fault injection armed"; do
  if strings "$bin" | grep -qF "$needle"; then
    echo "check-release: $bin contains \"$needle\": fault injection leaked into a default build" >&2
    exit 1
  fi
done
# The check must be able to fail: the same strings are in a build with the feature.
echo "check-release: $bin ($profile, default features) has no fault injection"
