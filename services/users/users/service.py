"""Business rules: registration, sign-in, refresh-token rotation, roles, service identities."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any, NoReturn

from kit import clock
from kit import cursor as cursors
from kit.auth import Principal, Role
from kit.cursor import InvalidCursor

from users import metrics
from users.clients import ServiceClients
from users.config import UsersSettings
from users.errors import (
    CannotChangeOwnRole,
    EmailTaken,
    InvalidClient,
    InvalidCredentials,
    InvalidRefreshToken,
    UnsupportedGrantType,
    UsernameTaken,
    UserNotFound,
    WrongCurrentPassword,
)
from users.passwords import Passwords
from users.repository import Claim, ClaimKind, TokenUse, UserRecord, UsersRepository
from users.schemas import (
    AssignableRole,
    MeUpdate,
    RegisterIn,
    ServiceToken,
    TokenPair,
    UserOut,
)
from users.tokens import TokenIssuer, hash_refresh_token, new_refresh_token

log = logging.getLogger("users.service")

# A username/email claim whose registration never completed (the process died between the
# claim and the user row) may be taken over after this long.
ABANDONED_CLAIM = timedelta(minutes=2)


def user_out(user: UserRecord) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        email=user.email,
        role=user.role,
        created_at=user.created_at,
    )


def encode_cursor(position: int) -> str:
    return cursors.encode({"t": position})


def decode_cursor(cursor: str) -> int:
    """The partition token after which the next page starts."""
    token = cursors.decode(cursor).get("t")
    if type(token) is not int or not -(2**63) <= token < 2**63:
        raise InvalidCursor()
    return token


class UsersService:
    def __init__(
        self,
        repo: UsersRepository,
        passwords: Passwords,
        issuer: TokenIssuer,
        clients: ServiceClients,
        settings: UsersSettings,
    ) -> None:
        self.repo = repo
        self.passwords = passwords
        self.issuer = issuer
        self.clients = clients
        self.settings = settings

    # --- registration -------------------------------------------------------------------

    async def register(
        self, data: RegisterIn, *, role: AssignableRole = AssignableRole.USER
    ) -> UserOut:
        """Claim username then email with lightweight transactions; a failed second claim
        releases the first, so concurrent duplicates end with exactly one account."""
        password_hash = await self.passwords.hash(data.password)
        user_id = uuid.uuid4()
        now = clock.now()
        username_key, email_key = data.username.lower(), data.email.lower()
        if not await self._claim("username", username_key, user_id, now):
            raise UsernameTaken()
        if not await self._claim("email", email_key, user_id, now):
            await self.repo.release("username", username_key, user_id)
            raise EmailTaken()
        try:
            await self.repo.insert_user(
                user_id, data.username, data.email, password_hash, role, now
            )
        except Exception:
            await self.repo.release("email", email_key, user_id)
            await self.repo.release("username", username_key, user_id)
            raise
        metrics.REGISTRATIONS.inc()
        log.info("registered user %s (%s) with role %s", user_id, data.username, role)
        return UserOut(
            id=user_id, username=data.username, email=data.email, role=role, created_at=now
        )

    async def _claim(self, kind: ClaimKind, key: str, user_id: uuid.UUID, now: datetime) -> bool:
        current = await self.repo.claim(kind, key, user_id, now)
        if current is None:
            return True
        owner = current.user_id
        if owner is None or not await self._abandoned(kind, key, owner, current, now):
            return False
        taken = await self.repo.take_over(kind, key, owner, user_id, now)
        if taken:
            log.warning("took over abandoned %s claim %r from %s", kind, key, owner)
        return taken

    async def _abandoned(
        self, kind: ClaimKind, key: str, owner: uuid.UUID, claim: Claim, now: datetime
    ) -> bool:
        if claim.claimed_at is None or claim.claimed_at > now - ABANDONED_CLAIM:
            return False
        user = await self.repo.get_user(owner)
        held = None if user is None else user.username if kind == "username" else user.email
        return held is None or held.lower() != key

    # --- sign-in and tokens -------------------------------------------------------------

    async def login(self, username: str, password: str) -> TokenPair:
        user = await self.find_by_username(username)
        if user is None:
            await self.passwords.burn(password)
            self._login_failed("unknown_user")
        elif not await self.passwords.verify(user.password_hash, password):
            self._login_failed("bad_password")
        if self.passwords.needs_rehash(user.password_hash):
            new_hash = await self.passwords.hash(password)
            await self.repo.set_password_hash(user.id, new_hash, clock.now())
            log.info("rehashed the password of user %s with the current parameters", user.id)
        metrics.LOGINS.labels("success").inc()
        return await self._issue_pair(user, family_id=None)

    def _login_failed(self, reason: str) -> NoReturn:
        metrics.LOGINS.labels("failure").inc()
        metrics.LOGIN_FAILURES.labels(reason).inc()
        raise InvalidCredentials()

    async def find_by_username(self, username: str) -> UserRecord | None:
        key = username.lower()
        claim = await self.repo.owner("username", key)
        if claim is None or claim.user_id is None:
            return None
        user = await self.repo.get_user(claim.user_id)
        if user is None or user.username.lower() != key:
            return None
        return user

    async def _issue_pair(self, user: UserRecord, *, family_id: uuid.UUID | None) -> TokenPair:
        s = self.settings
        access = self.issuer.access_token(
            sub=str(user.id), name=user.username, role=Role(user.role), ttl=s.access_token_ttl
        )
        refresh = new_refresh_token()
        now = clock.now()
        if family_id is None:
            family_id = uuid.uuid4()
            await self.repo.create_family(family_id, user.id, now, s.refresh_token_ttl)
        else:
            await self.repo.extend_family(family_id, user.id, now, s.refresh_token_ttl)
        await self.repo.insert_refresh_token(
            hash_refresh_token(refresh),
            family_id,
            user.id,
            now,
            now + timedelta(seconds=s.refresh_token_ttl),
            s.refresh_token_ttl,
        )
        return TokenPair(
            access_token=access.token, refresh_token=refresh, expires_in=access.expires_in
        )

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate: the presented token is marked used (compare-and-set) and a new one of the
        same family is issued. A used token presented again revokes the whole family."""
        token_hash = hash_refresh_token(refresh_token)
        now = clock.now()
        token = await self.repo.get_refresh_token(token_hash)
        if token is None or token.expires_at is None:
            raise InvalidRefreshToken()
        remaining = int((token.expires_at - now).total_seconds())
        if remaining <= 0:
            raise InvalidRefreshToken()
        family_id = token.family_id
        if not await self._family_active(family_id):
            raise InvalidRefreshToken()
        outcome = await self.repo.mark_refresh_token_used(token_hash, now, remaining)
        if outcome is TokenUse.REUSED:
            await self._revoke(family_id)
            metrics.REFRESH_REUSE.inc()
            log.warning(
                "refresh token reuse detected; family %s of user %s revoked",
                family_id,
                token.user_id,
            )
        if outcome is not TokenUse.MARKED:
            raise InvalidRefreshToken()
        user = await self.repo.get_user(token.user_id)
        if user is None:
            raise InvalidRefreshToken()
        pair = await self._issue_pair(user, family_id=family_id)
        # A revocation racing this rotation must not leave a live token behind.
        if not await self._family_active(family_id):
            raise InvalidRefreshToken()
        metrics.TOKEN_REFRESHES.inc()
        return pair

    async def _family_active(self, family_id: uuid.UUID) -> bool:
        family = await self.repo.get_family(family_id)
        return family is not None and not family.revoked

    async def _revoke(self, family_id: uuid.UUID) -> None:
        # Outlive every token of the family (each lives at most refresh_token_ttl).
        ttl = self.settings.refresh_token_ttl + 86400
        await self.repo.revoke_family(family_id, clock.now(), ttl)

    async def logout(self, refresh_token: str) -> None:
        """Revoke the sign-in the token belongs to. Unknown tokens are ignored (idempotent)."""
        token = await self.repo.get_refresh_token(hash_refresh_token(refresh_token))
        if token is not None:
            await self._revoke(token.family_id)

    async def revoke_all_sessions(self, user_id: uuid.UUID) -> int:
        families = await self.repo.families_of_user(user_id)
        for family_id in families:
            await self._revoke(family_id)
        return len(families)

    # --- the signed-in user -------------------------------------------------------------

    async def get(self, user_id: uuid.UUID | str) -> UserOut:
        return user_out(await self._user(user_id))

    async def _user(self, user_id: uuid.UUID | str) -> UserRecord:
        try:
            uid = user_id if isinstance(user_id, uuid.UUID) else uuid.UUID(user_id)
        except ValueError as exc:
            raise UserNotFound() from exc
        user = await self.repo.get_user(uid)
        if user is None:
            raise UserNotFound()
        return user

    async def update_me(self, principal: Principal, data: MeUpdate) -> UserOut:
        user = await self._user(principal.id)
        uid = user.id
        if data.current_password is not None and not await self.passwords.verify(
            user.password_hash, data.current_password
        ):
            raise WrongCurrentPassword()
        new_hash = await self.passwords.hash(data.password) if data.password else None
        now = clock.now()
        if data.email is not None and data.email != user.email:
            old_key, new_key = user.email.lower(), data.email.lower()
            if new_key != old_key and not await self._claim("email", new_key, uid, now):
                raise EmailTaken()
            await self.repo.set_email(uid, data.email, now)
            if new_key != old_key:
                await self.repo.release("email", old_key, uid)
        if new_hash is not None:
            await self.repo.set_password_hash(uid, new_hash, now)
            revoked = await self.revoke_all_sessions(uid)
            log.info("password of user %s changed; %d session(s) revoked", uid, revoked)
        return await self.get(uid)

    # --- administration -----------------------------------------------------------------

    async def list_users(
        self, *, limit: int, cursor: str | None
    ) -> tuple[list[UserOut], str | None]:
        after = decode_cursor(cursor) if cursor else None
        found = await self.repo.list_users(after_token=after, limit=limit + 1)
        page, more = found[:limit], len(found) > limit
        next_cursor = encode_cursor(page[-1][0]) if more and page else None
        return [user_out(user) for _, user in page], next_cursor

    async def set_role(self, actor: Principal, user_id: uuid.UUID, role: AssignableRole) -> UserOut:
        if actor.id == str(user_id):
            raise CannotChangeOwnRole()
        user = await self._user(user_id)
        if user.role != role:
            await self.repo.set_role(user_id, role, clock.now())
            log.info("user %s role %s -> %s by %s", user_id, user.role, role, actor.id)
        return await self.get(user_id)

    async def ensure_admin(self, username: str, email: str, password: str) -> bool:
        """Create the administrator unless the username exists. Never promotes an existing
        account: whoever registered the name first must not become admin that way."""
        data = RegisterIn(username=username, email=email, password=password)
        existing = await self.find_by_username(username)
        if existing is not None:
            if existing.role is not AssignableRole.ADMIN:
                log.error(
                    "bootstrap admin %r exists with role %r; not promoting it (use users-admin)",
                    username,
                    existing.role,
                )
            return False
        try:
            await self.register(data, role=AssignableRole.ADMIN)
        except UsernameTaken:
            return False  # another replica created it just now
        log.info("created administrator %r", username)
        return True

    # --- service identities -------------------------------------------------------------

    def service_token(self, grant_type: str, client_id: str, client_secret: str) -> ServiceToken:
        if grant_type != "client_credentials":
            metrics.SERVICE_TOKENS.labels("failure").inc()
            raise UnsupportedGrantType()
        if not client_id or not self.clients.authenticate(client_id, client_secret):
            metrics.SERVICE_TOKENS.labels("failure").inc()
            raise InvalidClient()
        token = self.issuer.access_token(
            sub=f"service:{client_id}",
            name=client_id,
            role=Role.SERVICE,
            ttl=self.settings.service_token_ttl,
        )
        metrics.SERVICE_TOKENS.labels("success").inc()
        return ServiceToken(access_token=token.token, expires_in=token.expires_in)

    def jwks(self) -> dict[str, Any]:
        return self.issuer.keys.ring.jwks()
