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
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" "$@" >/dev/null
# BERTCPP_BUILD_TARGETS="a b": build only these targets (the fresh-root CI stage builds just what the demo runs).
targets=()
if [ -n "${BERTCPP_BUILD_TARGETS:-}" ]; then
  read -r -a targets <<<"$BERTCPP_BUILD_TARGETS"
  targets=(--target "${targets[@]}")
fi
cmake --build "$build" -j "$jobs" "${targets[@]}"
