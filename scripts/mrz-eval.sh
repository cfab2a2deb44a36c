#!/usr/bin/env bash
# MRZ reading against generated stills (core/vision/src/mrz_eval.rs): fontdue-drawn TD1 cards and
# TD3 pages with random valid data, in perspective at 640×480 and 1920×1080, through JPEG q92,
# read with the true outline. Prints read rate with valid check digits, exact reads, character
# accuracy and ms per still (release build) per group. Not part of scripts/test.sh (which runs a
# 24-still slice, core/vision/tests/mrz_eval.rs); ~1 minute for the default 4 × 100 stills.
#
#   scripts/mrz-eval.sh [--seed N] [--count N per group] [--misses]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
cargo build -q --locked --release -p liveform-vision --features mrz-eval --bin mrz_eval
exec "${CARGO_TARGET_DIR:-target}/release/mrz_eval" "$@"
