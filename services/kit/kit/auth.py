"""Access-token verification against the users service's JWKS, and role dependencies.

Keys are cached by `kid`; an unknown `kid` triggers one refetch (rate-limited), so a key
rotation needs no restart; the cache is also refreshed after `max_age`, so a key removed
from the JWKS stops verifying without a restart either. The accepted algorithm comes from
the key itself, never from the token header: `alg: none` and HS256-with-the-public-key
tokens are refused.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlparse

import httpx
import jwt
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from pydantic import BaseModel

from kit.errors import Forbidden, ServiceUnavailable, Unauthorized
from kit.topology import TOPOLOGY

log = logging.getLogger("kit.auth")
ALGORITHM_BY_KTY = {"OKP": "EdDSA", "RSA": "RS256", "EC": "ES256"}


class Role(StrEnum):
    """The `role` claim of an access token."""

    USER = "user"
    ADMIN = "admin"
    SERVICE = "service"  # another service, with a client-credentials token


class Principal(BaseModel):
    """Who is calling: the token's subject and role."""

    id: str
    username: str
    role: Role


class JWKSVerifier:
    def __init__(
        self,
        jwks_url: str,
        *,
        issuer: str,
        audience: str,
        refetch_interval: float = 5.0,
        max_age: float = 300.0,
        leeway: float = 0.0,
        loader: Callable[[], Awaitable[dict[str, Any]]] | None = None,
    ) -> None:
        """`loader`, when given, replaces fetching `jwks_url`: the users service verifies
        its own tokens against its in-memory key ring, tests fetch through an ASGI client."""
        self.jwks_url = jwks_url
        self.loader = loader
        self.issuer = issuer
        self.audience = audience
        self.refetch_interval = refetch_interval
        self.max_age = max_age
        self.leeway = leeway
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def _load_jwks(self) -> dict[str, Any]:
        if self.loader is not None:
            return await self.loader()
        url = urlparse(self.jwks_url)
        if url.scheme == "file":
            data: dict[str, Any] = json.loads(await asyncio.to_thread(Path(url.path).read_text))
            return data
        async with httpx.AsyncClient(timeout=3.0) as client:
            response = await client.get(self.jwks_url)
            response.raise_for_status()
            fetched: dict[str, Any] = response.json()
            return fetched

    async def refresh(self) -> None:
        try:
            jwks = await self._load_jwks()
        except (httpx.HTTPError, OSError, ValueError) as exc:
            raise ServiceUnavailable("Signing keys are unavailable") from exc
        keys = {}
        for entry in jwks.get("keys", []):
            if "kid" in entry and entry.get("kty") in ALGORITHM_BY_KTY:
                keys[entry["kid"]] = jwt.PyJWK(entry, ALGORITHM_BY_KTY[entry["kty"]])
        self._keys = keys
        self._fetched_at = time.monotonic()

    async def key_for(self, kid: str) -> jwt.PyJWK:
        if kid not in self._keys or self._age() >= self.max_age:
            async with self._lock:
                age = self._age()
                unknown = kid not in self._keys
                if age >= self.max_age or (unknown and age >= self.refetch_interval):
                    try:
                        await self.refresh()
                    except ServiceUnavailable:
                        if unknown:
                            raise
                        # A known key keeps verifying while the JWKS is briefly unreachable.
                        log.warning("JWKS refresh failed; using the cached keys a while longer")
                        self._fetched_at = time.monotonic() - self.max_age + self.refetch_interval
        key = self._keys.get(kid)
        if key is None:
            raise Unauthorized("Token signed with an unknown key")
        return key

    def _age(self) -> float:
        return time.monotonic() - self._fetched_at

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized("Malformed token") from exc
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise Unauthorized("Token has no key id")
        key = await self.key_for(kid)
        try:
            claims = jwt.decode(
                token,
                key=key.key,
                algorithms=[key.algorithm_name],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "sub", "role"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("Token expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("Invalid token") from exc
        try:
            role = Role(claims["role"])
        except ValueError:
            raise Unauthorized("Invalid token role") from None
        return Principal(id=str(claims["sub"]), username=str(claims.get("name", "")), role=role)


# Swagger UI's Authorize button signs in through the gateway's route to the token issuer.
_LOGIN = f"{TOPOLOGY.issuer.prefix}/login"
_bearer = OAuth2PasswordBearer(
    tokenUrl=f"{_LOGIN}/form", auto_error=False, description=f"Access token from POST {_LOGIN}"
)


async def optional_principal(
    request: Request,
    token: Annotated[str | None, Depends(_bearer)],
) -> Principal | None:
    if token is None:
        return None
    verifier: JWKSVerifier = request.app.state.verifier
    principal = await verifier.verify(token)
    request.state.principal = principal
    return principal


async def _signed_in(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    if principal is None:
        raise Unauthorized("Sign in first: no bearer token")
    if principal.role is Role.SERVICE:
        # Service identities are for internal endpoints only.
        raise Forbidden("Service tokens are accepted only on internal endpoints")
    return principal


def require_role(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets through only the given roles."""

    async def check(
        principal: Annotated[Principal | None, Depends(optional_principal)],
    ) -> Principal:
        if principal is None:
            raise Unauthorized("Sign in first: no bearer token")
        if principal.role not in roles:
            raise Forbidden(f"This needs role {' or '.join(roles)}")
        return principal

    return check


MaybeUser = Annotated[Principal | None, Depends(optional_principal)]
CurrentUser = Annotated[Principal, Depends(_signed_in)]
AdminUser = Annotated[Principal, Depends(require_role(Role.ADMIN))]
ServiceCaller = Annotated[Principal, Depends(require_role(Role.SERVICE))]
