"""Access tokens (EdDSA JWTs signed by the key ring) and opaque refresh tokens."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass

import jwt
from kit.auth import Role

from users.keys import KeyRingSource


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_in: int
    kid: str
    jti: str


class TokenIssuer:
    """Signs access tokens in exactly the shape `kit.auth.JWKSVerifier` verifies."""

    def __init__(self, keys: KeyRingSource, *, issuer: str, audience: str) -> None:
        self.keys = keys
        self.issuer = issuer
        self.audience = audience

    def access_token(self, *, sub: str, name: str, role: Role, ttl: int) -> IssuedToken:
        key = self.keys.ring.active  # one read: the key and its kid always match
        now = int(time.time())
        jti = uuid.uuid4().hex
        claims = {
            "sub": sub,
            "name": name,
            "role": role,
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "exp": now + ttl,
            "jti": jti,
        }
        token = jwt.encode(
            claims, key.private_key, algorithm="EdDSA", headers={"kid": key.kid, "typ": "JWT"}
        )
        return IssuedToken(token, ttl, key.kid, jti)


def new_refresh_token() -> str:
    """256 random bits; only its hash is stored."""
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
