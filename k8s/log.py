"""Progress lines of the cluster's long steps: `[step] message`, flushed at once."""

from __future__ import annotations


def progress(step: str, message: str) -> None:
    print(f"[{step}] {message}", flush=True)
