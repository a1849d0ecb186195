#!/usr/bin/env bash
# Install cert-manager, which k8ssandra-operator's webhooks need, into the current kube
# context and wait until its webhook answers. `make cert-manager` runs it.
#
#   CERT_MANAGER_VERSION  release to install (default below)
#   CERT_MANAGER_MANIFEST a local copy of cert-manager.yaml, for clusters without internet
#                         (the release asset, downloaded elsewhere)
# Needs kubectl on PATH (or KUBECTL=...). Nothing is downloaded on this project's build
# machines: they reach no release site, which is why the chart checks never need it.
set -euo pipefail

version="${CERT_MANAGER_VERSION:-v1.19.1}"
manifest="${CERT_MANAGER_MANIFEST:-https://github.com/cert-manager/cert-manager/releases/download/${version}/cert-manager.yaml}"
kubectl="${KUBECTL:-kubectl}"

echo "[cert-manager] applying ${manifest}"
"$kubectl" apply --server-side --force-conflicts -f "$manifest"
for deployment in cert-manager cert-manager-cainjector cert-manager-webhook; do
  echo "[cert-manager] waiting for ${deployment}"
  "$kubectl" -n cert-manager rollout status "deployment/${deployment}" --timeout=300s
done
echo "[cert-manager] ready"
