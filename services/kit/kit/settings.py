"""Settings base: every service subclasses it with its own env prefix (CATALOG_, USERS_, ...)."""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from kit.topology import TOPOLOGY

ISSUER = TOPOLOGY.issuer.local_url  # the local default; a cluster sets the URLs


class ServiceSettings(BaseSettings):
    """What every service needs. A service subclasses it with its env prefix and its
    topology defaults: `class CartSettings(CallerSettings, env_prefix=ME.env_prefix)`."""

    model_config = SettingsConfigDict(extra="ignore", env_nested_delimiter="__")

    service_name: str = Field(default="service", description="Name in logs, metrics and traces")
    host: str = Field(default="127.0.0.1", description="Address the HTTP server binds")
    # Each service defaults to its port in kit/topology.yaml.
    port: int = Field(default=0, description="Port the HTTP server listens on")
    log_level: str = Field(default="INFO", description="Python logging level")

    # Cassandra: SimpleStrategy locally, NetworkTopologyStrategy in a cluster.
    cassandra_hosts: list[str] = Field(
        default=["127.0.0.1"], description="Contact points, a JSON list"
    )
    cassandra_port: int = Field(default=9042, description="CQL native port")
    cassandra_keyspace: str = Field(
        default="store", description="Keyspace this service owns (created by migrations)"
    )
    cassandra_replication: str = Field(
        default="SimpleStrategy:1",
        description="'SimpleStrategy:<rf>' or 'NetworkTopologyStrategy:<dc>=<rf>[,<dc>=<rf>]'",
    )
    cassandra_local_dc: str | None = Field(
        default=None, description="Datacenter the driver prefers (DC-aware load balancing)"
    )
    cassandra_username: str | None = Field(default=None, description="CQL user (none: no auth)")
    cassandra_password: str | None = Field(default=None, description="CQL password")
    cassandra_request_timeout: float = Field(
        default=10.0, description="Seconds before a CQL request times out"
    )
    cassandra_rebuild_after: float = Field(
        default=10.0,
        gt=0,
        description="Seconds of 'no host available' before the driver is rebuilt, resolving "
        "the contact points again (a recreated Cassandra pod has a new address)",
    )
    migrate_on_start: bool = Field(
        default=True, description="Apply pending .cql migrations at startup"
    )

    # Access tokens are verified against the users service's JWKS.
    jwks_url: str = Field(
        default=f"{ISSUER}/.well-known/jwks.json",
        description="JWKS of the users service, to verify access tokens",
    )
    jwt_issuer: str = Field(default="product-store", description="Required `iss` claim")
    jwt_audience: str = Field(default="product-store", description="Required `aud` claim")

    # Tracing is off unless an OTLP endpoint is set (standard OTel variable, no prefix).
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP endpoint of the trace collector (unset: no tracing)",
        validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT", "otel_exporter_otlp_endpoint"),
    )

    metrics_enabled: bool = Field(
        default=True,
        description="Serve HTTP metrics at `/metrics`; off only to measure their cost (make bench)",
    )

    # `?profile=1` answers with a pyinstrument report (kit/profiling.py). Never in production:
    # anyone who reaches the service could make requests slow and read its internals.
    profiling_enabled: bool = Field(
        default=False, description="Answer `?profile=1` with a pyinstrument report"
    )

    # Readiness of the four services, for the gateway's aggregated /health.
    health_peers: dict[str, str] = Field(
        default={}, description="JSON {service: readiness URL} for /health/aggregate"
    )


class CallerSettings(ServiceSettings):
    """A service that calls others: its identity at the users service and call policy."""

    users_url: str = Field(default=ISSUER, description="Where service tokens come from")
    client_id: str = Field(default="service", description="This service's client id")
    client_secret: SecretStr | None = Field(
        default=None, description="This service's client secret at the users service"
    )
    upstream_timeout: float = Field(default=5.0, gt=0, description="Seconds per upstream call")
    upstream_retries: int = Field(
        default=2, ge=0, description="Retries of an idempotent upstream call"
    )
    breaker_failure_threshold: int = Field(
        default=5, ge=1, description="Consecutive failures that open the circuit breaker"
    )
    breaker_recovery_seconds: float = Field(
        default=10.0, gt=0, description="Open breaker lets one trial call through after this"
    )

    @property
    def token_url(self) -> str:
        return f"{self.users_url.rstrip('/')}/oauth/token"
