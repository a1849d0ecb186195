"""Orders settings: environment variables with the ORDERS_ prefix."""

from __future__ import annotations

from kit.settings import CallerSettings
from kit.topology import TOPOLOGY
from pydantic import Field

ME = TOPOLOGY.service("orders")


class OrdersSettings(CallerSettings, env_prefix=ME.env_prefix):
    service_name: str = ME.name
    port: int = ME.port
    cassandra_keyspace: str = ME.keyspace

    # The catalog (commit and release of stock reservations); identity and call policy
    # come from CallerSettings.
    client_id: str = Field(default=ME.name, description="This service's client id")
    catalog_url: str = Field(
        default=TOPOLOGY.service("catalog").local_url, description="Catalog service"
    )
    upstream_timeout: float = Field(default=3.0, gt=0, description="Seconds per catalog call")

    # Lifecycle worker: seconds an order spends in each state before it advances.
    lifecycle_delays: dict[str, float] = Field(
        default={"pending": 30.0, "paid": 60.0, "shipped": 120.0},
        description="Seconds in pending, paid and shipped before the worker advances an order",
    )
    worker_enabled: bool = Field(default=True, description="Run the lifecycle worker here")
    worker_poll_seconds: float = Field(
        default=1.0, gt=0, description="How often the worker looks for due steps"
    )
    worker_batch: int = Field(default=100, ge=1, description="Due steps read per bucket and poll")
    worker_retry_seconds: float = Field(
        default=5.0, gt=0, description="Back-off of a step that failed (catalog down)"
    )
    schedule_buckets: int = Field(
        default=4, ge=1, le=64, description="Partitions of the schedule; never lower it"
    )

    page_size: int = Field(default=20, ge=1, le=100, description="Orders per page by default")
