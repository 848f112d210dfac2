#!/usr/bin/env bash
# Extra Debian packages of the fuzz stage only (.ci/fuzz.sh): clang and its compiler-rt (libFuzzer, sanitizers).
# Kept out of install-deps.sh so that the default set-up stays lean. Idempotent.
set -euo pipefail
packages=(clang-14 libclang-rt-14-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && { echo "install-fuzz-deps: all packages present"; exit 0; }
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-fuzz-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
