#!/usr/bin/env bash
# The document gate against its generated evaluation corpus (issue 19; core/vision/src/corpus.rs):
# per-issue precision and recall of the primary hint, outline IoU, the auto-capture rate of good
# stills and the false auto-capture rate of defective ones, per background family. Not part of
# scripts/test.sh (which runs a 60-still slice: core/vision/tests/corpus_slice.rs); about 5–8
# minutes for the default 2200 stills (11 000 frames) on this 2-core machine.
#
#   scripts/corpus.sh [--seed N] [--count N] [--split tune|holdout] [--misses] [--dump DIR]
#                     [--scene I] [--diagnose]
#
# Tune thresholds on `--split tune`; report on the default held-out split, whose background
# instances tuning never saw. --misses lists every still the gate got wrong, --dump DIR writes
# each still's first frame as PGM, --scene I prints one still's outlines frame by frame (and where
# the detector lost the document on each), --diagnose counts per family where the detector lost the
# document of each good still (true sides missing among the Hough lines, the true quad rejected by
# a check, or not chosen); with --misses it lists them, and DIAG_SIDES=1 prints the missing sides'
# nearest lines and the steps of a wrongly chosen outline's sides.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
cargo build -q --locked --release -p liveform-vision --features corpus --bin corpus
exec "${CARGO_TARGET_DIR:-target}/release/corpus" "$@"
