"""The documentation's quick start ("Try it" on the home page) as it stands, through the
test stack's gateway: the commands a newcomer copies are the ones this test runs."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess

import pytest

from devstack.procs import ROOT
from tests.fullstack.conftest import Observed

pytestmark = pytest.mark.integration


def quickstart_script() -> str:
    page = (ROOT / "docs" / "index.md").read_text()
    block = re.search(r"<!-- quickstart -->\n```bash\n(.*?)```", page, re.S)
    assert block, "docs/index.md lost its <!-- quickstart --> block"
    return block[1]


async def test_quickstart_runs_against_the_stack(observed: Observed) -> None:
    await observed.stack.new_product(stock=5)
    script = quickstart_script()
    assert script.startswith("GW=http://127.0.0.1:8080\n")
    script = script.replace("GW=http://127.0.0.1:8080", f"GW={observed.gateway}", 1)
    argv = ["bash", "-euo", "pipefail", "-c", script]
    done = await asyncio.to_thread(
        subprocess.run, argv, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # The last command lists the new shopper's orders: the checkout made exactly one.
    orders = json.loads(done.stdout[done.stdout.rindex('{"items":') :])
    assert [order["status"] for order in orders["items"]] == ["pending"], orders
