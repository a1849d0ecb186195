"""Resident memory of processes over a run, sampled once a second, and CPU time, from /proc."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _family(pid: int) -> list[int]:
    """`pid` and its children (uvicorn --workers forks); [] when gone."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [pid, *(int(c) for c in children)]


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time `pid` and its children have used so far."""
    total = 0
    for p in _family(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
        except (OSError, IndexError, ValueError):
            continue
    return total / TICKS


def rss_kib(pid: int) -> int:
    """RSS of `pid` and its children, in KiB; 0 when gone."""
    total = 0
    for p in _family(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


class Sampler:
    """Samples each named process's RSS every `interval` seconds in a thread."""

    def __init__(self, pids: Mapping[str, Callable[[], int | None]], interval: float = 1.0):
        self.pids = pids
        self.interval = interval
        self.samples: dict[str, list[tuple[float, float]]] = {name: [] for name in pids}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.began = time.monotonic()
        self.marks: list[tuple[float, str]] = []

    def mark(self, label: str) -> None:
        """Note when a phase of the run begins (shown on the chart)."""
        self.marks.append((time.monotonic() - self.began, label))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            now = time.monotonic() - self.began
            for name, pid in self.pids.items():
                if (p := pid()) is not None and (kib := rss_kib(p)):
                    self.samples[name].append((now, kib / 1024))

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict[str, dict[str, float]]:
        """MiB per process: first, peak and last sample, and growth over the second half."""
        out = {}
        for name, series in self.samples.items():
            if not series:
                continue
            mib = [m for _, m in series]
            half = mib[len(mib) // 2 :]
            out[name] = {
                "start_mib": mib[0],
                "peak_mib": max(mib),
                "end_mib": mib[-1],
                "second_half_growth_mib": half[-1] - half[0],
            }
        return out
