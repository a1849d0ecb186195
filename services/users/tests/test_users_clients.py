"""Service identities: configuration from JSON and from a mounted Secret directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr
from users.clients import ServiceClients
from users.config import UsersSettings


def test_clients_from_json_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USERS_SERVICE_CLIENTS", '{"cart": "cart-secret-0123456789"}')
    settings = UsersSettings()
    clients = ServiceClients(settings.service_clients)
    assert clients.ids == ["cart"]
    assert clients.authenticate("cart", "cart-secret-0123456789")
    assert not clients.authenticate("cart", "cart-secret-012345678")
    assert not clients.authenticate("orders", "cart-secret-0123456789")


def test_clients_from_a_directory_reload(tmp_path: Path) -> None:
    (tmp_path / "orders").write_text("orders-secret-0123456789\n")
    (tmp_path / "..data").mkdir()  # Kubernetes bookkeeping is ignored
    clients = ServiceClients({"cart": SecretStr("cart-secret-0123456789")}, tmp_path)
    assert clients.ids == ["cart", "orders"]
    assert clients.authenticate("orders", "orders-secret-0123456789")
    (tmp_path / "orders").write_text("rotated-secret-0123456789")
    assert clients.reload() is True
    assert not clients.authenticate("orders", "orders-secret-0123456789")
    assert clients.authenticate("orders", "rotated-secret-0123456789")


def test_weak_or_missing_clients_authenticate_nobody() -> None:
    assert ServiceClients().ids == []
    assert not ServiceClients().authenticate("cart", "")
    weak = ServiceClients({"cart": SecretStr("short"), "Bad Id": SecretStr("x" * 32)})
    assert weak.ids == []
    assert not weak.authenticate("cart", "short")
