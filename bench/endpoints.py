"""HTTP benchmarks of the running local stack with wrk, measured side by side in one run.

    uv run python -m bench.endpoints [--duration 10] [--connections 16]

Prints requests/s and latency percentiles per endpoint, and each one's ratio to the first
row (the catalog listing served directly), so the gateway's and each query's cost show.
Needs `make up` first; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, replace

from devstack import observability as obs
from devstack.procs import free_port

CATALOG = "http://127.0.0.1:8000"
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


@dataclass(frozen=True)
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * UNITS[unit]


def wrk(name: str, url: str, duration: int, connections: int) -> Result:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return Result(name, rps, p50, p99, int(bad.group(1)) if bad else 0)


def first_product_id() -> str:
    with urllib.request.urlopen(f"{CATALOG}/products?limit=1", timeout=5) as response:
        return str(json.load(response)["items"][0]["id"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is missing: make up installs it", file=sys.stderr)
        return 2
    product = first_product_id()
    # Our own gateway instance with the rate limits lifted: the stack's one answers 429
    # past 50 requests/s per client, which would measure the limiter, not the proxy.
    gateway_port = free_port()
    cfg = replace(
        obs.Config.from_env(), gateway_port=gateway_port, gateway_rate="100000r/s",
        gateway_burst=100000,
    )  # fmt: skip
    gateway = obs.gateway(cfg, name="bench-gateway")
    gateway.start()
    gw = f"http://127.0.0.1:{gateway_port}"
    cases = [
        ("catalog GET /products?limit=20", f"{CATALOG}/products?limit=20"),
        ("catalog GET /products?category=Books", f"{CATALOG}/products?limit=20&category=Books"),
        ("catalog GET /products?sort=-price", f"{CATALOG}/products?limit=20&sort=-price"),
        ("catalog GET /products/{id}", f"{CATALOG}/products/{product}"),
        ("gateway GET /api/products?limit=20", f"{gw}/api/products?limit=20"),
        ("gateway GET /api/products/{id}", f"{gw}/api/products/{product}"),
    ]
    results = []
    try:
        wrk("warm-up", cases[0][1], 3, args.connections)  # fill connection pools and caches first
        for name, url in cases:
            print(
                f"[bench] {name}: wrk {args.duration}s, {args.connections} connections", flush=True
            )
            results.append(wrk(name, url, args.duration, args.connections))
    finally:
        gateway.stop()
    base = results[0].rps
    print(
        f"\n{'endpoint':<40} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8} {'ratio':>6}"
    )
    for r in results:
        print(
            f"{r.name:<40} {r.rps:>9.0f} {r.p50_ms:>8.1f} {r.p99_ms:>8.1f} "
            f"{r.errors:>8} {r.rps / base:>6.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
