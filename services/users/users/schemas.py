"""Request and response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

Username = Annotated[str, Field(min_length=3, max_length=32, pattern=r"^[a-zA-Z0-9_.-]+$")]
Password = Annotated[str, Field(min_length=8, max_length=128)]


class AssignableRole(StrEnum):
    """A role an account can hold."""

    USER = "user"
    ADMIN = "admin"


class RegisterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username
    email: EmailStr
    password: Password


class LoginIn(BaseModel):
    # Deliberately loose: a malformed username simply fails to sign in (401).
    username: str = Field(min_length=1, max_length=256)
    password: str = Field(min_length=1, max_length=1024)


class LoginForm(LoginIn):
    """POST /login/form: the OAuth2 password form of Swagger's Authorize button, with the
    limits of LoginIn (other fields it sends, such as scope, are ignored)."""

    grant_type: str | None = Field(default=None, pattern="^password$")


class RefreshIn(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=512)


class MeUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr | None = None
    password: Password | None = None
    current_password: str | None = Field(
        default=None, max_length=1024, description="Required to change the password"
    )

    @model_validator(mode="after")
    def _check(self) -> MeUpdate:
        if self.email is None and self.password is None:
            raise ValueError("nothing to change: give email and/or password")
        if self.password is not None and not self.current_password:
            raise ValueError("current_password is required to change the password")
        return self


class RoleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: AssignableRole


class UserOut(BaseModel):
    id: uuid.UUID
    username: str
    email: str
    role: str
    created_at: datetime


class UserPage(BaseModel):
    items: list[UserOut]
    next_cursor: str | None


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Access-token lifetime in seconds")


class ServiceToken(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
