"""Typed views of the two custom resources' specs (the CRDs in charts/operator/crds/ refuse
most bad specs; these views turn the rest into a clear reason for a status condition)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

SpecT = TypeVar("SpecT", bound=BaseModel)

GROUP = "productstore.io"
VERSION = "v1alpha1"
MANAGED_BY = "store-operator"

# Shortest rotation interval accepted (also in the CRD): keeps the API server and the
# services' key reloads (every few seconds) ahead of the rotations.
MIN_ROTATION_INTERVAL = timedelta(seconds=5)

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


class SpecError(ValueError):
    """A spec the operator cannot act on; the message is the condition's text."""


def parse_duration(text: object) -> timedelta:
    """A Go-style duration such as "24h", "1h30m", "90s", "500ms" (what CEL's duration()
    reads in the CRD's rules)."""
    if isinstance(text, timedelta):
        return text
    if not isinstance(text, str) or not re.fullmatch(rf"(?:{_DURATION.pattern})+", text):
        raise ValueError(f"{text!r} is not a duration such as 90s, 15m or 1h30m")
    return timedelta(seconds=sum(float(n) * _UNITS[unit] for n, unit in _DURATION.findall(text)))


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class _Spec(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class RingSpec(_Spec):
    """SigningKeyRing.spec."""

    secret_name: str | None = None  # default: the resource's name
    algorithm: Literal["EdDSA"] = "EdDSA"  # the users service signs with Ed25519
    rotation_interval: Duration = timedelta(hours=24)
    access_token_lifetime: Duration = timedelta(minutes=15)
    # How long a Secret update takes to reach every mounted volume (kubelet sync period
    # plus its cache) plus the services' reload interval.
    propagation_delay: Duration = timedelta(minutes=2)
    grace_period: Duration = timedelta(minutes=30)

    @model_validator(mode="after")
    def _consistent(self) -> RingSpec:
        if self.rotation_interval < MIN_ROTATION_INTERVAL:
            raise ValueError(f"rotationInterval must be at least {MIN_ROTATION_INTERVAL}")
        if self.rotation_interval <= self.propagation_delay:
            raise ValueError("rotationInterval must be longer than propagationDelay")
        if self.grace_period < self.access_token_lifetime + self.propagation_delay:
            raise ValueError("gracePeriod must be at least accessTokenLifetime + propagationDelay")
        return self


class ServiceRef(_Spec):
    name: str
    port: int = Field(ge=1, le=65535)
    namespace: str | None = None


class CatalogRef(_Spec):
    """Which catalog: a Service in the cluster, or a URL (tests, external catalogs)."""

    service: ServiceRef | None = None
    url: str | None = None

    @model_validator(mode="after")
    def _one(self) -> CatalogRef:
        if (self.service is None) == (self.url is None):
            raise ValueError("catalog needs exactly one of service or url")
        return self

    def base_url(self, namespace: str) -> str:
        if self.url:
            return self.url.rstrip("/")
        assert self.service is not None
        service_namespace = self.service.namespace or namespace
        return f"http://{self.service.name}.{service_namespace}.svc:{self.service.port}"


class Identity(_Spec):
    """The service identity that may write products: a client-credentials client of the
    users service whose id and secret are in a Secret of the resource's namespace."""

    token_url: str
    secret_name: str
    client_id_key: str = "client-id"
    client_secret_key: str = "client-secret"


class Generator(_Spec):
    count: int = Field(ge=1, le=1_000_000)
    seed: int = 42


class ConfigMapSource(_Spec):
    name: str
    key: str = "products.json"


class SeedSpec(_Spec):
    """CatalogSeed.spec: the built-in generator or products from a ConfigMap."""

    catalog: CatalogRef
    identity: Identity
    generator: Generator | None = None
    config_map: ConfigMapSource | None = None
    batch_size: int = Field(default=200, ge=1, le=1000)

    @model_validator(mode="after")
    def _one_source(self) -> SeedSpec:
        if (self.generator is None) == (self.config_map is None):
            raise ValueError("a CatalogSeed needs exactly one of generator or configMap")
        return self


def parse(model: type[SpecT], spec: Mapping[str, Any]) -> SpecT:
    """`model` from a resource's spec, or SpecError naming each bad field."""
    try:
        return model.model_validate(dict(spec))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'spec'}: {error['msg']}"
            for error in exc.errors()
        )
        raise SpecError(problems) from exc
