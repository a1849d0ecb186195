#!/bin/sh
# The custom builder skaffold and Tilt use for the images whose build context `make images`
# stages itself (gateway: the nginx template and Swagger assets; cassandra: the Maven jars):
# build with the same code, then tag as the tool asks (skaffold: $IMAGE, Tilt:
# $EXPECTED_REF) and push when skaffold pushes ($PUSH_IMAGE).
#   sh k8s/build-staged-image.sh gateway|cassandra
set -eu
name="$1"
target="${IMAGE:-${EXPECTED_REF:?neither IMAGE (skaffold) nor EXPECTED_REF (Tilt) is set}}"
uv run python -m devstack.images "$name"
built=$(uv run python -m devstack.images list | grep "/$name:")
docker tag "$built" "$target"
if [ "${PUSH_IMAGE:-false}" = true ]; then docker push "$target"; fi
