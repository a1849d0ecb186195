"""Jaeger v2 (all-in-one), built from the Go module proxy into the product-store cache.

Jaeger tags every release twice (v1.x for the module, v2.x for the product). Only the v1
tag is a valid Go module version, because the module path has no /v2 suffix, so we pin
the v1 tag of the wanted v2 release and build it from a wrapper module (devstack.gobuild)
that copies Jaeger's one replace directive.

Usage: python -m devstack.jaeger   (prints progress; no-op when the binary exists)
"""

from __future__ import annotations

from pathlib import Path

from devstack.gobuild import GoProgram, build

PRODUCT_VERSION = "v2.13.0"
JAEGER = GoProgram(
    name="jaeger",
    module="github.com/jaegertracing/jaeger",
    version="v1.76.0",  # the Go-module tag of Jaeger v2.13.0 (2025-12-03)
    package="github.com/jaegertracing/jaeger/cmd/jaeger",
    go="1.24.6",  # Jaeger's go.mod `go` line
    replaces=("github.com/Shopify/sarama => github.com/Shopify/sarama v1.33.0",),
    ldflags=(
        "-s -w -X github.com/jaegertracing/jaeger/internal/version.latestVersion=" + PRODUCT_VERSION
    ),
    release=PRODUCT_VERSION,
)


def binary() -> Path:
    """Versioned name, so bumping the pin triggers a rebuild instead of reusing a stale one."""
    return JAEGER.binary


def ensure() -> Path:
    """The Jaeger binary, built first if the cache lacks it."""
    return build(JAEGER)


if __name__ == "__main__":
    print(ensure())
