"""The gateway's nginx template and Swagger page agree with the one topology (kit/topology.yaml).

They stay plain nginx and JavaScript (the chart renders the same template with envsubst), so
instead of generating them, this checks every service's route, upstream and spec against it.
"""

from __future__ import annotations

import re

import pytest
from kit.topology import TOPOLOGY, Service

from devstack import observability as obs

GATEWAY = obs.HERE / "gateway"
TEMPLATE = (GATEWAY / "nginx.conf.template").read_text()
SWAGGER = (GATEWAY / "swagger" / "swagger-initializer.js").read_text()


@pytest.mark.parametrize("service", list(TOPOLOGY), ids=lambda s: s.name)
def test_template_routes_each_service(service: Service) -> None:
    upstream = f"${{{service.name.upper()}_UPSTREAM}}"
    assert re.search(rf"upstream {service.name}\s*{{\s*server {re.escape(upstream)};", TEMPLATE)
    location = rf"location {re.escape(service.prefix)}/\s*{{\s*proxy_pass http://{service.name}/;"
    assert re.search(location, TEMPLATE), f"no route {service.prefix}/ to {service.name}"


def test_template_routes_nothing_else() -> None:
    upstreams = set(re.findall(r"\$\{([A-Z]+)_UPSTREAM\}", TEMPLATE))
    assert upstreams == {s.name.upper() for s in TOPOLOGY}
    routed = set(re.findall(r"proxy_pass http://([a-z]+)/;", TEMPLATE))
    assert routed == set(TOPOLOGY.names)


def test_issuer_credential_routes_use_its_prefix() -> None:
    for endpoint in ("login", "register"):
        assert f"location = {TOPOLOGY.issuer.prefix}/{endpoint} {{" in TEMPLATE


def test_swagger_page_lists_each_spec_under_its_prefix() -> None:
    specs = re.findall(r'\{ url: "([^"]+)/openapi\.json", name: "([a-z]+)" \}', SWAGGER)
    assert sorted(specs) == sorted((s.prefix, s.name) for s in TOPOLOGY)
