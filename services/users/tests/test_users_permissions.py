"""Walk the permissions matrix of docs/permissions.md against the running service."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from users.testing import (
    PASSWORD,
    SERVICE_CLIENTS,
    new_account,
    service_token,
    unique,
)

pytestmark = pytest.mark.integration

MATRIX = Path(__file__).resolve().parents[1] / "docs" / "permissions.md"
CALLERS = ("guest", "user", "admin", "service")


@dataclass(frozen=True)
class Cell:
    method: str
    path: str
    caller: str
    expected: str  # "✓", "401" or "403"


def parse_matrix(text: str) -> list[Cell]:
    block = text.split("<!-- matrix:start -->", 1)[1].split("<!-- matrix:end -->", 1)[0]
    cells: list[Cell] = []
    for line in block.strip().splitlines()[2:]:  # skip the header and the rule
        columns = [c.strip() for c in line.strip().strip("|").split("|")]
        match = re.fullmatch(r"`(GET|POST|PUT|PATCH|DELETE) (\S+)`", columns[0])
        assert match, f"bad matrix row: {line}"
        assert len(columns) == 1 + len(CALLERS), f"bad matrix row: {line}"
        for caller, expected in zip(CALLERS, columns[1:], strict=True):
            assert expected in ("✓", "401", "403"), f"bad cell {expected!r} in {line}"
            cells.append(Cell(match[1], match[2], caller, expected))
    return cells


CELLS = parse_matrix(MATRIX.read_text())


def test_matrix_covers_every_route() -> None:
    from users.main import create_app

    documented = {(c.method, c.path) for c in CELLS}
    paths = create_app().openapi()["paths"]
    routes = {
        (method.upper(), path.replace("{user_id}", "{id}"))
        for path, operations in paths.items()
        for method in operations
    }
    assert routes - documented == set(), "routes missing from docs/permissions.md"
    assert documented - routes == set(), "documented routes that do not exist"


async def request_for(client: httpx.AsyncClient, method: str, path: str) -> dict[str, Any]:
    """A plausible request for the endpoint, made with throwaway accounts and tokens."""
    target = await new_account(client)
    path = path.replace("{id}", target.id)
    if path == "/register":
        name = unique()
        return {"json": {"username": name, "email": f"{name}@example.com", "password": PASSWORD}}
    if path == "/login":
        return {"json": {"username": target.username, "password": PASSWORD}}
    if path == "/login/form":
        return {"data": {"username": target.username, "password": PASSWORD}}
    if path in ("/refresh", "/logout"):
        return {"json": {"refresh_token": target.refresh_token}}
    if path == "/me" and method == "PATCH":
        return {"json": {"email": f"new-{unique()}@example.com"}}
    if path.endswith("/role"):
        return {"json": {"role": "admin"}, "url": path}
    if path == "/oauth/token":
        return {
            "data": {
                "grant_type": "client_credentials",
                "client_id": "cart",
                "client_secret": SERVICE_CLIENTS["cart"],
            }
        }
    return {"url": path}


@pytest.mark.parametrize("cell", CELLS, ids=lambda c: f"{c.method} {c.path} as {c.caller}")
async def test_permissions_matrix(
    client: httpx.AsyncClient, admin_headers: dict[str, str], cell: Cell
) -> None:
    headers: dict[str, str] = {}
    if cell.caller == "user":
        headers = (await new_account(client)).headers
    elif cell.caller == "admin":
        headers = admin_headers
    elif cell.caller == "service":
        headers = {"Authorization": f"Bearer {await service_token(client)}"}
    kwargs = await request_for(client, cell.method, cell.path)
    url = kwargs.pop("url", cell.path)
    response = await client.request(cell.method, url, headers=headers, **kwargs)
    if cell.expected == "✓":
        assert response.status_code not in (401, 403), response.text
        assert response.status_code < 500, response.text
    else:
        assert response.status_code == int(cell.expected), response.text
