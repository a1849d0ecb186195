"""Every CQL statement of the users service.

Consistency: LOCAL_QUORUM for reads and writes, LOCAL_SERIAL for lightweight transactions
(kit defaults). Tables written with lightweight transactions (`users_by_username`,
`users_by_email`, `refresh_tokens`) are never written without one, so a Paxos write is never
shadowed by a plain write carrying a later client timestamp.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Literal

from kit import clock
from kit.cassandra import CassandraDB, Row

from users.schemas import AssignableRole

MIGRATIONS = Path(__file__).parent / "migrations"
ClaimKind = Literal["username", "email"]


class TokenUse(Enum):
    """What presenting a refresh token did to it."""

    MARKED = "marked"  # this call used it
    REUSED = "reused"  # it was used already: a replay
    GONE = "gone"  # it expired meanwhile


USER_COLUMNS = "id, username, email, password_hash, role, created_at, updated_at"


def _role(stored: str | None) -> AssignableRole:
    """Anything but admin is an ordinary account."""
    return AssignableRole.ADMIN if stored == AssignableRole.ADMIN else AssignableRole.USER


@dataclass(frozen=True)
class UserRecord:
    """A `users` row."""

    id: uuid.UUID
    username: str
    email: str
    password_hash: str
    role: AssignableRole
    created_at: datetime

    @classmethod
    def from_row(cls, row: Row) -> UserRecord:
        return cls(
            id=row["id"],
            username=row["username"],
            email=row["email"],
            password_hash=row["password_hash"],
            role=_role(row["role"]),
            created_at=clock.utc(row["created_at"]),
        )


@dataclass(frozen=True)
class Claim:
    """Who holds a username or email, since when (None: unknown, a claim cut short)."""

    user_id: uuid.UUID | None
    claimed_at: datetime | None

    @classmethod
    def from_row(cls, row: Row) -> Claim:
        claimed_at = row.get("claimed_at")
        return cls(row.get("user_id"), clock.utc(claimed_at) if claimed_at else None)


@dataclass(frozen=True)
class RefreshTokenRecord:
    """A `refresh_tokens` row (keyed by the token's hash)."""

    family_id: uuid.UUID
    user_id: uuid.UUID
    expires_at: datetime | None


@dataclass(frozen=True)
class Family:
    """A `refresh_families` row: one sign-in and every token rotated from it."""

    user_id: uuid.UUID
    revoked: bool


_CLAIM = {
    "username": "INSERT INTO users_by_username (username, user_id, claimed_at) "
    "VALUES (?, ?, ?) IF NOT EXISTS",
    "email": "INSERT INTO users_by_email (email, user_id, claimed_at) "
    "VALUES (?, ?, ?) IF NOT EXISTS",
}
_TAKEOVER = {
    "username": "UPDATE users_by_username SET user_id = ?, claimed_at = ? "
    "WHERE username = ? IF user_id = ?",
    "email": "UPDATE users_by_email SET user_id = ?, claimed_at = ? WHERE email = ? IF user_id = ?",
}
_RELEASE = {
    "username": "DELETE FROM users_by_username WHERE username = ? IF user_id = ?",
    "email": "DELETE FROM users_by_email WHERE email = ? IF user_id = ?",
}
_OWNER = {
    "username": "SELECT user_id, claimed_at FROM users_by_username WHERE username = ?",
    "email": "SELECT user_id, claimed_at FROM users_by_email WHERE email = ?",
}


class UsersRepository:
    def __init__(self, db: CassandraDB) -> None:
        self.db = db

    # --- uniqueness claims --------------------------------------------------------------

    async def claim(
        self, kind: ClaimKind, key: str, user_id: uuid.UUID, now: datetime
    ) -> Claim | None:
        """Claim a username or email; None when it applied, else the current claim."""
        applied, row = await self.db.applied(
            _CLAIM[kind], (key, user_id, now), name=f"claim_{kind}"
        )
        return None if applied else Claim.from_row(row)

    async def take_over(
        self, kind: ClaimKind, key: str, old: uuid.UUID, new: uuid.UUID, now: datetime
    ) -> bool:
        applied, _ = await self.db.applied(
            _TAKEOVER[kind], (new, now, key, old), name=f"takeover_{kind}"
        )
        return applied

    async def release(self, kind: ClaimKind, key: str, user_id: uuid.UUID) -> bool:
        applied, _ = await self.db.applied(_RELEASE[kind], (key, user_id), name=f"release_{kind}")
        return applied

    async def owner(self, kind: ClaimKind, key: str) -> Claim | None:
        row = await self.db.one(_OWNER[kind], (key,), name=f"owner_{kind}")
        return Claim.from_row(row) if row else None

    # --- users --------------------------------------------------------------------------

    async def insert_user(
        self,
        user_id: uuid.UUID,
        username: str,
        email: str,
        password_hash: str,
        role: AssignableRole,
        now: datetime,
    ) -> None:
        await self.db.execute(
            f"INSERT INTO users ({USER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (user_id, username, email, password_hash, role, now, now),
            name="insert_user",
        )

    async def get_user(self, user_id: uuid.UUID) -> UserRecord | None:
        row = await self.db.one(
            f"SELECT {USER_COLUMNS} FROM users WHERE id = ?", (user_id,), name="get_user"
        )
        return UserRecord.from_row(row) if row else None

    async def list_users(
        self, *, after_token: int | None, limit: int
    ) -> list[tuple[int, UserRecord]]:
        """Users in token order after a position (keyset paging on the partition token:
        any 64-bit value is a valid position, unlike a driver paging state, which the
        server rejects with a protocol error that also drops the connection).
        Returns (position, user) pairs."""
        if after_token is None:
            rows = await self.db.rows(
                f"SELECT {USER_COLUMNS}, token(id) AS position FROM users LIMIT ?",
                (limit,),
                name="list_users",
            )
        else:
            rows = await self.db.rows(
                f"SELECT {USER_COLUMNS}, token(id) AS position FROM users "
                "WHERE token(id) > ? LIMIT ?",
                (after_token, limit),
                name="list_users",
            )
        return [(row["position"], UserRecord.from_row(row)) for row in rows]

    async def set_password_hash(
        self, user_id: uuid.UUID, password_hash: str, now: datetime
    ) -> None:
        await self.db.execute(
            "UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?",
            (password_hash, now, user_id),
            name="set_password_hash",
        )

    async def set_email(self, user_id: uuid.UUID, email: str, now: datetime) -> None:
        await self.db.execute(
            "UPDATE users SET email = ?, updated_at = ? WHERE id = ?",
            (email, now, user_id),
            name="set_email",
        )

    async def set_role(self, user_id: uuid.UUID, role: AssignableRole, now: datetime) -> None:
        await self.db.execute(
            "UPDATE users SET role = ?, updated_at = ? WHERE id = ?",
            (role, now, user_id),
            name="set_role",
        )

    # --- refresh tokens -----------------------------------------------------------------

    async def insert_refresh_token(
        self,
        token_hash: str,
        family_id: uuid.UUID,
        user_id: uuid.UUID,
        now: datetime,
        expires_at: datetime,
        ttl: int,
    ) -> bool:
        applied, _ = await self.db.applied(
            "INSERT INTO refresh_tokens "
            "(token_hash, family_id, user_id, used, created_at, expires_at) "
            "VALUES (?, ?, ?, false, ?, ?) IF NOT EXISTS USING TTL ?",
            (token_hash, family_id, user_id, now, expires_at, ttl),
            name="insert_refresh_token",
        )
        return applied

    async def get_refresh_token(self, token_hash: str) -> RefreshTokenRecord | None:
        row = await self.db.one(
            "SELECT family_id, user_id, expires_at FROM refresh_tokens WHERE token_hash = ?",
            (token_hash,),
            name="get_refresh_token",
        )
        if row is None:
            return None
        expires_at = row["expires_at"]
        return RefreshTokenRecord(
            row["family_id"], row["user_id"], clock.utc(expires_at) if expires_at else None
        )

    async def mark_refresh_token_used(self, token_hash: str, now: datetime, ttl: int) -> TokenUse:
        """Compare-and-set `used` false → true."""
        applied, row = await self.db.applied(
            "UPDATE refresh_tokens USING TTL ? SET used = true, used_at = ? "
            "WHERE token_hash = ? IF used = false",
            (ttl, now, token_hash),
            name="use_refresh_token",
        )
        if applied:
            return TokenUse.MARKED
        return TokenUse.REUSED if row.get("used") else TokenUse.GONE

    async def create_family(
        self, family_id: uuid.UUID, user_id: uuid.UUID, now: datetime, ttl: int
    ) -> None:
        await self.db.execute(
            "INSERT INTO refresh_families (family_id, user_id, revoked, created_at) "
            "VALUES (?, ?, false, ?) USING TTL ?",
            (family_id, user_id, now, ttl),
            name="create_family",
        )
        await self._index_family(family_id, user_id, now, ttl)

    async def extend_family(
        self, family_id: uuid.UUID, user_id: uuid.UUID, now: datetime, ttl: int
    ) -> None:
        """Keep the family alive as long as its newest token (sliding expiry)."""
        await self.db.execute(
            "UPDATE refresh_families USING TTL ? SET user_id = ? WHERE family_id = ?",
            (ttl, user_id, family_id),
            name="extend_family",
        )
        await self._index_family(family_id, user_id, now, ttl)

    async def _index_family(
        self, family_id: uuid.UUID, user_id: uuid.UUID, now: datetime, ttl: int
    ) -> None:
        await self.db.execute(
            "INSERT INTO refresh_families_by_user (user_id, family_id, created_at) "
            "VALUES (?, ?, ?) USING TTL ?",
            (user_id, family_id, now, ttl),
            name="index_family",
        )

    async def get_family(self, family_id: uuid.UUID) -> Family | None:
        row = await self.db.one(
            "SELECT user_id, revoked FROM refresh_families WHERE family_id = ?",
            (family_id,),
            name="get_family",
        )
        return Family(row["user_id"], bool(row["revoked"])) if row else None

    async def revoke_family(self, family_id: uuid.UUID, now: datetime, ttl: int) -> None:
        await self.db.execute(
            "UPDATE refresh_families USING TTL ? SET revoked = true, revoked_at = ? "
            "WHERE family_id = ?",
            (ttl, now, family_id),
            name="revoke_family",
        )

    async def families_of_user(self, user_id: uuid.UUID) -> list[uuid.UUID]:
        rows = await self.db.rows(
            "SELECT family_id FROM refresh_families_by_user WHERE user_id = ? LIMIT 10000",
            (user_id,),
            name="families_of_user",
        )
        return [row["family_id"] for row in rows]
