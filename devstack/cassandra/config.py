"""What a node is configured with, and its config files rendered from the templates in conf/.

`render_configs` is settings in, files out: the local node renders into its data dir, an image
build can render the same files for its own paths and ports."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from devstack.templates import render

CASSANDRA_VERSION = "5.0.9"
JAMM_VERSION = "0.4.0"  # what cassandra-parent 5.0.9 pins (jamm.version); loaded as -javaagent
JMX_EXPORTER_VERSION = "1.0.1"

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = Path(__file__).resolve().parent / "conf"
CONFIG_FILES = ("cassandra.yaml", "logback.xml", "jmx-exporter.yaml")


class CassandraError(RuntimeError):
    pass


def log(msg: str) -> None:
    print(f"[cassandra] {msg}", flush=True)


@dataclass(frozen=True)
class Settings:
    """One node: where it keeps its files, its address and ports, its heap."""

    data_dir: Path = REPO_ROOT / "var" / "cassandra"  # data, commitlog, conf, logs, pid
    cache_dir: Path = Path.home() / ".cache" / "product-store" / "cassandra"  # jars, Maven
    host: str = "127.0.0.1"
    cql_port: int = 9042
    storage_port: int = 7000  # inter-node: bound, unused by a single node
    jmx_port: int = 7199  # local-only JMX (nodetool)
    metrics_port: int = 7070  # Prometheus JMX exporter
    heap: str = "1G"
    paxos_variant: str = "v1"  # lightweight transactions' protocol (conf/cassandra.yaml.template)
    start_timeout: float = 180.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        """Defaults overridden by the variables of ENV_NAMES (read on every call, so tests and
        second nodes override them per process)."""
        types = {f.name: type(getattr(cls(), f.name)) for f in fields(cls)}
        overrides: dict[str, Any] = {
            name: types[name](value)
            for name, key in ENV_NAMES.items()
            if (value := env.get(key, "").strip())
        }
        if cache := env.get("PRODUCT_STORE_CACHE", "").strip():
            overrides["cache_dir"] = Path(cache) / "cassandra"
        settings = replace(cls(), **overrides)
        return replace(settings, data_dir=settings.data_dir.resolve())

    @property
    def conf_dir(self) -> Path:
        return self.data_dir / "conf"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def lib_dir(self) -> Path:
        return self.cache_dir / f"lib-{CASSANDRA_VERSION}"


ENV_NAMES = {
    "data_dir": "CASSANDRA_DATA_DIR",
    "cql_port": "CASSANDRA_CQL_PORT",
    "storage_port": "CASSANDRA_STORAGE_PORT",
    "jmx_port": "CASSANDRA_JMX_PORT",
    "metrics_port": "CASSANDRA_METRICS_PORT",
    "heap": "CASSANDRA_HEAP",
    "paxos_variant": "CASSANDRA_PAXOS_VARIANT",
    "start_timeout": "CASSANDRA_START_TIMEOUT",
}


def render_configs(settings: Settings, dest: Path | None = None) -> list[Path]:
    """cassandra.yaml, logback.xml and jmx-exporter.yaml for `settings`, written into `dest`
    (default: the node's conf dir). The paths inside are the settings' own, not `dest`'s."""
    dest = dest or settings.conf_dir
    values = {
        "HOST": settings.host,
        "CQL_PORT": settings.cql_port,
        "STORAGE_PORT": settings.storage_port,
        "DATA_DIR": settings.data_dir,
        "LOGS_DIR": settings.logs_dir,
        "PAXOS_VARIANT": settings.paxos_variant,
    }
    return [render(TEMPLATES / f"{name}.template", dest / name, values) for name in CONFIG_FILES]
