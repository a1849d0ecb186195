"""The users service's failures; kit.errors maps them to problem details in one place."""

from __future__ import annotations

from kit.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized


class UsernameTaken(Conflict):
    def __init__(self) -> None:
        super().__init__("This username is already taken", field="username")


class EmailTaken(Conflict):
    def __init__(self) -> None:
        super().__init__("This email address is already registered", field="email")


class InvalidCredentials(Unauthorized):
    """One message for an unknown user and a wrong password: nothing tells them apart."""

    def __init__(self) -> None:
        super().__init__("Incorrect username or password")


class InvalidRefreshToken(Unauthorized):
    """Unknown, expired, used or revoked: the client must sign in again."""

    def __init__(self) -> None:
        super().__init__("Invalid or expired refresh token; sign in again")


class WrongCurrentPassword(Forbidden):
    def __init__(self) -> None:
        super().__init__("The current password is incorrect")


class CannotChangeOwnRole(Conflict):
    def __init__(self) -> None:
        super().__init__("Administrators cannot change their own role")


class UserNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No such user")


class InvalidClient(Unauthorized):
    """OAuth2 client authentication failed (RFC 6749 section 5.2 `invalid_client`)."""

    def __init__(self) -> None:
        super().__init__("Client authentication failed", error="invalid_client")


class UnsupportedGrantType(BadRequest):
    def __init__(self) -> None:
        super().__init__(
            "Only grant_type=client_credentials is supported", error="unsupported_grant_type"
        )
