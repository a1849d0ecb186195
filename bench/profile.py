"""Where the time goes under the benchmark's load: py-spy on the listing, checkout and seeding.

    uv run python -m bench.profile [--seconds 20] [--workers-rounds 3]

On the benchmark's services (bench/stack.py, the same node and data as `make bench`):

- listing, `GET /products?limit=20` under wrk, py-spy on the catalog with metrics and
  tracing off, then on the one with both on;
- listing, one uvicorn worker against two (obs off), alternated round by round;
- checkout, py-spy on the catalog, cart and orders while the orders are placed;
- seeding, py-spy on `catalog-seed`, with the node's CPU time per product beside it.

py-spy runs from PATH, else through uvx; it needs ptrace rights (root, or CAP_SYS_PTRACE).
Writes the raw profiles into var/bench/profiles/ and prints each one's tables (bench/pyspy.py)
with the load average beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from bench import checkout, wrk
from bench.__main__ import LISTING, OBS_OFF, jaeger, loadavg, product_count
from bench.pyspy import Profile
from bench.rss import cpu_seconds
from bench.stack import bench_stack, extra_catalog, seed
from devstack import cassandra
from devstack.procs import ROOT, VAR
from tests.service_stack import Stack, cql_session

OUT = VAR / "bench" / "profiles"
# Only the thread holding the GIL: what the process's Python CPU time goes to (idle pool
# threads and the driver's I/O loop waiting in C would otherwise fill the profile).
PYSPY = [*(["py-spy"] if shutil.which("py-spy") else ["uvx", "py-spy"]), "record", "--gil",
         "--full-filenames", "--format", "raw"]  # fmt: skip


@contextmanager
def pyspy(pid: int | None, name: str, rate: int = 200) -> Iterator[Path]:
    """py-spy recording `pid` (and its children) while inside; the raw profile's path."""
    assert pid is not None, f"{name}: not running"
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.txt"
    argv = [*PYSPY, "--pid", str(pid), "--rate", str(rate), "--subprocesses", "--output",
            str(path)]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1)  # attached
    try:
        yield path
    finally:
        proc.send_signal(signal.SIGINT)  # py-spy writes its output on ^C
        _, err = proc.communicate(timeout=120)
        if proc.returncode not in (0, -signal.SIGINT) and not path.exists():
            raise RuntimeError(f"py-spy on {name} failed: {err.decode()[-500:]}")


def report(name: str, path: Path, load: str, top: int = 12) -> None:
    print(f"\n### {name} (load average {load})\n")
    print(Profile.read(path).table(top), flush=True)


def under_wrk(name: str, url: str, pid: int | None, seconds: float) -> wrk.Result:
    """py-spy on `pid` while wrk loads the listing for `seconds`."""
    result: list[wrk.Result] = []
    load = loadavg()
    with pyspy(pid, name) as path:
        worker = threading.Thread(
            target=lambda: result.append(wrk.run(name, url, [LISTING], seconds, 32, server=pid))
        )
        worker.start()
        worker.join()
    r = result[0]
    print(f"[profile] {name}: {r.rps:.0f} req/s, P99 {r.p99_ms:.0f} ms, "
          f"{r.cpu_ms_per_request} CPU ms/request (load {load})")  # fmt: skip
    report(name, path, load)
    return r


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers-rounds", type=int, default=3)
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--shoppers", type=int, default=200)
    parser.add_argument("--seed-count", type=int, default=3000)
    parser.add_argument("--parts", default="listing,workers,checkout,seeding",
                        help="which of listing, workers, checkout, seeding to run")  # fmt: skip
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    if not cassandra.is_up():
        cassandra.start(wait=True)
    tracer, otlp = jaeger()  # the stack's catalog traces every request to it, as in make bench
    tracer.start()
    with ExitStack() as cleanup:
        cleanup.callback(tracer.stop)
        run(args, parts, cleanup.enter_context(bench_stack(otlp_endpoint=otlp)))
    return 0


