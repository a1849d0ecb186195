"""Where the store is: one gateway URL, or each service's own URL (a stack without gateway).

    STORE_GATEWAY_URL=http://127.0.0.1:8080          # or locust --host
    STORE_CATALOG_URL=http://127.0.0.1:8000 ...      # per service, overriding the gateway

Through the gateway each service sits under its public prefix (`/api/` for the catalog ...,
from the store's one topology, kit/topology.yaml); a service's own URL serves the same
paths without it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from kit.topology import TOPOLOGY


@dataclass(frozen=True)
class Hosts:
    """Base URL of each service; a request goes to `hosts.catalog + "/products"`."""

    catalog: str
    cart: str
    orders: str
    users: str

    @classmethod
    def from_env(cls, default_gateway: str | None, env: Mapping[str, str] = os.environ) -> Hosts:
        gateway = env.get("STORE_GATEWAY_URL") or default_gateway
        urls = {}
        for name in cls.__dataclass_fields__:
            service = TOPOLOGY.service(name)
            direct = env.get(f"STORE_{name.upper()}_URL")
            if direct:
                urls[name] = direct.rstrip("/")
            elif gateway:
                urls[name] = gateway.rstrip("/") + service.prefix
            else:
                raise SystemExit(
                    f"no URL for {name}: set STORE_GATEWAY_URL (or locust --host), "
                    f"or STORE_{name.upper()}_URL"
                )
        return cls(**urls)
