#!/bin/sh
# Installed as /usr/local/sbin/runc by devstack/docker.py (ahead of /usr/sbin on dockerd's
# PATH) on hosts whose root lacks CAP_SYS_RESOURCE in its capability bounding set: Docker
# asks for it in privileged containers (kind's node) and runc then fails with "unable to
# apply caps: operation not permitted". Drop it from the OCI spec runc is handed (the
# bundle's config.json, or the --process file of `exec`) and run the real runc.
set -e
bundle=""; process=""; prev=""
for arg in "$@"; do
  case "$prev" in --bundle|-b) bundle="$arg" ;; --process|-p) process="$arg" ;; esac
  case "$arg" in --bundle=*) bundle="${arg#--bundle=}" ;; --process=*) process="${arg#--process=}" ;; esac
  prev="$arg"
done
drop='walk(if type == "array" then map(select(. != "CAP_SYS_RESOURCE")) else . end)'
for spec in "${bundle:+$bundle/config.json}" "$process"; do
  if [ -n "$spec" ] && [ -f "$spec" ]; then
    jq "$drop" "$spec" > "$spec.tmp" && mv "$spec.tmp" "$spec"
  fi
done
exec /usr/sbin/runc "$@"
