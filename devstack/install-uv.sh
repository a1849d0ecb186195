#!/usr/bin/env bash
# Installs a pinned uv binary from its PyPI wheel into a directory that is already on the
# user's PATH, so `uv` works in the same shell afterwards (no profile edits needed):
# /usr/local/bin as root, ~/.local/bin otherwise (the README says what to add then).
# `pip download` + unzip instead of `pip install`: it works on Debian's externally managed
# Python (PEP 668) and needs no virtualenv. Usage: install-uv.sh [TARGET_DIR]
set -euo pipefail
UV_VERSION="${UV_VERSION:-0.13.9}"
if [ "$(id -u)" -eq 0 ]; then default_dir=/usr/local/bin; else default_dir="$HOME/.local/bin"; fi
target_dir="${1:-$default_dir}"
cache="${PRODUCT_STORE_CACHE:-$HOME/.cache/product-store}/uv-$UV_VERSION"

# The cache is filled even when uv is already installed: the images copy uv from it.
if [ ! -x "$cache/uv" ]; then
  printf '[setup] downloading uv %s from PyPI\n' "$UV_VERSION"
  wheels="$cache.partial"
  rm -rf "$wheels" && mkdir -p "$wheels"
  python3 -m pip download --quiet --no-deps --only-binary :all: --dest "$wheels" "uv==$UV_VERSION"
  python3 - "$wheels" "$cache" <<'PY'
import sys, zipfile
from pathlib import Path
wheels, cache = Path(sys.argv[1]), Path(sys.argv[2])
wheel = next(wheels.glob("uv-*.whl"))
cache.mkdir(parents=True, exist_ok=True)
with zipfile.ZipFile(wheel) as zf:
    for name in zf.namelist():
        if "/scripts/" in name and Path(name).name in {"uv", "uvx"}:
            (cache / Path(name).name).write_bytes(zf.read(name))
            (cache / Path(name).name).chmod(0o755)
PY
  rm -rf "$wheels"
fi
if [ -x "$target_dir/uv" ] && [ "$("$target_dir/uv" --version | cut -d' ' -f2)" = "$UV_VERSION" ]; then
  exit 0
fi
mkdir -p "$target_dir"
install -m 0755 "$cache/uv" "$cache/uvx" "$target_dir/"
printf '[setup] uv %s installed in %s\n' "$UV_VERSION" "$target_dir"
