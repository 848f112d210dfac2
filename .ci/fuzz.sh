#!/usr/bin/env bash
# CI fuzz stage: builds the libFuzzer targets of tests/fuzz with clang (ASan + UBSan) and runs each for a short,
# bounded time on its seeds plus the full fixture files. A crash fails the stage and leaves the input in
# build-fuzz/artifacts/<target>/; add it to tests/fuzz/regressions/<target>/ once fixed (docs/reliability.md).
#
#   .ci/fuzz.sh [SECONDS_PER_TARGET]   (default 20; FUZZ_RUNS=N runs N inputs per target instead;
#                                       "build" only builds; FUZZ_TARGETS="a b" runs only those targets)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-20}"
build="$root/build-fuzz"
bash "$root/.ci/install-fuzz-deps.sh"
# clang's own OpenMP runtime (libomp) is not installed: use GCC's libgomp, which oneDNN already links.
# Its omp.h sits among GCC's intrinsics headers, which clang must not see: expose it alone, through a shim that
# hides the GCC-only __malloc__(deallocator) attribute from clang.
gomp="$(g++ -print-file-name=libgomp.so)"
mkdir -p "$build/omp-include"
shim="$(printf '#pragma once\n#define __malloc__(...) __malloc__\n#include "%s"\n#undef __malloc__' \
  "$(dirname "$gomp")/include/omp.h")"
# Rewritten only when it changes: a new mtime would rebuild everything that includes it.
[ "$(cat "$build/omp-include/omp.h" 2>/dev/null)" = "$shim" ] || printf '%s\n' "$shim" > "$build/omp-include/omp.h"
CC=clang-14 CXX=clang++-14 bash "$root/.ci/build.sh" "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBERTCPP_FUZZ=ON \
     -DBERTCPP_BUILD_TESTS=OFF -DBERTCPP_BUILD_BENCH=OFF -DBERTCPP_BUILD_EXAMPLES=OFF \
     -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
     -DOpenMP_CXX_FLAGS="-fopenmp=libgomp -isystem $build/omp-include" -DOpenMP_CXX_LIB_NAMES=gomp -DOpenMP_gomp_LIBRARY="$gomp"
[ "$seconds" = "build" ] && exit 0

data="$root/tests/data"
extra_seeds() {  # the full fixture files, too big to commit twice as seeds
  case "$1" in
    safetensors_header) echo "$data"/encoder/bert_h48_gelu_f32/model.safetensors ;;
    tokenizer_json) echo "$data"/tokenizer/wordpiece/tokenizer.json "$data"/tokenizer/roberta/tokenizer.json ;;
    vocab_txt) echo "$data"/tokenizer/wordpiece/vocab.txt ;;
    sentencepiece_model) echo "$data"/tokenizer/albert/spiece.model "$data"/tokenizer/xlmr/sentencepiece.bpe.model ;;
  esac
}

targets=(safetensors_header config_json st_modules tokenizer_json vocab_txt bpe_files sentencepiece_model
         cli_records encode_wordpiece encode_bpe encode_sentencepiece)
[ -n "${FUZZ_TARGETS:-}" ] && read -r -a targets <<< "$FUZZ_TARGETS"
for t in "${targets[@]}"; do
  corpus="$build/corpus/$t"
  artifacts="$build/artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  cp -n "$root/tests/fuzz/seeds/$t"/* "$corpus"/ 2>/dev/null || true
  for f in $(extra_seeds "$t"); do cp -n "$f" "$corpus/full_$(basename "$f")"; done
  [ -d "$root/tests/fuzz/regressions/$t" ] && cp -n "$root/tests/fuzz/regressions/$t"/* "$corpus"/ 2>/dev/null || true
  limit=(-max_total_time="$seconds")
  [ -n "${FUZZ_RUNS:-}" ] && limit=(-runs="$FUZZ_RUNS")
  echo "== fuzz $t (${FUZZ_RUNS:+$FUZZ_RUNS runs}${FUZZ_RUNS:-$seconds s})"
  # -rss_limit_mb: an input that makes a loader allocate without bound is a finding, not an OOM of the runner.
  ASAN_OPTIONS=detect_leaks=1 OMP_NUM_THREADS=1 "$build/tests/fuzz/fuzz_$t" "${limit[@]}" -max_len=65536 \
      -rss_limit_mb=2048 -timeout=30 -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" 2>&1 |
    grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==ERROR|SUMMARY|fuzz invariant|Test unit written|INFO: Loaded)" || true
  if ls "$artifacts"/crash-* "$artifacts"/leak-* "$artifacts"/timeout-* "$artifacts"/oom-* >/dev/null 2>&1; then
    echo "fuzz $t: findings in $artifacts" >&2
    exit 1
  fi
done
