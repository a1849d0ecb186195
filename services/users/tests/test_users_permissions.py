"""Walk the users rows of the permissions matrix (docs/permissions.md at the repository
root, the single source) against the service in-process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.permissions import Permission, parse_permissions, served_routes
from tests.support.users import (
    PASSWORD,
    SERVICE_CLIENTS,
    new_account,
    service_token,
    unique,
)

pytestmark = pytest.mark.integration

MATRIX = Path(__file__).resolve().parents[3] / "docs" / "permissions.md"
CELLS = [c for c in parse_permissions(MATRIX.read_text()) if c.service == "users"]


def test_matrix_covers_every_route() -> None:
    from users.main import create_app

    documented = {c.route for c in CELLS}
    routes = served_routes(create_app())
    assert routes - documented == set(), "routes missing from docs/permissions.md"
    assert documented - routes == set(), "documented routes that do not exist"


async def request_for(client: httpx.AsyncClient, method: str, path: str) -> dict[str, Any]:
    """A plausible request for the endpoint, made with throwaway accounts and tokens."""
    target = await new_account(client)
    path = path.replace("{user_id}", target.id)
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
    client: httpx.AsyncClient, admin_headers: dict[str, str], cell: Permission
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
    if cell.allowed:
        assert response.status_code not in (401, 403), response.text
        assert response.status_code < 500, response.text
    else:
        assert response.status_code == int(cell.expected), response.text
