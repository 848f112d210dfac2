#!/usr/bin/env bash
# CI ThreadSanitizer stage: builds the library and the concurrency tests only (tests/encoder_concurrency_test.cpp,
# tests/concurrency_pipelines_test.cpp) with -fsanitize=thread and runs them. Any data race fails the stage.
#
# OpenMP: Debian's libgomp (and the oneDNN built on it) is not instrumented, so TSan cannot see the
# synchronization of OpenMP's own thread pool and reports false races between pool threads. The tests therefore
# run with OMP_NUM_THREADS=1: every forward() runs its OpenMP regions on the calling thread, while the test's
# std::threads still run forward() / encode() concurrently on one shared model or tokenizer - the sharing that
# bertcpp's thread-safety contract is about. No suppressions are used.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$root/build-tsan"
bash "$root/.ci/build.sh" "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBERTCPP_TSAN=ON \
     -DBERTCPP_BUILD_BENCH=OFF -DBERTCPP_BUILD_EXAMPLES=OFF
bash "$root/models/fetch_default_model.sh" >/dev/null
cd "$build"
OMP_NUM_THREADS=1 TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 history_size=4" \
  ctest --output-on-failure -j "${BERTCPP_JOBS:-$(nproc)}"
