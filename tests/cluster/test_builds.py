"""Builds into the shared cache from several processes at once (the e2e's background
compile, the tests that need kube-apiserver, a developer's `make cluster`): one builds,
the others wait for it and then find the result."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

WORKER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from k8s.gobuild import exclusive

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
