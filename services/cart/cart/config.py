"""Cart settings: environment variables with the CART_ prefix."""

from __future__ import annotations

from kit.settings import CallerSettings, service_config
from pydantic import Field


class CartSettings(CallerSettings):
    model_config = service_config("CART_")

    service_name: str = "cart"
    port: int = 8001
    cassandra_keyspace: str = "carts"

    # Upstreams (identity and call policy come from CallerSettings).
    client_id: str = Field(default="cart", description="This service's client id")
    catalog_url: str = Field(default="http://127.0.0.1:8000", description="Catalog service")
    orders_url: str = Field(default="http://127.0.0.1:8002", description="Orders service")

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
    sweep_interval_seconds: float = Field(
        default=30.0,
        ge=0,
        description="Ask the catalog to release expired holds this often (0: never)",
    )
