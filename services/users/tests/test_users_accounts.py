"""Registration, sign-in, the signed-in user, administration: against a real Cassandra."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from prometheus_client import REGISTRY

from tests.support.users import (
    ADMIN_USERNAME,
    PASSWORD,
    Account,
    login,
    new_account,
    unique,
    without_request_id,
)

pytestmark = pytest.mark.integration


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def register(client: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await client.post("/register", json=body)


# --- registration --------------------------------------------------------------------------


async def test_register_creates_a_user(client: httpx.AsyncClient) -> None:
    before = metric("store_registrations_total")
    username = unique("Reg.")
    response = await register(
        client, username=username, email=f"{username}@Example.COM", password=PASSWORD
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"id", "username", "email", "role", "created_at"}
    assert body["username"] == username and body["role"] == "user"
    assert body["email"] == f"{username}@example.com"  # domain normalized
    uuid.UUID(body["id"])
    assert body["created_at"].endswith(("Z", "+00:00"))
    assert "password" not in response.text and "hash" not in response.text
    assert metric("store_registrations_total") == before + 1


@pytest.mark.parametrize(
    "body",
    [
        {"username": "ab", "email": "ok@example.com", "password": PASSWORD},
        {"username": "x" * 33, "email": "ok@example.com", "password": PASSWORD},
        {"username": "bad name", "email": "ok@example.com", "password": PASSWORD},
        {"username": "bad/name", "email": "ok@example.com", "password": PASSWORD},
        {"username": "okname", "email": "not-an-email", "password": PASSWORD},
        {"username": "okname", "email": "a@localhost", "password": PASSWORD},
        {"username": "okname", "email": "ok@example.com", "password": "short"},
        {"username": "okname", "email": "ok@example.com", "password": "p" * 129},
        {"username": "okname", "email": "ok@example.com"},
        {"username": "okname", "email": "ok@example.com", "password": PASSWORD, "role": "admin"},
        {"username": 12345, "email": "ok@example.com", "password": PASSWORD},
    ],
)
async def test_register_rejects_invalid_input(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    response = await client.post("/register", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_register_rejects_non_json(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/register", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422


async def test_duplicate_username_and_email_conflict(client: httpx.AsyncClient) -> None:
    username = unique("dup")
    email = f"{username}@example.com"
    assert (
        await register(client, username=username, email=email, password=PASSWORD)
    ).status_code == 201
    # Usernames and emails are case-insensitive.
    same_name = await register(
        client, username=username.upper(), email=f"other-{email}", password=PASSWORD
    )
    assert same_name.status_code == 409 and same_name.json()["field"] == "username"
    same_email = await register(
        client, username=unique("dup"), email=email.upper(), password=PASSWORD
    )
    assert same_email.status_code == 409 and same_email.json()["field"] == "email"


async def test_concurrent_duplicate_usernames_create_one_account(
    client: httpx.AsyncClient,
) -> None:
    username = unique("race")
    responses = await asyncio.gather(
        *(
            register(
                client, username=username, email=f"{username}-{i}@example.com", password=PASSWORD
            )
            for i in range(20)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 19, statuses
    winner = next(r for r in responses if r.status_code == 201).json()
    # The losers' emails were released (compensation): they are free to register again.
    loser_emails = [f"{username}-{i}@example.com" for i in range(20)]
    loser_emails.remove(winner["email"])
    again = await register(
        client, username=unique("race"), email=loser_emails[0], password=PASSWORD
    )
    assert again.status_code == 201, again.text


async def test_concurrent_duplicate_emails_create_one_account(client: httpx.AsyncClient) -> None:
    email = f"{unique('race')}@example.com"
    names = [unique("race") for _ in range(20)]
    responses = await asyncio.gather(
        *(register(client, username=name, email=email, password=PASSWORD) for name in names)
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 19, statuses
    winner = next(r for r in responses if r.status_code == 201).json()["username"]
    # Every losing username claim was released again.
    for name in names:
        if name != winner:
            response = await register(
                client, username=name, email=f"{name}@example.com", password=PASSWORD
            )
            assert response.status_code == 201, response.text
    # Exactly one account can sign in with that email's winner.
    await login(client, winner, PASSWORD)


async def test_abandoned_claim_is_taken_over(app: FastAPI, client: httpx.AsyncClient) -> None:
    """A process that died between claiming a username and writing the user leaves a claim
    behind; after a grace period a new registration takes it over."""
    from datetime import UTC, datetime, timedelta

    repo = app.state.users.repo
    username = unique("ghost")
    long_ago = datetime.now(UTC) - timedelta(minutes=10)
    assert await repo.claim("username", username.lower(), uuid.uuid4(), long_ago) is None
    response = await register(
        client, username=username, email=f"{username}@example.com", password=PASSWORD
    )
    assert response.status_code == 201, response.text
    # A fresh claim (a registration in progress) is respected.
    fresh = unique("ghost")
    await repo.claim("username", fresh, uuid.uuid4(), datetime.now(UTC))
    response = await register(
        client, username=fresh, email=f"{fresh}@example.com", password=PASSWORD
    )
    assert response.status_code == 409


# --- sign-in -------------------------------------------------------------------------------


async def test_login_returns_a_token_pair(client: httpx.AsyncClient, account: Account) -> None:
    response = await client.post(
        "/login", json={"username": account.username.upper(), "password": PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 900
    assert response.headers["cache-control"] == "no-store"
    me = await client.get("/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json()["username"] == account.username


async def test_login_form_for_swagger(client: httpx.AsyncClient, account: Account) -> None:
    response = await client.post(
        "/login/form", data={"username": account.username, "password": PASSWORD}
    )
    assert response.status_code == 200
    assert response.json()["token_type"] == "bearer"
    bad = await client.post("/login/form", data={"username": account.username, "password": "x"})
    assert bad.status_code == 401


async def test_login_form_takes_what_swagger_sends(
    client: httpx.AsyncClient, account: Account
) -> None:
    form = {"grant_type": "password", "username": account.username, "password": PASSWORD,
            "scope": "", "client_id": "swagger"}  # fmt: skip
    response = await client.post("/login/form", data=form)
    assert response.status_code == 200, response.text
    wrong_grant = await client.post("/login/form", data={**form, "grant_type": "implicit"})
    assert wrong_grant.status_code == 422, wrong_grant.text


@pytest.mark.parametrize(
    "form",
    [
        {"username": "x" * 70_000, "password": "whatever"},  # longer than a Cassandra key
        {"username": "x" * 257, "password": "whatever"},
        {"username": "someone", "password": "p" * 1025},
        {"username": "", "password": "whatever"},
    ],
)
async def test_login_form_has_the_limits_of_login(
    client: httpx.AsyncClient, form: dict[str, str]
) -> None:
    """Regression (found by fuzzing): the form took a username of any length and looked it
    up as a Cassandra partition key: past 65535 bytes the query failed, a 500."""
    response = await client.post("/login/form", data=form)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]
    as_json = await client.post("/login", json=form)
    assert as_json.status_code == 422, as_json.text


async def test_unknown_user_and_wrong_password_look_the_same(
    client: httpx.AsyncClient, account: Account
) -> None:
    failures_before = metric("store_logins_total", result="failure")
    unknown_before = metric("store_login_failures_total", reason="unknown_user")
    bad_before = metric("store_login_failures_total", reason="bad_password")
    wrong = await client.post(
        "/login", json={"username": account.username, "password": "wrong password!"}
    )
    unknown = await client.post(
        "/login", json={"username": unique("nobody"), "password": "wrong password!"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert without_request_id(wrong.json()) == without_request_id(unknown.json())
    strip = {"x-request-id", "content-length"}
    assert {k: v for k, v in wrong.headers.items() if k not in strip} == {
        k: v for k, v in unknown.headers.items() if k not in strip
    }
    assert wrong.headers["www-authenticate"] == "Bearer"
    assert metric("store_logins_total", result="failure") == failures_before + 2
    assert metric("store_login_failures_total", reason="unknown_user") == unknown_before + 1
    assert metric("store_login_failures_total", reason="bad_password") == bad_before + 1


async def test_login_upgrades_an_outdated_password_hash(
    app: FastAPI, client: httpx.AsyncClient, account: Account
) -> None:
    from datetime import UTC, datetime

    service = app.state.users
    old_hash = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    await service.repo.set_password_hash(uuid.UUID(account.id), old_hash, datetime.now(UTC))
    await login(client, account.username, PASSWORD)
    user = await service.repo.get_user(uuid.UUID(account.id))
    assert user is not None and user.password_hash != old_hash
    assert not service.passwords.needs_rehash(user.password_hash)
    await login(client, account.username, PASSWORD)


# --- the signed-in user --------------------------------------------------------------------


async def test_me_requires_a_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_change_email(client: httpx.AsyncClient, account: Account) -> None:
    other = await new_account(client)
    taken = await client.patch("/me", json={"email": other.email}, headers=account.headers)
    assert taken.status_code == 409
    new_email = f"new-{account.username}@example.com"
    response = await client.patch("/me", json={"email": new_email}, headers=account.headers)
    assert response.status_code == 200 and response.json()["email"] == new_email
    # The old address is free again, the new one is taken.
    assert (
        await register(client, username=unique(), email=account.email, password=PASSWORD)
    ).status_code == 201
    assert (
        await register(client, username=unique(), email=new_email, password=PASSWORD)
    ).status_code == 409


async def test_change_password_needs_the_current_one_and_signs_out_everywhere(
    client: httpx.AsyncClient, account: Account
) -> None:
    second_session = await login(client, account.username, PASSWORD)
    missing = await client.patch(
        "/me", json={"password": "brand new pass"}, headers=account.headers
    )
    assert missing.status_code == 422
    wrong = await client.patch(
        "/me",
        json={"password": "brand new pass", "current_password": "not it at all"},
        headers=account.headers,
    )
    assert wrong.status_code == 403
    ok = await client.patch(
        "/me",
        json={"password": "brand new pass", "current_password": PASSWORD},
        headers=account.headers,
    )
    assert ok.status_code == 200, ok.text
    old = await client.post("/login", json={"username": account.username, "password": PASSWORD})
    assert old.status_code == 401
    await login(client, account.username, "brand new pass")
    for refresh_token in (account.refresh_token, second_session["refresh_token"]):
        response = await client.post("/refresh", json={"refresh_token": refresh_token})
        assert response.status_code == 401


async def test_patch_me_validation(client: httpx.AsyncClient, account: Account) -> None:
    for body in (
        {},
        {"email": "nope"},
        {"role": "admin"},
        {"password": "short", "current_password": PASSWORD},
    ):
        response = await client.patch("/me", json=body, headers=account.headers)
        assert response.status_code == 422, (body, response.text)


# --- administration ------------------------------------------------------------------------


async def test_bootstrap_admin_exists(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    me = await client.get("/me", headers=admin_headers)
    assert me.status_code == 200
    assert me.json()["username"] == ADMIN_USERNAME and me.json()["role"] == "admin"


async def test_list_users_paginates(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    for _ in range(3):
        await new_account(client)
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(1000):
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        response = await client.get("/users", params=params, headers=admin_headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"items", "next_cursor"} and len(body["items"]) <= 2
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) >= 4  # every user exactly once
    everyone = await client.get("/users", params={"limit": 100}, headers=admin_headers)
    if everyone.json()["next_cursor"] is None:
        assert sorted(seen) == sorted(item["id"] for item in everyone.json()["items"])


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 101}, {"cursor": "%%%"}, {"cursor": "AAAAAAAA"}]
)
async def test_list_users_rejects_bad_paging(
    client: httpx.AsyncClient, admin_headers: dict[str, str], params: dict[str, Any]
) -> None:
    response = await client.get("/users", params=params, headers=admin_headers)
    assert response.status_code in (400, 422), response.text


async def test_admin_changes_roles(
    client: httpx.AsyncClient, admin_headers: dict[str, str], account: Account
) -> None:
    other = await new_account(client)
    # A user cannot do it.
    forbidden = await client.patch(
        f"/users/{other.id}/role", json={"role": "admin"}, headers=account.headers
    )
    assert forbidden.status_code == 403
    response = await client.patch(
        f"/users/{account.id}/role", json={"role": "admin"}, headers=admin_headers
    )
    assert response.status_code == 200 and response.json()["role"] == "admin"
    # The new role arrives with the next refresh.
    refreshed = await client.post("/refresh", json={"refresh_token": account.refresh_token})
    assert refreshed.status_code == 200
    headers = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}
    assert (await client.get("/users", headers=headers)).status_code == 200
    # Demote again; bad role, unknown user, own role.
    back = await client.patch(
        f"/users/{account.id}/role", json={"role": "user"}, headers=admin_headers
    )
    assert back.json()["role"] == "user"
    bad = await client.patch(
        f"/users/{account.id}/role", json={"role": "service"}, headers=admin_headers
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["msg"] == "Input should be 'user' or 'admin'"
    missing = await client.patch(
        f"/users/{uuid.uuid4()}/role", json={"role": "admin"}, headers=admin_headers
    )
    assert missing.status_code == 404
    not_uuid = await client.patch("/users/nope/role", json={"role": "admin"}, headers=admin_headers)
    assert not_uuid.status_code == 422
    admin_id = (await client.get("/me", headers=admin_headers)).json()["id"]
    own = await client.patch(
        f"/users/{admin_id}/role", json={"role": "user"}, headers=admin_headers
    )
    assert own.status_code == 409


async def test_metrics_are_exposed(client: httpx.AsyncClient) -> None:
    body = (await client.get("/metrics")).text
    for name in (
        "store_registrations_total",
        "store_logins_total",
        "store_login_failures_total",
        "store_token_refreshes_total",
        "store_refresh_reuse_detected_total",
    ):
        assert name in body
