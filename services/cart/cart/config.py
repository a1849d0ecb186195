"""Cart settings: environment variables with the CART_ prefix."""

from __future__ import annotations

from kit.settings import CallerSettings
from kit.topology import TOPOLOGY
from pydantic import Field

ME = TOPOLOGY.service("cart")


class CartSettings(CallerSettings, env_prefix=ME.env_prefix):
    service_name: str = ME.name
    port: int = ME.port
    cassandra_keyspace: str = ME.keyspace

    # Upstreams (identity and call policy come from CallerSettings).
    client_id: str = Field(default=ME.name, description="This service's client id")
    catalog_url: str = Field(
        default=TOPOLOGY.service("catalog").local_url, description="Catalog service"
    )
    orders_url: str = Field(
        default=TOPOLOGY.service("orders").local_url, description="Orders service"
    )

    # Carts.
    cart_ttl_seconds: int = Field(
        default=30 * 24 * 3600, ge=60, description="An untouched cart expires after this"
    )
    max_lines: int = Field(default=100, ge=1, le=100, description="Distinct products per cart")
    max_quantity: int = Field(default=1000, ge=1, description="Units of one product per cart")

    # Checkout.
    reservation_ttl_seconds: int = Field(
        default=900,
        ge=1,
        description="Stock holds of a checkout expire after this unless committed",
    )
    idempotency_ttl_seconds: int = Field(
        default=24 * 3600, ge=60, description="How long an Idempotency-Key is remembered"
    )
    checkout_lease_seconds: float = Field(
        default=60.0, gt=0, description="An unfinished checkout owns its key this long"
    )
    replay_wait_seconds: float = Field(
        default=15.0, ge=0, description="A duplicate of a running checkout waits this long for it"
    )
