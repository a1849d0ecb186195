"""The permissions matrix of docs/permissions.md, parsed into cells the tests walk."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from kit.topology import TOPOLOGY

GATEWAY_PREFIXES = {s.name: s.prefix for s in TOPOLOGY}
CALLERS = ("guest", "user", "admin", "service")
OUTCOMES = ("✓", "✓ own", "401", "403")


@dataclass(frozen=True)
class Permission:
    """One cell of the matrix: what `caller` gets from `method path` of `service`."""

    endpoint: str  # the row as documented: "GET /api/products/{product_id}", "GET */metrics"
    service: str
    method: str
    path: str  # the service's own path (gateway prefix stripped), query string included
    caller: str  # guest, user, admin or service
    expected: str  # one of OUTCOMES

    @property
    def allowed(self) -> bool:
        return self.expected.startswith("✓")

    @property
    def route(self) -> tuple[str, str]:
        return self.method, self.path.partition("?")[0]


def parse_permissions(text: str) -> list[Permission]:
    """The cells of the table between `<!-- matrix:start -->` and `<!-- matrix:end -->`.

    Columns: service, endpoint, one per caller, notes. An endpoint is the gateway path
    (`/api/...`), an `/internal/...` path (never routed by the gateway), or `*/...` with
    service `every`: the same route on each of the four services."""
    block = text.split("<!-- matrix:start -->", 1)[1].split("<!-- matrix:end -->", 1)[0]
    cells: list[Permission] = []
    for line in block.strip().splitlines()[2:]:  # skip the header and the rule
        columns = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(columns) != 3 + len(CALLERS):
            raise ValueError(f"bad matrix row: {line}")
        service, endpoint, outcomes = columns[0], columns[1].strip("`"), columns[2:-1]
        match = re.fullmatch(r"(GET|POST|PUT|PATCH|DELETE) (\S+)", endpoint)
        if not match or any(o not in OUTCOMES for o in outcomes):
            raise ValueError(f"bad matrix row: {line}")
        method, path = match[1], match[2]
        services: Iterable[str] = GATEWAY_PREFIXES if service == "every" else (service,)
        for name in services:
            prefix = GATEWAY_PREFIXES[name]
            if path.startswith("*/") and service == "every":
                own = path[1:]
            elif path.startswith("/internal/"):
                own = path
            elif path.startswith(f"{prefix}/"):
                own = path.removeprefix(prefix)
            else:
                raise ValueError(f"{path} is not a path of {service}: {line}")
            for caller, expected in zip(CALLERS, outcomes, strict=True):
                cells.append(Permission(endpoint, name, method, own, caller, expected))
    return cells


def served_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) the app answers, the routes hidden from OpenAPI included."""
    return {
        (method, route.path)
        for route in iter_route_contexts(app.routes)
        if route.path is not None
        for method in route.methods or ()
        if method != "HEAD"
    }
