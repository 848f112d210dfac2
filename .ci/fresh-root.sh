#!/usr/bin/env bash
# Fresh-machine check: proves the README's set-up on a brand-new Debian 12 (bookworm) system.
#
# Makes a minimal root with mmdebstrap (--variant=minbase; the tarball is cached in build-fresh-root/ and reused
# while it is younger than a day), unpacks it fresh, copies the committed tree in (git archive HEAD: uncommitted
# changes are not tested) and, chrooted into it, runs the demo's steps: .ci/install-deps.sh, configure + build
# of the `bertcpp` CLI and example_similarity (.ci/build.sh; tests and benchmarks off to keep CI short), the
# default model fetch, the similarity table (checked) and one CLI call. A package missing from
# .ci/install-deps.sh makes one of these steps fail, and so this script.
#
#   .ci/fresh-root.sh                  the CI stage (called by .ci/run)
#   .ci/fresh-root.sh bash .ci/test    any command instead, run from the tree's top in a fresh root
#
# Needs root (mmdebstrap, mount, chroot); installs mmdebstrap on this host when it is missing. The root gets this
# host's network settings, as a user's own machine would have them: /etc/resolv.conf, the CA bundle (and local
# CAs), /etc/pip.conf, PIP_* and proxy variables. The host's ccache directory is bind-mounted into the root so
# that repeated runs compile little (BERTCPP_FRESH_ROOT_CCACHE=0: a root with an empty cache).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

