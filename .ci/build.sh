#!/usr/bin/env bash
# Configures and builds bertcpp. Usage: .ci/build.sh [BUILD_DIR] [extra cmake args...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build}"
shift || true
jobs="${BERTCPP_JOBS:-$(nproc)}"
launcher=()
# ccache (Debian package, installed by install-deps.sh) makes rebuilds of unchanged sources nearly free.
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
# Paths below the checkout are hashed relative to it, and the build directory is left out of the hash, so a
# clone anywhere (CI's clean clone) reuses what an earlier checkout compiled.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$root}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-true}"
# RelWithDebInfo (the sanitizer stages) with line tables only (-g1): enough for symbolized reports, and on a
# slow 2-core machine it roughly halves the assembler's share of those builds.
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" \
      -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" "$@" >/dev/null
# BERTCPP_BUILD_TARGETS="a b": build only these targets (the fresh-root CI stage builds just what the demo runs).
targets=()
if [ -n "${BERTCPP_BUILD_TARGETS:-}" ]; then
  read -r -a targets <<<"$BERTCPP_BUILD_TARGETS"
  targets=(--target "${targets[@]}")
fi
cmake --build "$build" -j "$jobs" "${targets[@]}"
