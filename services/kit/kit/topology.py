"""The one topology of the store (`topology.yaml` beside this file): service names, ports,
gateway prefixes, keyspaces, env prefixes, who calls whom, image names.

    from kit.topology import TOPOLOGY
    TOPOLOGY.service("cart").port           # 8001
    TOPOLOGY.service("cart").url_env("catalog")  # "CART_CATALOG_URL"
    [s.name for s in TOPOLOGY.start_order()]    # users first: it publishes the JWKS
"""

from __future__ import annotations

import graphlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml


class TopologyError(ValueError):
    """The topology file contradicts itself (duplicate port, unknown upstream, ...)."""


@dataclass(frozen=True)
class Service:
    name: str
    port: int
    prefix: str  # gateway prefix without trailing slash: "/cart-api"
    keyspace: str
    env_prefix: str  # "CART_"
    calls: tuple[str, ...]  # names of the services whose API it uses
    image: str  # repository without tag: "product-store/cart"

    @property
    def local_url(self) -> str:
        """Where it listens in the local process stack."""
        return f"http://127.0.0.1:{self.port}"

    def env(self, setting: str) -> str:
        """Its variable for a setting: env("catalog_url") is CART_CATALOG_URL for cart."""
        return f"{self.env_prefix}{setting.upper()}"

    def url_env(self, called: str) -> str:
        """The variable holding the base URL of a service it calls."""
        return self.env(f"{called}_url")


@dataclass(frozen=True)
class Gateway:
    port: int
    image: str


@dataclass(frozen=True)
class Topology:
    services: Mapping[str, Service]  # in file order
    gateway: Gateway
    token_issuer: str  # signs tokens; every service reads its JWKS
    images: str  # image repository prefix: "product-store"

    def __iter__(self) -> Iterator[Service]:
        return iter(self.services.values())

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.services)

    def service(self, name: str) -> Service:
        try:
            return self.services[name]
        except KeyError:
            raise KeyError(
                f"no service {name!r} in the topology ({', '.join(self.names)})"
            ) from None

    @property
    def issuer(self) -> Service:
        return self.services[self.token_issuer]

    def start_order(self) -> tuple[Service, ...]:
        """The token issuer first, then every service after the ones it calls."""
        graph = {s.name: {*s.calls, self.token_issuer} - {s.name} for s in self}
        return tuple(self.services[n] for n in graphlib.TopologicalSorter(graph).static_order())

    def callers_of(self, name: str) -> tuple[Service, ...]:
        return tuple(s for s in self if name in s.calls)


def parse(data: Mapping[str, Any]) -> Topology:
    """Build and check a topology from the YAML's mapping."""
    images = str(data["images"])
    services: dict[str, Service] = {}
    for name, spec in data["services"].items():
        services[name] = Service(
            name=name,
            port=int(spec["port"]),
            prefix=str(spec["prefix"]),
            keyspace=str(spec["keyspace"]),
            env_prefix=str(spec["env_prefix"]),
            calls=tuple(spec.get("calls") or ()),
            image=f"{images}/{name}",
        )
    gateway = Gateway(port=int(data["gateway"]["port"]), image=f"{images}/gateway")
    topology = Topology(services, gateway, str(data["token_issuer"]), images)
    check(topology)
    return topology


def _unique(what: str, values: list[Any]) -> None:
    if duplicates := sorted({str(v) for v in values if values.count(v) > 1}):
        raise TopologyError(f"duplicate {what}: {', '.join(duplicates)}")


def check(topology: Topology) -> None:
    """Raise TopologyError naming the first contradiction."""
    services = list(topology)
    _unique("port", [s.port for s in services] + [topology.gateway.port])
    _unique("prefix", [s.prefix for s in services])
    _unique("keyspace", [s.keyspace for s in services])
    _unique("env_prefix", [s.env_prefix for s in services])
    if topology.token_issuer not in topology.services:
        raise TopologyError(f"token_issuer {topology.token_issuer!r} is not a service")
    for s in services:
        if not (s.prefix.startswith("/") and not s.prefix.endswith("/") and len(s.prefix) > 1):
            raise TopologyError(f"{s.name}: prefix {s.prefix!r} must be /name, no trailing slash")
        if not (s.env_prefix.isupper() and s.env_prefix.endswith("_")):
            raise TopologyError(f"{s.name}: env_prefix {s.env_prefix!r} must be UPPER_")
        if not 0 < s.port < 65536:
            raise TopologyError(f"{s.name}: port {s.port} out of range")
        for called in s.calls:
            if called not in topology.services or called == s.name:
                raise TopologyError(f"{s.name} calls {called!r}, which is no other service")
    try:
        topology.start_order()
    except graphlib.CycleError as exc:
        raise TopologyError(f"services call each other in a cycle: {exc.args[1]}") from None


def load() -> Topology:
    text = resources.files("kit").joinpath("topology.yaml").read_text()
    return parse(yaml.safe_load(text))


TOPOLOGY = load()
