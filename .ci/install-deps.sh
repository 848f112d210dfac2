#!/usr/bin/env bash
# Installs bertcpp's build and test dependencies from Debian packages. Idempotent: does nothing when they are
# all present. Needs root (or sudo) only when something is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache
  libdnnl-dev            # oneDNN 2.6: GEMMs
  ocl-icd-opencl-dev opencl-c-headers  # Debian's oneDNN is built with its OpenCL runtime: dnnl-config.cmake needs them
  libeigen3-dev          # fp16/bf16 conversion, small dense helpers
  nlohmann-json3-dev     # config.json, safetensors headers, tokenizer.json, CLI I/O
  libcli11-dev           # command line of the CLI
  libutf8proc-dev        # Unicode properties and normalization
  libsentencepiece-dev   # SentencePiece tokenizers
  libgtest-dev           # tests
  libbenchmark-dev       # benchmarks
  zlib1g-dev             # tests: gzip-compressed tokenizer reference outputs
  python3-venv python3-dev  # the Python package: python3 -m venv, Python.h for the extension (docs/python.md)
  unzip ca-certificates
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ! command -v python3 >/dev/null 2>&1 || ! python3 -m pip --version >/dev/null 2>&1; then
  missing+=(python3 python3-pip)
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
