"""A gateway of our own with the rate limits lifted, in front of some services.

The stack's gateway answers 429 past 50 requests/s per client, and a benchmark or a load
test sends everything from one address: it would measure the limiter, not the store. This
is the same nginx template on a free port, under its own name, limits raised.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace

from devstack import observability as obs
from devstack.procs import free_port


@contextmanager
def lifted_gateway(
    upstreams: Mapping[str, str] | None = None, name: str = "bench-gateway"
) -> Iterator[str]:
    """The gateway's URL; `upstreams` maps service to host:port (default: the local stack)."""
    cfg = obs.Config.from_env()
    cfg = replace(
        cfg,
        gateway_port=free_port(),
        upstreams=dict(upstreams or cfg.upstreams),
        gateway_rate="100000r/s",
        gateway_burst=100000,
        gateway_auth_rate="100000r/s",
        gateway_auth_burst=100000,
    )
    proc = obs.gateway(cfg, name=name)
    proc.start()
    try:
        yield cfg.url("gateway")
    finally:
        proc.stop()
