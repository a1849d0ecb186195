"""HTTP endpoints of the users service (the gateway exposes them under /user-api)."""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Annotated, Any
from urllib.parse import unquote

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from kit.auth import AdminUser, CurrentUser, ServiceCaller

from users.errors import InvalidClient
from users.schemas import (
    LoginForm,
    LoginIn,
    MeUpdate,
    RefreshIn,
    RegisterIn,
    RoleUpdate,
    ServiceToken,
    TokenPair,
    UserOut,
    UserPage,
)
from users.service import UsersService

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def get_service(request: Request) -> UsersService:
    service: UsersService = request.app.state.users
    return service


Service = Annotated[UsersService, Depends(get_service)]

router = APIRouter()


def _no_store(response: Response) -> None:
    response.headers.update(NO_STORE)


# --- accounts and sessions -------------------------------------------------------------------


@router.post("/register", status_code=201, tags=["account"])
async def register(body: RegisterIn, service: Service) -> UserOut:
    """Create an account with role `user`. 409 if the username or email is taken."""
    return await service.register(body)


@router.post("/login", tags=["account"])
async def login(body: LoginIn, service: Service, response: Response) -> TokenPair:
    """Sign in: an access token (15 minutes) and a refresh token (rotated on every use)."""
    _no_store(response)
    return await service.login(body.username, body.password)


@router.post("/login/form", tags=["account"])
async def login_form(
    form: Annotated[LoginForm, Form()], service: Service, response: Response
) -> TokenPair:
    """The same as /login with an OAuth2 password form (Swagger's Authorize button)."""
    _no_store(response)
    return await service.login(form.username, form.password)


@router.post("/refresh", tags=["account"])
async def refresh(body: RefreshIn, service: Service, response: Response) -> TokenPair:
    """Exchange a refresh token for a new pair. Presenting a used token revokes its family."""
    _no_store(response)
    return await service.refresh(body.refresh_token)


@router.post("/logout", status_code=204, tags=["account"])
async def logout(body: RefreshIn, service: Service) -> Response:
    """Revoke the sign-in the refresh token belongs to (its whole family)."""
    await service.logout(body.refresh_token)
    return Response(status_code=204)


@router.get("/me", tags=["account"])
async def me(principal: CurrentUser, service: Service) -> UserOut:
    return await service.get(principal.id)


@router.patch("/me", tags=["account"])
async def update_me(principal: CurrentUser, body: MeUpdate, service: Service) -> UserOut:
    """Change email and/or password; a password change needs `current_password` and signs
    out every session (refresh-token family) of the account."""
    return await service.update_me(principal, body)


# --- administration ------------------------------------------------------------------------


@router.get("/users", tags=["admin"])
async def list_users(
    _: AdminUser,
    service: Service,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=4096)] = None,
) -> UserPage:
    items, next_cursor = await service.list_users(limit=limit, cursor=cursor)
    return UserPage(items=items, next_cursor=next_cursor)


@router.patch("/users/{user_id}/role", tags=["admin"])
async def set_role(
    user_id: uuid.UUID, body: RoleUpdate, admin: AdminUser, service: Service
) -> UserOut:
    """Make a user an administrator or take it back. Takes effect at the user's next
    token refresh (access tokens live 15 minutes)."""
    return await service.set_role(admin, user_id, body.role)


# --- keys and service identities -----------------------------------------------------------


@router.get("/.well-known/jwks.json", tags=["keys"])
async def jwks(service: Service, response: Response) -> dict[str, Any]:
    """Every public key that verifies access tokens (the active one and those still valid)."""
    response.headers["Cache-Control"] = "public, max-age=30"
    return service.jwks()


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    """RFC 6749 section 2.3.1: client id and secret form-url-encoded inside HTTP Basic."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidClient() from exc
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise InvalidClient()
    return unquote(client_id), unquote(secret)


@router.post("/oauth/token", tags=["keys"])
async def service_token(
    request: Request,
    service: Service,
    response: Response,
    grant_type: Annotated[str, Form(max_length=64)],
    client_id: Annotated[str | None, Form(max_length=128)] = None,
    client_secret: Annotated[str | None, Form(max_length=1024)] = None,
) -> ServiceToken:
    """OAuth2 client credentials (form-encoded; credentials in the form or HTTP Basic):
    a 5-minute access token with role `service` and subject `service:<client_id>`."""
    _no_store(response)
    basic = _basic_credentials(request)
    if basic is not None:
        client_id, client_secret = basic
    return service.service_token(grant_type, client_id or "", client_secret or "")


@router.get("/internal/users/{user_id}", tags=["internal"], include_in_schema=False)
async def internal_user(user_id: uuid.UUID, _: ServiceCaller, service: Service) -> UserOut:
    """A user's public profile, for other services (service identity only; the gateway
    never routes /internal/)."""
    return await service.get(user_id)