say() { echo "== fresh-root: $*"; }
fail() { printf 'fresh-root: FAILED: %s\n' "$1" >&2; [ $# -lt 2 ] || printf '  %s\n' "${@:2}" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "needs root (mmdebstrap, mount, chroot)"
# Everything mounted below lives in a private mount namespace: it vanishes with this script, however it ends.
if [ -z "${BERTCPP_FRESH_ROOT_NS:-}" ]; then
  BERTCPP_FRESH_ROOT_NS=1 exec unshare --mount --propagation private bash "${BASH_SOURCE[0]}" "$@"
fi

work="$root/build-fresh-root"       # git-ignored (/build*/)
tarball="$work/bookworm-minbase.tar"
fresh="$work/root"                  # the unpacked root, left in place after a run for inspection
src=/root/bertcpp                   # where the tree goes inside the root
start=$(date +%s)
mkdir -p "$work"

if ! command -v mmdebstrap >/dev/null 2>&1; then
  say "installing mmdebstrap on this host"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap
fi

# ---- the minimal root, cached for a day ------------------------------------------------------------------------
if [ -z "$(find "$tarball" -maxdepth 0 -mmin -1440 2>/dev/null)" ]; then
  say "making a minimal Debian 12 root with mmdebstrap"
  rm -f "$work/partial.tar"
  nice -n 19 mmdebstrap --variant=minbase --quiet bookworm "$work/partial.tar" \
    "deb http://deb.debian.org/debian bookworm main" \
    "deb http://deb.debian.org/debian bookworm-updates main" \
    "deb http://deb.debian.org/debian-security bookworm-security main"
  mv "$work/partial.tar" "$tarball"
  say "root made in $(( $(date +%s) - start )) s"
else
  say "reusing $tarball (made $(date -r "$tarball" '+%F %T'))"
fi

if findmnt -rn -o TARGET | grep -q "^$fresh"; then
  fail "something is still mounted under $fresh; unmount it first"
fi
rm -rf --one-file-system "$fresh"
mkdir -p "$fresh"
tar -C "$fresh" -xf "$tarball"

# ---- the tree and this host's network settings ------------------------------------------------------------------
git -C "$root" diff --quiet HEAD -- || say "note: uncommitted changes are not copied in; testing HEAD only"
say "copying in $(git -C "$root" rev-parse --short HEAD) (git archive HEAD) to $src"
mkdir -p "$fresh$src"
git -C "$root" archive HEAD | tar -x -C "$fresh$src"

cp -L /etc/resolv.conf "$fresh/etc/resolv.conf"
mkdir -p "$fresh/etc/ssl/certs" "$fresh/usr/local/share/ca-certificates"
cp -L /etc/ssl/certs/ca-certificates.crt "$fresh/etc/ssl/certs/ca-certificates.crt"
# Local CAs too: installing ca-certificates in the root rebuilds the bundle from them.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp -L /usr/local/share/ca-certificates/*.crt "$fresh/usr/local/share/ca-certificates/"
fi
[ -f /etc/pip.conf ] && cp -L /etc/pip.conf "$fresh/etc/pip.conf"

# A clean login-like environment: nothing from this host's shell leaks in but the network settings.
root_env=(HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TERM=dumb)
while IFS= read -r var; do root_env+=("$var"); done < <(env | grep -E '^(PIP_|https?_proxy=|no_proxy=|HTTPS?_PROXY=|NO_PROXY=)' || true)
[ -n "${BERTCPP_JOBS:-}" ] && root_env+=("BERTCPP_JOBS=$BERTCPP_JOBS")

# ---- mounts (private namespace; unmounted on exit as well) -------------------------------------------------------
cleanup() {
  for m in "$fresh/root/.cache/ccache" "$fresh/sys" "$fresh/dev" "$fresh/proc"; do
    mountpoint -q "$m" 2>/dev/null && umount -R "$m" || true
  done
}
trap cleanup EXIT
mount -t proc proc "$fresh/proc"
mount --rbind /dev "$fresh/dev"
mount -t sysfs sysfs "$fresh/sys"
if [ "${BERTCPP_FRESH_ROOT_CCACHE:-1}" != 0 ]; then
  host_ccache="${CCACHE_DIR:-$(ccache -k cache_dir 2>/dev/null || echo "$HOME/.cache/ccache")}"
  mkdir -p "$host_ccache" "$fresh/root/.cache/ccache"
  mount --bind "$host_ccache" "$fresh/root/.cache/ccache"
  root_env+=(CCACHE_DIR=/root/.cache/ccache "CCACHE_BASEDIR=$src")
  say "compiler cache: $host_ccache (bind-mounted)"
fi

# in_root STEP COMMAND...: runs COMMAND from the tree's top inside the root; a failure names the step.
in_root() {
  local step="$1" t0
  shift
  say "$step"
  t0=$(date +%s)
  if ! nice -n 19 env -i "${root_env[@]}" chroot "$fresh" /bin/bash -c 'cd "$0" && exec "$@"' "$src" "$@"; then
    fail "step '$step' failed in a fresh Debian 12 root (output above)." \
         "Stopped at a missing package, header, library or command? Then .ci/install-deps.sh lacks it."
  fi
  say "$step: $(( $(date +%s) - t0 )) s"
}

if [ $# -gt 0 ]; then
  in_root "$*" "$@"
  say "done in $(( $(date +%s) - start )) s"
  exit 0
fi

in_root "install dependencies (.ci/install-deps.sh)" bash .ci/install-deps.sh
in_root "configure + build bertcpp CLI and example_similarity (.ci/build.sh)" \
  env BERTCPP_BUILD_TARGETS="bertcpp_cli example_similarity" \
  bash .ci/build.sh build -DBERTCPP_BUILD_TESTS=OFF -DBERTCPP_BUILD_BENCH=OFF
in_root "fetch the default model" bash models/fetch_default_model.sh
in_root "the demo's main job (example_similarity)" \
  bash -o pipefail -c 'build/examples/example_similarity models/cache/all-MiniLM-L6-v2 | tee /tmp/similarity.txt'
in_root "the bertcpp CLI (embed)" \
  bash -o pipefail -c 'echo "{\"text\": \"A man is eating food.\"}" | build/examples/bertcpp embed -m models/cache/all-MiniLM-L6-v2 \
           --precision 4 | tee /tmp/embed.jsonl | cut -c1-80'

# The table: 7 default sentences, a 7 x 7 cosine matrix with 1.000 on the diagonal, and the first sentence closer
# to its paraphrase ([1], bread) than to an unrelated one ([2], a movie).
awk '
  BEGIN { rows = 0 }
  /^cosine similarity$/ { table = 1; next }
  table && /^\[[0-9]+\] / { n = 0
    for (f = 2; f <= NF; ++f) { sim[rows, n++] = $f }
    if (n != 7) bad = bad " row " rows " has " n " columns;"
    rows++ }
  END {
    if (rows != 7) bad = bad " " rows " rows instead of 7;"
    for (i = 0; i < rows; ++i) if (sim[i, i] + 0 < 0.999 || sim[i, i] + 0 > 1.001) bad = bad " diagonal [" i "] is " sim[i, i] ";"
    if (!(sim[0, 1] + 0 > sim[0, 2] + 0)) bad = bad " [0]~[1] " sim[0, 1] " is not above [0]~[2] " sim[0, 2] ";"
    if (bad != "") { print "similarity table wrong:" bad > "/dev/stderr"; exit 1 }
  }' "$fresh/tmp/similarity.txt" || fail "the similarity table printed in the fresh root is missing or wrong"
grep -q '^{"embedding":\[' "$fresh/tmp/embed.jsonl" || fail "bertcpp embed printed no embedding in the fresh root"
say "similarity table and CLI output checked; done in $(( $(date +%s) - start )) s"
