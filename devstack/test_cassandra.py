"""Unit tests for the Cassandra launcher that need no JVM: config generation, flags, CQL probe."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack import cassandra


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CASSANDRA_DATA_DIR", str(tmp_path / "node"))
    monkeypatch.setenv("CASSANDRA_CQL_PORT", "19042")
    monkeypatch.setenv("CASSANDRA_STORAGE_PORT", "17000")
    monkeypatch.setenv("CASSANDRA_METRICS_PORT", "17070")
    monkeypatch.setenv("CASSANDRA_HEAP", "512M")
    return tmp_path / "node"


def test_yaml_uses_env_ports_and_data_dir(env: Path) -> None:
    y = cassandra._cassandra_yaml(cassandra.data_dir())
    assert "native_transport_port: 19042" in y
    assert 'seeds: "127.0.0.1:17000"' in y
    assert f"commitlog_directory: {env / 'commitlog'}" in y
    assert "default_secondary_index: sai" in y
    assert "user_defined_functions_enabled: false" in y


def test_java_command(env: Path) -> None:
    lib = Path("/cache/lib")
    cmd = cassandra.java_command(Path("/jdk/bin/java"), lib)
    assert cmd[0] == "/jdk/bin/java" and cmd[-1] == "org.apache.cassandra.service.CassandraDaemon"
    assert "-XX:+AlwaysPreTouch" not in cmd  # dropped for dev speed
    assert {"-Xms512M", "-Xmx512M", "-XX:+UseG1GC", "-javaagent:/cache/lib/jamm-0.4.0.jar"} <= set(
        cmd
    )
    assert cmd[cmd.index("--add-opens") + 1].endswith("=ALL-UNNAMED")
    agent = next(a for a in cmd if "jmx_prometheus_javaagent" in a)
    assert agent.endswith(f"=127.0.0.1:17070:{env / 'conf' / 'jmx-exporter.yaml'}")


def test_write_configs(env: Path) -> None:
    cassandra._write_configs(env)
    for name in ("cassandra.yaml", "logback.xml", "jmx-exporter.yaml"):
        assert (env / "conf" / name).is_file()
    assert "lowercaseOutputName: true" in (env / "conf" / "jmx-exporter.yaml").read_text()


def test_refuses_without_jdk17(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cassandra, "_pick_java_home", lambda quiet=False: None)
    with pytest.raises(cassandra.CassandraError, match="JDK 17"):
        cassandra.find_java()


def _supported_frame() -> bytes:
    def s(v: str) -> bytes:
        return struct.pack(">H", len(v)) + v.encode()

    body = struct.pack(">H", 1) + s("CQL_VERSION") + struct.pack(">H", 1) + s("3.4.7")
    return struct.pack(">BBhBi", 0x84, 0, 1, 0x06, len(body)) + body


@pytest.fixture
def fake_node(request: pytest.FixtureRequest) -> Iterator[int]:
    """A one-shot TCP server replying with the given bytes to whatever arrives."""
    reply: bytes = request.param
    srv = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = srv.accept()
        with conn:
            conn.recv(9)
            conn.sendall(reply)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield srv.getsockname()[1]
    t.join(timeout=2)
    srv.close()


@pytest.mark.parametrize("fake_node", [_supported_frame()], indirect=True)
def test_cql_options_parses_supported(fake_node: int) -> None:
    assert cassandra.cql_options(port=fake_node) == {"CQL_VERSION": ["3.4.7"]}


@pytest.mark.parametrize("fake_node", [b"HTTP/1.1 400 Bad Request\r\n\r\n"], indirect=True)
def test_is_up_false_for_non_cql_listener(fake_node: int) -> None:
    assert not cassandra.is_up(port=fake_node)


def test_is_up_false_for_closed_port() -> None:
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    assert not cassandra.is_up(port=port)
