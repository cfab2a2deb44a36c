#!/usr/bin/env bash
# Coverage-guided fuzzing (issue 15): libFuzzer through libfuzzer-sys on the machine's stable
# toolchain, without cargo-fuzz (the flags below are the ones cargo-fuzz passes, minus
# AddressSanitizer, which safe Rust does not need and stable rustc does not offer).
# Targets (fuzz/fuzz_targets/): launch (link parsing + ECB/GCM decryption), media (upload sniffing,
# header sizes, bounded decoding), config (the server's TOML, its normalisers, the ID-type CSV),
# embed (the frame protocol's inbound validator), liveness (the attempt record and its verdict).
#
# Usage: scripts/fuzz.sh [--short] [TARGET...]      build, then run each target 12 s (the test step)
#        scripts/fuzz.sh --long SECONDS [TARGET...]  build, then run each target SECONDS
#        scripts/fuzz.sh --runs N [TARGET...]        build, then run each target for N inputs
#                                                    (e.g. --runs 10000000 launch, on a busy machine)
# Seeds are fuzz/seeds/<target>/ (committed; every crash found is kept there as a regression
# input); the working corpora grow in target/fuzz/corpus/<target>/, crashing inputs are written to
# target/fuzz/artifacts/<target>/ and each run's log to target/fuzz/logs/<target>.log.
# Exits non-zero if any target crashes (a panic, a failed property, a timeout or an OOM).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}

ALL=(launch media config embed liveness mrz)
SECONDS_EACH=12
RUNS=-1
MODE=short
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --short) MODE=short ;;
    --long)
      MODE=long
      SECONDS_EACH=${2:?usage: $0 --long SECONDS [TARGET...]}
      shift ;;
    --runs)
      MODE=runs
      SECONDS_EACH=0
      RUNS=${2:?usage: $0 --runs N [TARGET...]}
      shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1") ;;
  esac
  shift
done
[ ${#targets[@]} -gt 0 ] || targets=("${ALL[@]}")

host=$(rustc -vV | sed -n 's/^host: //p')
out=target/fuzz
# Coverage instrumentation as cargo-fuzz sets it; debug assertions and overflow checks on, so an
# overflow is a crash here rather than a wrapped value in production. `--target` keeps these
# flags off build scripts and proc macros.
export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cllvm-args=-sanitizer-coverage-stack-depth \
-Cdebug-assertions -Coverflow-checks"
bins=()
for t in "${targets[@]}"; do bins+=(--bin "$t"); done
build_start=$(date +%s)
cargo build --release --locked --manifest-path fuzz/Cargo.toml --target-dir "$out" --target "$host" \
  --features libfuzzer "${bins[@]}"
echo "fuzz: built in $(( $(date +%s) - build_start ))s"

bin="$out/$host/release"
mkdir -p "$out/logs"
failed=()
for t in "${targets[@]}"; do
  corpus="$out/corpus/$t"
  artifacts="$out/artifacts/$t"
  log="$out/logs/$t.log"
  mkdir -p "$corpus" "$artifacts"
  status=0
  # The first directory receives new inputs; the seeds are read only. -timeout: one input taking
  # over 10 s is a hang; -rss_limit_mb bounds memory (a decode is capped far below it).
  "$bin/$t" "$corpus" "fuzz/seeds/$t" -max_total_time="$SECONDS_EACH" -runs="$RUNS" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  if [ "$status" -eq 0 ]; then
    echo "$t: ${execs:-?} execs, ${rate:-?} execs/s, coverage ${cov:-?}, 0 crashes"
  else
    failed+=("$t")
    echo "$t: CRASH after ${execs:-?} execs (exit $status); log $log" >&2
    grep -E -A1 "panicked at" "$log" | head -4 >&2 || true
    grep -E "^SUMMARY|Test unit written to" "$log" | head -2 >&2 || true
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: crashes in ${failed[*]}; reproduce with $bin/<target> <crash file>" >&2
  exit 1
fi
if [ "$MODE" = runs ]; then
  echo "fuzz: ${#targets[@]} targets, $RUNS inputs each, no crashes"
else
  echo "fuzz: ${#targets[@]} targets, ${SECONDS_EACH}s each ($MODE), no crashes"
fi
