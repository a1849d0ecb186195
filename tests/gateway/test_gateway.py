"""The nginx gateway, as clients see it (public contract, DESIGN.md section 3)."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from devstack import docs
from tests.gateway.stubs import Gateway, StubService
from tests.polling import wait_for

pytestmark = pytest.mark.integration

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
}
_client_ips = (f"198.51.100.{i}" for i in itertools.count(1))


def fresh_client_ip() -> str:
    """A new documentation-range address per use: its own rate-limit bucket on the gateway
    that trusts X-Forwarded-For (a header value only, no traffic goes there)."""
    return next(_client_ips)


def logged_request(gateway: Gateway, request_id: str) -> dict[str, Any]:
    """The access-log entry of one request. nginx writes it in the log phase, after the
    response has gone out, so the client can see the answer before the line exists."""

    def entry() -> dict[str, Any] | None:
        lines = gateway.access_log.read_text().splitlines()
        return next((e for e in map(json.loads, lines) if e["request_id"] == request_id), None)

    found: dict[str, Any] = wait_for(f"the access-log line of {request_id}", entry, timeout=10)
    return found


def assert_json_error(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, object] = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    return body


@pytest.mark.parametrize(
    ("path", "service", "upstream_path"),
    [
        ("/api/products?category=books&limit=5", "catalog", "/products?category=books&limit=5"),
        ("/api/products/42", "catalog", "/products/42"),
        ("/cart-api/cart/items", "cart", "/cart/items"),
        ("/order-api/orders", "orders", "/orders"),
        ("/user-api/me", "users", "/me"),
        ("/user-api/.well-known/jwks.json", "users", "/.well-known/jwks.json"),
    ],
)
def test_prefixes_route_to_their_service_with_the_prefix_stripped(
    gateway: Gateway, path: str, service: str, upstream_path: str
) -> None:
    response = httpx.get(gateway.url + path)
    assert response.status_code == 200
    assert response.json()["service"] == service
    assert response.json()["path"] == upstream_path


def test_request_body_method_and_auth_header_pass_through(gateway: Gateway) -> None:
    response = httpx.post(
        gateway.url + "/cart-api/cart/items",
        json={"product_id": "p1", "quantity": 2},
        headers={"Authorization": "Bearer abc"},
    )
    echoed = response.json()
    assert (echoed["method"], echoed["path"]) == ("POST", "/cart/items")
    assert json.loads(echoed["body"]) == {"product_id": "p1", "quantity": 2}
    assert echoed["headers"]["Authorization"] == "Bearer abc"
    assert echoed["headers"]["X-Forwarded-For"] == "127.0.0.1"


@pytest.mark.parametrize(
    "path",
    [
        "/api/internal/stock/reserve",
        "/order-api/internal/orders",
        "/cart-api/internal",
        "/user-api/internal/keys",
        "/api/%69nternal/stock",  # percent-encoded
        "/api//internal/stock",  # doubled slash
        "/api/products/../internal/stock",  # dot segments
        "/api/INTERNAL/stock",  # case
        "/internal/anything",
        "/api/metrics",  # Prometheus scrapes the services directly
        "/cart-api/metrics/",
        "/user-api/METRICS",
    ],
)
def test_internal_endpoints_are_never_routed(
    gateway: Gateway, stubs: dict[str, StubService], path: str
) -> None:
    before = {name: len(stub.seen) for name, stub in stubs.items()}
    response = httpx.post(gateway.url + path, json={})
    assert_json_error(response, 404)
    assert {name: len(stub.seen) for name, stub in stubs.items()} == before


def test_unknown_paths_are_json_404(gateway: Gateway) -> None:
    assert_json_error(httpx.get(gateway.url + "/no-such-prefix/x"), 404)
    assert_json_error(httpx.get(gateway.url + "/"), 404)


@pytest.mark.parametrize("path", ["/api/products", "/nope", "/swagger/", "/health"])
def test_security_headers_everywhere(gateway: Gateway, path: str) -> None:
    response = httpx.get(gateway.url + path)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "script-src 'self';" in csp  # no inline scripts outside /docs/
    assert "server" not in response.headers or "/" not in response.headers["server"]


def test_request_id_is_passed_through_and_returned(gateway: Gateway) -> None:
    response = httpx.get(gateway.url + "/api/products", headers={"X-Request-ID": "abc-123"})
    assert response.headers.get_list("x-request-id") == ["abc-123"]
    assert response.json()["headers"]["X-Request-ID"] == "abc-123"


def test_request_id_is_minted_when_absent(gateway: Gateway) -> None:
    response = httpx.get(gateway.url + "/api/products")
    minted = response.headers.get_list("x-request-id")
    assert len(minted) == 1 and re.fullmatch(r"[0-9a-f]{32}", minted[0])
    assert response.json()["headers"]["X-Request-ID"] == minted[0]
    # Errors produced by nginx itself carry one too.
    assert re.fullmatch(r"[0-9a-f]{32}", httpx.get(gateway.url + "/nope").headers["x-request-id"])


def test_access_log_is_json_with_request_id_status_and_upstream_time(gateway: Gateway) -> None:
    httpx.get(gateway.url + "/order-api/orders", headers={"X-Request-ID": "log-me-please"})
    entry = logged_request(gateway, "log-me-please")
    assert entry["status"] == 200
    assert entry["uri"] == "/order-api/orders"
    assert float(entry["upstream_response_time"]) >= 0
    assert entry["upstream_status"] == "200"


def test_login_and_register_have_a_stricter_limit(gateway: Gateway) -> None:
    # auth zone: 1r/m with burst 2, so at most 3 of 6 pass; the general zone is generous.
    statuses = [httpx.post(gateway.url + "/user-api/login", json={}).status_code for _ in range(6)]
    assert statuses.count(200) <= 3 and statuses[0] == 200
    assert statuses[-1] == 429
    limited = httpx.post(gateway.url + "/user-api/register", json={})
    body = assert_json_error(limited, 429)
    assert "too many" in str(body["detail"]).lower()
    for name, value in SECURITY_HEADERS.items():
        assert limited.headers[name] == value
    # Other endpoints of the same client are not affected.
    assert httpx.get(gateway.url + "/user-api/me").status_code == 200


def test_general_limit_is_per_client(dead_gateway: Gateway) -> None:
    noisy, quiet = fresh_client_ip(), fresh_client_ip()
    # A proxied path: `return` (the 404s) runs before limit_req in nginx's phases.
    url = dead_gateway.url + "/api/products"
    statuses = [httpx.get(url, headers={"X-Forwarded-For": noisy}).status_code for _ in range(8)]
    assert statuses[0] == 502 and statuses[-1] == 429  # 1r/m + burst 5
    assert_json_error(httpx.get(url, headers={"X-Forwarded-For": noisy}), 429)
    assert httpx.get(url, headers={"X-Forwarded-For": quiet}).status_code == 502


def test_unreachable_service_is_json_502(degraded_gateway: Gateway) -> None:
    body = assert_json_error(httpx.get(degraded_gateway.url + "/order-api/orders"), 502)
    assert body["detail"] == "Upstream service unavailable"
    # The services that are up still answer.
    assert httpx.get(degraded_gateway.url + "/cart-api/cart").json()["service"] == "cart"


def test_service_errors_pass_through_untouched(gateway: Gateway) -> None:
    response = httpx.get(gateway.url + "/api/fail")
    assert response.status_code == 503
    assert response.json() == {"detail": "catalog says its database is down"}


def test_health_is_the_aggregate_of_a_live_service(
    gateway: Gateway, stubs: dict[str, StubService]
) -> None:
    response = httpx.get(gateway.url + "/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "from": "catalog"}
    assert stubs["catalog"].seen[-1] == "/health/aggregate"


def test_health_not_ready_is_reported_not_retried(
    gateway: Gateway, stubs: dict[str, StubService]
) -> None:
    stubs["catalog"].aggregate_status = 503
    try:
        response = httpx.get(gateway.url + "/health")
    finally:
        stubs["catalog"].aggregate_status = 200
    assert response.status_code == 503
    assert response.json() == {"status": "degraded", "from": "catalog"}


def test_health_falls_over_to_another_service(degraded_gateway: Gateway) -> None:
    response = httpx.get(degraded_gateway.url + "/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "from": "cart"}


def test_health_with_every_service_down_is_json_503(dead_gateway: Gateway) -> None:
    response = httpx.get(
        dead_gateway.url + "/health", headers={"X-Forwarded-For": fresh_client_ip()}
    )
    body = assert_json_error(response, 503)
    assert body["status"] == "down"


def test_swagger_ui_over_all_four_specs_offline(gateway: Gateway) -> None:
    redirect = httpx.get(gateway.url + "/swagger")
    assert redirect.status_code == 301 and redirect.headers["location"] == "/swagger/"
    page = httpx.get(gateway.url + "/swagger/")
    assert page.status_code == 200 and "swagger-ui-bundle.js" in page.text
    assert "https://" not in page.text  # nothing from a CDN
    init = httpx.get(gateway.url + "/swagger/swagger-initializer.js").text
    for spec in ("/api/", "/cart-api/", "/order-api/", "/user-api/"):
        assert f'"{spec}openapi.json"' in init
        assert httpx.get(gateway.url + spec + "openapi.json").json()["openapi"] == "3.1.0"
    bundle = httpx.get(
        gateway.url + "/swagger/swagger-ui-bundle.js", headers={"Accept-Encoding": "gzip"}
    )
    assert bundle.status_code == 200
    assert bundle.headers["content-type"].startswith("application/javascript")
    assert bundle.headers["content-encoding"] == "gzip"
    assert httpx.get(gateway.url + "/swagger/swagger-ui.css").status_code == 200


def test_docs_site_served(gateway: Gateway, docs_site: Path) -> None:
    """The real mkdocs build: its index, a nested page, its assets and its search index."""
    response = httpx.get(gateway.url + "/docs/")
    assert response.status_code == 200
    assert response.text == (docs_site / "index.html").read_text()
    assert "<title>Product Store</title>" in response.text
    assert "script-src 'self' 'unsafe-inline'" in response.headers["content-security-policy"]
    assert httpx.get(gateway.url + "/docs", follow_redirects=True).status_code == 200
    runbook = httpx.get(gateway.url + "/docs/runbooks/service-down/")
    assert runbook.status_code == 200 and "ServiceDown" in runbook.text
    css = next((docs_site / "assets" / "stylesheets").glob("main.*.min.css"))
    style = httpx.get(f"{gateway.url}/docs/assets/stylesheets/{css.name}")
    assert style.status_code == 200 and style.headers["content-type"].startswith("text/css")
    search = httpx.get(gateway.url + "/docs/search/search_index.json")
    assert search.status_code == 200 and search.json()["docs"]
    if (docs_site / docs.MERMAID_PATH).exists():  # the build found npm: diagrams work offline
        mermaid = httpx.get(f"{gateway.url}/docs/{docs.MERMAID_PATH}")
        assert mermaid.headers["content-type"].startswith("application/javascript")


def test_docs_json_404_when_not_built(dead_gateway: Gateway) -> None:
    response = httpx.get(
        dead_gateway.url + "/docs/", headers={"X-Forwarded-For": fresh_client_ip()}
    )
    assert_json_error(response, 404)


def test_stub_status_only_from_localhost(dead_gateway: Gateway) -> None:
    local = httpx.get(dead_gateway.url + "/nginx_status")
    assert local.status_code == 200 and local.text.startswith("Active connections")
    # Through a trusted proxy, the real client address decides.
    remote = httpx.get(
        dead_gateway.url + "/nginx_status", headers={"X-Forwarded-For": fresh_client_ip()}
    )
    assert_json_error(remote, 403)
