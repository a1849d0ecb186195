#!/bin/sh
# The gateway container: render the local stack's nginx template from the environment into
# GATEWAY_VAR (a writable emptyDir/tmpfs; the root filesystem stays read-only), then run nginx
# in the foreground the way the local stack does (devstack/observability.py gateway_argv).
# Variables left unset take the defaults in /etc/product-store/gateway.env (generated from
# devstack/observability.Config at build time); the upstreams have none and must be set.
set -eu
template=/etc/product-store/nginx.conf.template
defaults=/etc/product-store/gateway.env

names=$(grep -o '\${[A-Z][A-Z0-9_]*}' "$template" | tr -d '${}' | sort -u)
missing=""
for name in $names; do
  if eval "[ -z \"\${$name+set}\" ]"; then
    default=$(sed -n "s/^$name=//p" "$defaults")
    if [ -z "$default" ]; then missing="$missing $name"; else export "$name=$default"; fi
  fi
done
if [ -n "$missing" ]; then
  echo "gateway: no value for:$missing (set them in the environment)" >&2
  exit 64
fi

mkdir -p "$GATEWAY_VAR/tmp"
conf="$GATEWAY_VAR/nginx.conf"
# Only our UPPER_CASE placeholders: nginx's own $variables pass through untouched.
envsubst "$(printf '${%s} ' $names)" < "$template" > "$conf"
if [ "${1:-}" = "render" ]; then
  cat "$conf"
  exit 0
fi
exec nginx -p "$GATEWAY_VAR" -c "$conf" -e stderr -g "daemon off;" "$@"
