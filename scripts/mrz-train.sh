#!/usr/bin/env bash
# Trains the MRZ character classifier (core/vision/src/bin/mrz_train.rs) and writes
# core/vision/src/mrz/weights.bin. Deterministic (fixed seed, one thread): ~3–4 minutes on one
# core. OCR-B comes from Debian's fonts-ocr-b, installed here if missing.
#
#   scripts/mrz-train.sh [--seed N] [--per-class N] [--epochs N] [--hidden N] [--out PATH]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
FONT=/usr/share/fonts/opentype/ocr-b/OCRB.otf
if [ ! -f "$FONT" ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends fonts-ocr-b >/dev/null
fi
cargo build -q --locked --release -p liveform-vision --features mrz-train --bin mrz_train
exec "${CARGO_TARGET_DIR:-target}/release/mrz_train" --font "$FONT" --seed 9303 --per-class 1500 --epochs 10 "$@"
