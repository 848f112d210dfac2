#!/usr/bin/env bash
# CI: the Python package (docs/python.md). A fresh venv in build-python/venv, `pip install .[test]` (the wheel
# built by scikit-build-core from the top-level CMake project, with ccache as the compiler launcher and a build
# tree kept in build-pywheel/ so that a second run compiles nothing), then the pytest suite of python/tests.
# The library's compile commands are the same as in .ci/test's build/ (Release, same flags), so ccache serves them
# from that build and a first run compiles only the extension and nanobind.
#   BERTCPP_DEFAULT_MODEL_DIR   all-MiniLM-L6-v2 (default: models/cache/all-MiniLM-L6-v2, fetched by .ci/test)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
start=$(date +%s)
work="$root/build-python"
venv="$work/venv"

bash "$root/.ci/install-deps.sh"
rm -rf "$venv"
mkdir -p "$work"
python3 -m venv "$venv"
# The build backend and nanobind go into the venv itself (--no-build-isolation below): their paths then stay the
# same from run to run, which keeps ccache hits and the build tree valid.
"$venv/bin/pip" install --quiet "scikit-build-core>=0.10" "nanobind>=2.0"
echo "== python: venv ready in $(( $(date +%s) - start )) s"

export CMAKE_BUILD_PARALLEL_LEVEL="${BERTCPP_JOBS:-2}"
if command -v ccache >/dev/null 2>&1; then
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$root}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-true}"  # as .ci/build.sh
  export CMAKE_ARGS="${CMAKE_ARGS:-} -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache"
fi
echo "== python: pip install .[test] (build tree $root/build-pywheel)"
"$venv/bin/pip" install --quiet --no-build-isolation \
  --config-settings=build-dir="$root/build-pywheel" "$root[test]"
echo "== python: built and installed in $(( $(date +%s) - start )) s"

cd "$root"
# Test processes share the cores with the Dask workers: OpenMP threads that spin while waiting would starve them.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
"$venv/bin/python" -m pytest -q -p no:cacheprovider python/tests
echo "== python: finished in $(( $(date +%s) - start )) s"
