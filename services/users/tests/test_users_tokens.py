"""Access-token attacks, refresh rotation and reuse, logout, service identities, JWKS."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from kit.auth import JWKSVerifier
from kit.errors import Unauthorized
from prometheus_client import REGISTRY
from users import keys as keyring

from tests.support.users import (
    PASSWORD,
    SERVICE_CLIENTS,
    Account,
    login,
    service_token,
)

pytestmark = pytest.mark.integration


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def craft(header: dict[str, Any], claims: dict[str, Any], sign: Callable[[bytes], bytes]) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(sign(signing_input.encode()))}"


def ring(keys_dir: Path) -> keyring.KeyRing:
    return keyring.parse_ring(keyring.read_ring_files(keys_dir))


def claims_for(account: Account, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "sub": account.id,
        "name": account.username,
        "role": "user",
        "iss": "product-store",
        "aud": "product-store",
        "iat": now,
        "exp": now + 300,
        **overrides,
    }


@pytest.fixture
def jwks_verifier(client: httpx.AsyncClient) -> JWKSVerifier:
    """The real kit verifier, fed from the service's own /.well-known/jwks.json endpoint."""

    async def fetch() -> dict[str, Any]:
        response = await client.get("/.well-known/jwks.json")
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    return JWKSVerifier("unused", issuer="product-store", audience="product-store", loader=fetch)


def attacks(keys_dir: Path, account: Account) -> dict[str, str]:
    current = ring(keys_dir)
    kid = current.active.kid
    real_key = current.active.private_key
    public = real_key.public_key()
    raw_public = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    pem_public = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    jwk_x = current.active.public_jwk["x"].encode()
    claims = claims_for(account)

    def hs256(secret: bytes) -> Callable[[bytes], bytes]:
        return lambda data: hmac.new(secret, data, hashlib.sha256).digest()

    header = {"typ": "JWT", "kid": kid}
    parts = account.access_token.split(".")
    tampered = json.loads(unb64(parts[1]))
    tampered["role"] = "admin"
    impostor = Ed25519PrivateKey.generate()
    now = int(time.time())
    return {
        "alg none": craft({**header, "alg": "none"}, claims, lambda _: b""),
        "alg None": craft({**header, "alg": "None"}, claims, lambda _: b""),
        "hs256 with raw public key": craft({**header, "alg": "HS256"}, claims, hs256(raw_public)),
        "hs256 with pem public key": craft({**header, "alg": "HS256"}, claims, hs256(pem_public)),
        "hs256 with jwk x": craft({**header, "alg": "HS256"}, claims, hs256(jwk_x)),
        "other key, same kid": jwt.encode(claims, impostor, "EdDSA", headers={"kid": kid}),
        "role tampered to admin": ".".join(
            [parts[0], b64(json.dumps(tampered).encode()), parts[2]]
        ),
        "signature stripped": f"{parts[0]}.{parts[1]}.",
        "expired": jwt.encode(
            claims_for(account, iat=now - 1000, exp=now - 10),
            real_key,
            "EdDSA",
            headers={"kid": kid},
        ),
        "wrong audience": jwt.encode(
            claims_for(account, aud="elsewhere"), real_key, "EdDSA", headers={"kid": kid}
        ),
        "wrong issuer": jwt.encode(
            claims_for(account, iss="evil"), real_key, "EdDSA", headers={"kid": kid}
        ),
        "no exp": jwt.encode(
            {k: v for k, v in claims.items() if k != "exp"},
            real_key,
            "EdDSA",
            headers={"kid": kid},
        ),
        "unknown role": jwt.encode(
            claims_for(account, role="root"), real_key, "EdDSA", headers={"kid": kid}
        ),
        "role not a string": jwt.encode(
            claims_for(account, role=["admin"]), real_key, "EdDSA", headers={"kid": kid}
        ),
        "unknown kid": jwt.encode(claims, impostor, "EdDSA", headers={"kid": "nope"}),
        "no kid": jwt.encode(claims, real_key, "EdDSA"),
        "garbage": "not.a.token",
    }


