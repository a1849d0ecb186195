"""Settings base: every service subclasses it with its own env prefix (CATALOG_, USERS_, ...)."""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """What every service needs; subclasses set `model_config = service_config("CATALOG_")`."""

    model_config = SettingsConfigDict(extra="ignore")

    service_name: str = "service"
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"

    # Cassandra: SimpleStrategy locally, NetworkTopologyStrategy in a cluster.
    cassandra_hosts: list[str] = ["127.0.0.1"]
    cassandra_port: int = 9042
    cassandra_keyspace: str = "store"
    cassandra_replication: str = Field(
        default="SimpleStrategy:1",
        description="'SimpleStrategy:<rf>' or 'NetworkTopologyStrategy:<dc>=<rf>[,<dc>=<rf>]'",
    )
    cassandra_local_dc: str | None = None
    cassandra_username: str | None = None
    cassandra_password: str | None = None
    cassandra_request_timeout: float = 10.0
    migrate_on_start: bool = True

    # Access tokens are verified against the users service's JWKS.
    jwks_url: str = "http://127.0.0.1:8003/.well-known/jwks.json"
    jwt_issuer: str = "product-store"
    jwt_audience: str = "product-store"

    # Tracing is off unless an OTLP endpoint is set (standard OTel variable, no prefix).
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT", "otel_exporter_otlp_endpoint"),
    )

    # `?profile=1` answers with a pyinstrument report (kit/profiling.py). Never in production:
    # anyone who reaches the service could make requests slow and read its internals.
    profiling_enabled: bool = False

    # Readiness of the four services, for the gateway's aggregated /health.
    health_peers: dict[str, str] = {}


def service_config(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=prefix, extra="ignore", env_nested_delimiter="__")


class CallerSettings(ServiceSettings):
    """A service that calls others: its identity at the users service and call policy."""

    users_url: str = Field(
        default="http://127.0.0.1:8003", description="Where service tokens come from"
    )
    client_id: str = "service"
    client_secret: SecretStr | None = Field(
        default=None, description="This service's client secret at the users service"
    )
    upstream_timeout: float = Field(default=5.0, gt=0)
    upstream_retries: int = Field(default=2, ge=0)
    breaker_failure_threshold: int = Field(default=5, ge=1)
    breaker_recovery_seconds: float = Field(default=10.0, gt=0)

    @property
    def token_url(self) -> str:
        return f"{self.users_url.rstrip('/')}/oauth/token"