def run(args: argparse.Namespace, parts: set[str], stack: Stack) -> None:
    if product_count(stack.url("catalog")) < args.products:
        print(f"[profile] {seed(stack, args.products)}", flush=True)
    if parts & {"listing", "workers"}:
        listing(args, parts, stack)
    if "checkout" in parts:
        profile_checkout(args, stack)
    if "seeding" in parts:
        profile_seeding(args, stack)


def listing(args: argparse.Namespace, parts: set[str], stack: Stack) -> None:
    with ExitStack() as extras:
        off = extra_catalog(stack, "catalog, obs off", env=OBS_OFF)
        two = extra_catalog(stack, "catalog, obs off, 2 workers", env=OBS_OFF, workers=2)
        for extra in (off, two):
            extra.proc.start()
            extras.callback(extra.proc.stop)
        for url in (stack.url("catalog"), off.url, two.url):  # warm the caches
            wrk.run("warm-up", url, [LISTING], 3, 32)
        if "listing" in parts:
            under_wrk("listing-obs-off", off.url, off.proc.pid(), args.seconds)
            catalog = stack["catalog"]
            under_wrk("listing-obs-on", catalog.url, catalog.proc.pid(), args.seconds)
        for i in range(args.workers_rounds if "workers" in parts else 0):
            for label, c in ((off.label, off), (two.label, two)):
                load = loadavg()
                r = wrk.run(label, c.url, [LISTING], args.seconds / 2, 32, server=c.proc.pid())
                print(f"[profile] workers round {i + 1}, {label}: {r.rps:.0f} req/s, P99 "
                      f"{r.p99_ms:.0f} ms, {r.cpu_ms_per_request} CPU ms/request "
                      f"(load {load})", flush=True)  # fmt: skip


def profile_checkout(args: argparse.Namespace, stack: Stack) -> None:
    load = loadavg()
    spies = ExitStack()
    paths: dict[str, Path] = {}

    @contextmanager
    def profiled() -> Iterator[None]:
        with spies:
            for name in ("catalog", "cart", "orders"):
                paths[name] = spies.enter_context(pyspy(stack[name].proc.pid(), f"checkout-{name}"))
            yield

    result = asyncio.run(checkout.run(stack, args.shoppers, 16, during=profiled))
    print(f"[profile] checkout: {result.orders_per_s:.1f} orders/s, P50 "
          f"{result.p50_ms:.0f} ms (load {load})", flush=True)  # fmt: skip
    for name, path in paths.items():
        report(f"checkout-{name}", path, load)


def profile_seeding(args: argparse.Namespace, stack: Stack) -> None:
    scratch = "bench_profile_seeding"
    env = os.environ | stack["catalog"].env | {"CATALOG_CASSANDRA_KEYSPACE": scratch}
    node = cassandra.running_pid(cassandra.Settings.from_env())
    node_cpu = cpu_seconds(node) if node else 0.0
    load = loadavg()
    path = OUT / "seeding.txt"
    began = time.perf_counter()
    try:
        out = subprocess.run(
            [*PYSPY, "--rate", "200", "--output", str(path), "--", sys.executable, "-m",
             "catalog.seed", "--count", str(args.seed_count)],
            cwd=ROOT, env=env, check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        took = time.perf_counter() - began
        used = (cpu_seconds(node) - node_cpu) if node else float("nan")
    finally:
        with cql_session() as session:
            session.execute(f"DROP KEYSPACE IF EXISTS {scratch}", timeout=120)
    summary = next(line for line in out.splitlines() if "products/s" in line)
    print(f"[profile] seeding (profiled): {summary}; the node's CPU "
          f"{used * 1000 / args.seed_count:.2f} ms per product over {took:.1f} s "
          f"(load {load})")  # fmt: skip
    report("seeding", path, load)


if __name__ == "__main__":
    sys.exit(main())
