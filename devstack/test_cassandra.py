"""Unit tests for the Cassandra launcher that need no JVM: rendered configs, flags, CQL probe."""

from __future__ import annotations

import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack import cassandra
from devstack.cassandra import jvm
from devstack.procs import free_port


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CASSANDRA_DATA_DIR", str(tmp_path / "node"))
    monkeypatch.setenv("CASSANDRA_CQL_PORT", "19042")
    monkeypatch.setenv("CASSANDRA_STORAGE_PORT", "17000")
    monkeypatch.setenv("CASSANDRA_METRICS_PORT", "17070")
    monkeypatch.setenv("CASSANDRA_HEAP", "512M")
    return tmp_path / "node"


def test_settings_from_env(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRODUCT_STORE_CACHE", "/cache")
    monkeypatch.setenv("CASSANDRA_JMX_PORT", " ")  # blank: the default
    s = cassandra.Settings.from_env()
    assert (s.data_dir, s.cql_port, s.storage_port, s.metrics_port) == (env, 19042, 17000, 17070)
    assert (s.jmx_port, s.heap, s.start_timeout) == (7199, "512M", 180.0)
    assert s.lib_dir == Path(f"/cache/cassandra/lib-{cassandra.CASSANDRA_VERSION}")


def test_yaml_uses_env_ports_and_data_dir(env: Path) -> None:
    cassandra.render_configs(cassandra.Settings.from_env())
    y = (env / "conf" / "cassandra.yaml").read_text()
    assert "native_transport_port: 19042" in y
    assert 'seeds: "127.0.0.1:17000"' in y
    assert f"commitlog_directory: {env / 'commitlog'}" in y
    assert "default_secondary_index: sai" in y
    assert "user_defined_functions_enabled: false" in y


def test_java_command(env: Path) -> None:
    lib = Path("/cache/lib")
    cmd = cassandra.java_command(cassandra.Settings.from_env(), Path("/jdk/bin/java"), lib)
    assert cmd[0] == "/jdk/bin/java" and cmd[-1] == "org.apache.cassandra.service.CassandraDaemon"
    assert "-XX:+AlwaysPreTouch" not in cmd  # dropped for dev speed
    assert {"-Xms512M", "-Xmx512M", "-XX:+UseG1GC", "-javaagent:/cache/lib/jamm-0.4.0.jar"} <= set(
        cmd
    )
    assert cmd[cmd.index("--add-opens") + 1].endswith("=ALL-UNNAMED")
    agent = next(a for a in cmd if "jmx_prometheus_javaagent" in a)
    assert agent.endswith(f"=127.0.0.1:17070:{env / 'conf' / 'jmx-exporter.yaml'}")


def test_render_configs_anywhere(tmp_path: Path) -> None:
    """Settings in, files out: an image build renders its own paths into a build directory."""
    settings = cassandra.Settings(data_dir=Path("/var/lib/cassandra"), host="10.1.2.3")
    written = cassandra.render_configs(settings, tmp_path / "out")
    assert [p.name for p in written] == ["cassandra.yaml", "logback.xml", "jmx-exporter.yaml"]
    assert "listen_address: 10.1.2.3" in written[0].read_text()
    assert "<file>/var/lib/cassandra/logs/system.log</file>" in written[1].read_text()
    assert "lowercaseOutputName: true" in written[2].read_text()
    assert "name: cassandra_table_$3_count" in written[2].read_text()  # exporter's own $n kept


def test_refuses_without_jdk17(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jvm, "pick_java_home", lambda quiet=False: None)
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


def test_a_node_is_found_by_its_config_flag_and_stopped(tmp_path: Path) -> None:
    """A lost or stale pid file never leaves an orphan: the node of a data dir is found in /proc
    by its exact -Dcassandra.config flag, and `stop` ends its process group."""
    settings = cassandra.Settings(data_dir=tmp_path / "node")
    other = cassandra.Settings(data_dir=tmp_path / "other")
    settings.data_dir.mkdir()
    stand_in = subprocess.Popen(  # any long-running process carrying the node's flag
        [sys.executable, "-c", "import time; time.sleep(60)", jvm.config_flag(settings)],
        start_new_session=True,
    )
    try:
        pidfile = settings.data_dir / "cassandra.pid"
        pidfile.write_text("1\n")  # stale: init is no Cassandra of ours
        assert cassandra.running_pid(settings) == stand_in.pid
        assert pidfile.read_text().strip() == str(stand_in.pid)
        assert cassandra.running_pid(other) is None
        assert not cassandra.stop(settings=other)
        assert cassandra.stop(settings=settings)
        stand_in.wait(timeout=10)  # Proc.stop reaps it already (the exit code is lost then)
        assert not Path(f"/proc/{stand_in.pid}").exists()
        assert cassandra.running_pid(settings) is None and not pidfile.exists()
    finally:
        stand_in.kill()


def test_cli_runs_on_plain_python_before_any_virtualenv(tmp_path: Path) -> None:
    """bootstrap.sh runs it with the system python3 before `uv sync`: stdlib only (-S: not
    even site-packages), from the repository root."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "CASSANDRA_CQL_PORT": str(free_port()),
        "CASSANDRA_DATA_DIR": str(tmp_path / "node"),
    }
    out = subprocess.run(
        ["python3", "-S", "-m", "devstack.cassandra", "status"],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 1, out.stderr
    assert f"down (CQL 127.0.0.1:{env['CASSANDRA_CQL_PORT']})" in out.stdout
