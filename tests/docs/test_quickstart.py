"""The quick start ("Try it" on the site's home page and in the README) as it stands,
through a real nginx gateway in front of the four services: the commands a newcomer copies
are the ones run here."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import replace

import pytest

from devstack import observability as obs
from devstack.procs import ROOT, free_port
from tests.service_stack import Stack

pytestmark = pytest.mark.integration
DOCUMENTED_GATEWAY = "GW=http://127.0.0.1:8080\n"


@pytest.fixture(scope="module")
def gateway(stack: Stack) -> Iterator[str]:
    cfg = replace(
        obs.Config(),
        gateway_port=free_port(),
        upstreams={name: f"127.0.0.1:{stack[name].port}" for name in obs.SERVICES},
    )
    proc = obs.gateway(cfg, name="test-quickstart-gateway")
    proc.start()
    try:
        yield cfg.url("gateway")
    finally:
        proc.stop()


def quickstart_script(path: str) -> str:
    page = (ROOT / path).read_text()
    block = re.search(r"<!-- quickstart[^>]*-->\n```bash\n(.*?)```", page, re.S)
    assert block, f"{path} lost its <!-- quickstart --> block"
    assert block[1].startswith(DOCUMENTED_GATEWAY)
    return block[1]


def test_readme_shows_the_same_quickstart() -> None:
    assert quickstart_script("README.md") == quickstart_script("docs/index.md")


async def test_quickstart_runs_against_the_store(stack: Stack, gateway: str) -> None:
    await stack.new_product(stock=5)  # the test stack starts with an empty catalog
    script = quickstart_script("docs/index.md").replace(DOCUMENTED_GATEWAY, f"GW={gateway}\n", 1)
    argv = ["bash", "-euo", "pipefail", "-c", script]
    done = await asyncio.to_thread(
        subprocess.run, argv, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # The last command lists the new shopper's orders: the checkout made exactly one.
    orders = json.loads(done.stdout[done.stdout.rindex('{"items":') :])
    assert [order["status"] for order in orders["items"]] == ["pending"], orders
