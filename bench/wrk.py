"""wrk runs: one URL or a random pick from a list of paths per request, P50/P95/P99 out."""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.rss import cpu_seconds

# Each wrk thread loads the paths and picks one at random per request; `done` prints the
# percentiles wrk does not print by itself (P95), in microseconds.
SCRIPT = """
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
done = function(summary, latency, requests)
  for _, p in ipairs({50, 95, 99}) do
    io.write(string.format("P%d %d\\n", p, latency:percentile(p)))
  end
  io.write(string.format("ERRORS %d\\n", summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout))
end
"""


@dataclass(frozen=True)
class Result:
    name: str
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int  # non-2xx/3xx answers plus socket errors and timeouts
    requests: int
    cpu_ms_per_request: float | None = None  # the server's CPU time per answer, when known

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run(
    name: str,
    base: str,
    paths: list[str],
    duration: float,
    connections: int,
    threads: int = 2,
    server: int | None = None,
) -> Result:
    """wrk against `base` with each request's path drawn from `paths`; with the `server`'s
    pid, also its CPU time per request (steadier than req/s on a shared machine)."""
    cpu_before = cpu_seconds(server) if server else 0.0
    with tempfile.TemporaryDirectory() as tmp:
        script, listing = Path(tmp, "pick.lua"), Path(tmp, "paths.txt")
        script.write_text(SCRIPT)
        listing.write_text("\n".join(paths) + "\n")
        out = subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration:g}s", "-s", str(script),
             base],
            capture_output=True, text=True, check=True, env={"BENCH_PATHS": str(listing)},
        ).stdout  # fmt: skip
    rps = float(_find(r"Requests/sec:\s+([\d.]+)", out))
    pct = {p: int(_find(rf"^P{p} (\d+)$", out)) / 1000 for p in (50, 95, 99)}
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = int(_find(r"^ERRORS (\d+)$", out)) + (int(bad.group(1)) if bad else 0)
    requests = int(_find(r"(\d+) requests in", out))
    cpu = None
    if server and requests:
        cpu = (cpu_seconds(server) - cpu_before) * 1000 / requests
    return Result(name, rps, pct[50], pct[95], pct[99], errors, requests, cpu)


def _find(pattern: str, text: str) -> str:
    match = re.search(pattern, text, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"no {pattern!r} in wrk's output:\n{text}")
    return match.group(1)
