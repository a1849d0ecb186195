"""Builds into the shared cache from several processes at once (`make test`'s background
builds, the tests that need kube-apiserver, a developer's `make cluster`): one builds, the
others wait for it and then find the result."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from devstack import jaeger
from k8s import addons, toolchain

WORKER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from devstack.gobuild import exclusive

    marks = Path(sys.argv[1])
    with exclusive("test-build"):
        with marks.open("a") as out:
            out.write("begin\\n")
        time.sleep(0.5)  # long enough for the other process to try the lock meanwhile
        with marks.open("a") as out:
            out.write("end\\n")
    """
)


def test_builders_of_the_same_program_take_turns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRODUCT_STORE_CACHE", str(tmp_path / "cache"))
    marks = tmp_path / "marks"
    root = Path(__file__).resolve().parents[2]
    workers = [
        subprocess.Popen([sys.executable, "-c", WORKER, str(marks)], cwd=root) for _ in range(3)
    ]
    assert [w.wait(timeout=60) for w in workers] == [0, 0, 0]
    # Never two inside at once: every begin is followed by its own end.
    assert marks.read_text().split() == ["begin", "end"] * 3


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_background_builds_stop_when_their_owner_exits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make test` starts the builds and exits early when lint fails: no compiler may be left
    running. Here the owner is a plain process and the cache is empty, so the builder is
    busy in `go` when its owner goes."""
    monkeypatch.setenv("PRODUCT_STORE_CACHE", str(tmp_path / "cache"))
    root = Path(__file__).resolve().parents[2]
    owner = subprocess.Popen(["sleep", "600"])
    log = (tmp_path / "prebuild.log").open("wb")
    builder = subprocess.Popen(
        [sys.executable, "-m", "devstack.prebuild", "run", "--owner", str(owner.pid)],
        cwd=root,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while "go mod download" not in (tmp_path / "prebuild.log").read_text():
        assert builder.poll() is None and time.monotonic() < deadline, "no build started"
        time.sleep(0.2)
    owner.kill()
    owner.wait()
    builder.wait(timeout=60)
    deadline = time.monotonic() + 30
    while _group_alive(builder.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _group_alive(builder.pid), "a compiler outlived the builder"
    assert "owner" in (tmp_path / "prebuild.log").read_text()


def test_a_warm_cache_starts_no_background_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PRODUCT_STORE_CACHE", str(tmp_path / "cache"))
    from devstack import prebuild

    every = prebuild.missing()
    assert {"helm", "kube-apiserver", "jaeger", "traefik", "coredns", "kind"} <= set(every)
    for name in every:  # what a finished cold run leaves: every binary in place
        binary = next(
            (p.binary for p in (jaeger.JAEGER, *addons.GO_PROGRAMS) if p.name == name),
            None,
        ) or toolchain.path(name)
        binary.parent.mkdir(parents=True, exist_ok=True)
        binary.touch()
    assert prebuild.missing() == []
    prebuild.start(owner=os.getpid())
    assert "every Go program the tests need is built" in capsys.readouterr().out
