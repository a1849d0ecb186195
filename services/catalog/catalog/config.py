"""Catalog settings: environment variables with the CATALOG_ prefix."""

from __future__ import annotations

from kit.settings import ServiceSettings
from kit.topology import TOPOLOGY
from pydantic import Field

ME = TOPOLOGY.service("catalog")


class CatalogSettings(ServiceSettings, env_prefix=ME.env_prefix):
    service_name: str = ME.name
    port: int = ME.port
    cassandra_keyspace: str = ME.keyspace

    reservation_ttl_seconds: int = Field(
        default=900, ge=1, description="How long a stock hold lives unless committed"
    )
    reservation_deadline_seconds: float = Field(
        default=15.0, gt=0, description="Give up a contended compare-and-set loop after this (503)"
    )
    list_scan_budget: int = Field(
        default=2000, ge=100, description="Listing rows one GET /products may scan"
    )
    category_cache_seconds: float = Field(
        default=5.0, ge=0, description="How long GET /categories counts are cached in-process"
    )
    sweep_interval_seconds: float = Field(
        default=30.0, ge=0, description="Release expired reservations this often (0: never)"
    )
    read_cache_seconds: float = Field(
        default=1.0,
        ge=0,
        description="How old product fields and stock shown by listings and product pages may"
        " be (catalog/readcache.py; 0: always read). Checkout always checks live stock",
    )
    sweep_batch: int = Field(default=500, ge=1, description="Expired reservations per sweep")
