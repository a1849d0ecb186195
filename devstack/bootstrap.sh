#!/usr/bin/env bash
# Installs everything the store needs on a fresh Debian machine; quick when already done.
# Debian packages (nginx, Prometheus, Alertmanager, exporters, JDK 17, Maven, debootstrap), uv, the
# Python workspace, and Cassandra's jars from Maven Central (cached). Jaeger's Go build
# comes when something first needs it (devstack.jaeger).
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '[setup] %s\n' "$*"; }

packages=(nginx prometheus prometheus-alertmanager prometheus-nginx-exporter wrk
          openjdk-17-jre-headless maven curl ca-certificates debootstrap)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  step "installing Debian packages: ${missing[*]}"
  SUDO=$([ "$(id -u)" -eq 0 ] && echo "" || echo sudo)
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
step "Debian packages present"

# Into a directory already on PATH (/usr/local/bin as root), so the Makefile's next line and
# the user's own shell find it without any profile change.
bash devstack/install-uv.sh
command -v uv >/dev/null || export PATH="$HOME/.local/bin:$PATH"  # non-root: see the README
step "syncing the Python workspace (uv sync --frozen)"
uv sync --frozen --quiet

step "resolving Cassandra jars (cached under ${PRODUCT_STORE_CACHE:-~/.cache/product-store})"
python3 -m devstack.cassandra fetch
step "done"