async def test_token_attacks_are_refused(
    client: httpx.AsyncClient, keys_dir: Path, account: Account, jwks_verifier: JWKSVerifier
) -> None:
    current = ring(keys_dir)
    # The control: a token made the same way with the real key is accepted by both.
    genuine = jwt.encode(
        claims_for(account),
        current.active.private_key,
        "EdDSA",
        headers={"kid": current.active.kid},
    )
    assert (
        await client.get("/me", headers={"Authorization": f"Bearer {genuine}"})
    ).status_code == 200
    assert (await jwks_verifier.verify(genuine)).id == account.id
    for name, token in attacks(keys_dir, account).items():
        response = await client.get("/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, (name, response.status_code, response.text)
        with pytest.raises(Unauthorized):
            await jwks_verifier.verify(token)
        admin = await client.get("/users", headers={"Authorization": f"Bearer {token}"})
        assert admin.status_code == 401, (name, admin.status_code)


async def test_issued_access_token_shape(
    client: httpx.AsyncClient, keys_dir: Path, account: Account, jwks_verifier: JWKSVerifier
) -> None:
    header = jwt.get_unverified_header(account.access_token)
    assert header["alg"] == "EdDSA" and header["kid"] == ring(keys_dir).active.kid
    claims = jwt.decode(account.access_token, options={"verify_signature": False})
    assert set(claims) == {"sub", "name", "role", "iss", "aud", "iat", "exp", "jti"}
    assert claims["sub"] == account.id and claims["name"] == account.username
    assert claims["role"] == "user" and claims["exp"] - claims["iat"] == 900
    assert claims["iss"] == claims["aud"] == "product-store"
    principal = await jwks_verifier.verify(account.access_token)
    assert (principal.id, principal.username, principal.role) == (
        account.id,
        account.username,
        "user",
    )


async def test_jwks_publishes_public_keys_only(client: httpx.AsyncClient, keys_dir: Path) -> None:
    response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    keys = response.json()["keys"]
    assert {k["kid"] for k in keys} == set(ring(keys_dir).keys)
    for key in keys:
        assert key["kty"] == "OKP" and key["crv"] == "Ed25519" and "d" not in key


# --- refresh tokens ------------------------------------------------------------------------


def metric(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/refresh", json={"refresh_token": token})


async def test_refresh_rotates(client: httpx.AsyncClient, account: Account) -> None:
    before = metric("store_token_refreshes_total")
    first = await refresh(client, account.refresh_token)
    assert first.status_code == 200, first.text
    pair = first.json()
    assert pair["refresh_token"] != account.refresh_token
    assert pair["access_token"] != account.access_token
    me = await client.get("/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert me.status_code == 200
    second = await refresh(client, pair["refresh_token"])
    assert second.status_code == 200
    assert metric("store_token_refreshes_total") == before + 2


async def test_refresh_token_is_stored_hashed(app: FastAPI, account: Account) -> None:
    repo = app.state.users.repo
    assert await repo.get_refresh_token(account.refresh_token) is None
    digest = hashlib.sha256(account.refresh_token.encode()).hexdigest()
    assert await repo.get_refresh_token(digest) is not None


async def test_reusing_a_rotated_token_revokes_the_family(
    client: httpx.AsyncClient, account: Account
) -> None:
    before = metric("store_refresh_reuse_detected_total")
    other_session = await login(client, account.username, PASSWORD)
    rotated = (await refresh(client, account.refresh_token)).json()
    newest = (await refresh(client, rotated["refresh_token"])).json()
    # The stolen, already-used first token comes back.
    replay = await refresh(client, account.refresh_token)
    assert replay.status_code == 401
    assert metric("store_refresh_reuse_detected_total") == before + 1
    # Every token of that family is dead, including the newest one.
    assert (await refresh(client, newest["refresh_token"])).status_code == 401
    assert (await refresh(client, rotated["refresh_token"])).status_code == 401
    # Another sign-in of the same account is a different family and still works.
    assert (await refresh(client, other_session["refresh_token"])).status_code == 200


async def test_concurrent_use_of_one_refresh_token(
    client: httpx.AsyncClient, account: Account
) -> None:
    responses = await asyncio.gather(*(refresh(client, account.refresh_token) for _ in range(8)))
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) <= 1 and statuses.count(401) >= 7, statuses
    # The losers were reuse: the family is revoked, the winner's token too.
    for response in responses:
        if response.status_code == 200:
            again = await refresh(client, response.json()["refresh_token"])
            assert again.status_code == 401


@pytest.mark.parametrize("token", ["", "x" * 513, "never-issued-token"])
async def test_invalid_refresh_tokens(client: httpx.AsyncClient, token: str) -> None:
    response = await refresh(client, token)
    assert response.status_code in (401, 422)
    assert response.status_code == 401 or token in ("", "x" * 513)


async def test_logout_revokes_the_family(client: httpx.AsyncClient, account: Account) -> None:
    rotated = (await refresh(client, account.refresh_token)).json()
    response = await client.post("/logout", json={"refresh_token": rotated["refresh_token"]})
    assert response.status_code == 204 and response.content == b""
    assert (await refresh(client, rotated["refresh_token"])).status_code == 401
    # Logging out twice, or with an unknown token, is harmless.
    assert (await client.post("/logout", json={"refresh_token": "unknown"})).status_code == 204
    assert (
        await client.post("/logout", json={"refresh_token": rotated["refresh_token"]})
    ).status_code == 204


async def test_expired_refresh_token_is_refused(
    app: FastAPI, client: httpx.AsyncClient, account: Account
) -> None:
    import uuid
    from datetime import UTC, datetime, timedelta

    repo = app.state.users.repo
    now = datetime.now(UTC)
    family = uuid.uuid4()
    await repo.create_family(family, uuid.UUID(account.id), now, 3600)
    digest = hashlib.sha256(b"old-refresh-token").hexdigest()
    await repo.insert_refresh_token(
        digest,
        family,
        uuid.UUID(account.id),
        now - timedelta(days=20),
        now - timedelta(days=6),
        3600,
    )
    assert (await refresh(client, "old-refresh-token")).status_code == 401


# --- service identities --------------------------------------------------------------------


async def test_service_token_works_only_on_internal_endpoints(
    client: httpx.AsyncClient, account: Account, jwks_verifier: JWKSVerifier
) -> None:
    token = await service_token(client, "orders")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["role"] == "service" and claims["sub"] == "service:orders"
    assert claims["exp"] - claims["iat"] == 300
    assert (await jwks_verifier.verify(token)).role == "service"
    headers = {"Authorization": f"Bearer {token}"}
    internal = await client.get(f"/internal/users/{account.id}", headers=headers)
    assert internal.status_code == 200 and internal.json()["username"] == account.username
    assert "password_hash" not in internal.text
    assert (await client.get("/me", headers=headers)).status_code == 403
    assert (await client.get("/users", headers=headers)).status_code == 403
    assert (
        await client.get(f"/internal/users/{account.id}", headers=account.headers)
    ).status_code == 403


async def test_service_token_via_http_basic(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("cart", SERVICE_CLIENTS["cart"]),
    )
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "bearer"
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("form", "status"),
    [
        ({"grant_type": "client_credentials", "client_id": "cart", "client_secret": "wrong"}, 401),
        (
            {"grant_type": "client_credentials", "client_id": "ghost", "client_secret": "x" * 20},
            401,
        ),
        ({"grant_type": "client_credentials", "client_id": "cart"}, 401),
        ({"grant_type": "client_credentials"}, 401),
        (
            {
                "grant_type": "password",
                "client_id": "cart",
                "client_secret": SERVICE_CLIENTS["cart"],
            },
            400,
        ),
        ({"client_id": "cart", "client_secret": SERVICE_CLIENTS["cart"]}, 422),
    ],
)
async def test_service_token_failures(
    client: httpx.AsyncClient, form: dict[str, str], status: int
) -> None:
    response = await client.post("/oauth/token", data=form)
    assert response.status_code == status, response.text
    if status == 401:
        assert response.json()["error"] == "invalid_client"


async def test_service_token_as_json_is_not_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/oauth/token",
        json={
            "grant_type": "client_credentials",
            "client_id": "cart",
            "client_secret": SERVICE_CLIENTS["cart"],
        },
    )
    assert response.status_code == 422


async def test_no_configured_clients_means_no_service_tokens(
    cassandra_node: None, settings: Any
) -> None:
    from users.main import create_app

    from tests.support.apps import serve

    bare = create_app(settings.model_copy(update={"service_clients": {}, "admin_username": None}))
    async with serve(bare) as other:
        for client_id, secret in SERVICE_CLIENTS.items():
            response = await other.post(
                "/oauth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": client_id,
                    "client_secret": secret,
                },
            )
            assert response.status_code == 401
