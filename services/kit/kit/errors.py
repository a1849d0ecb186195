"""One error type for the domain, mapped to RFC 9457 problem details in one place."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from cassandra import OperationTimedOut, ReadTimeout, Unavailable, WriteTimeout
from cassandra.cluster import NoHostAvailable
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from kit.context import request_id

log = logging.getLogger("kit.errors")
PROBLEM_JSON = "application/problem+json"


class AppError(Exception):
    """A failure with a meaning for the client. Subclasses fix the status code."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra
        self.headers: dict[str, str] = {}  # added to the response

    def problem(self) -> dict[str, Any]:
        """The members a client gets (a service may record them to answer the same again)."""
        return {**self.extra, "title": self.title, "status": self.status, "detail": self.detail}

    @classmethod
    def from_problem(cls, members: Mapping[str, Any]) -> AppError:
        """The error `problem()` described, to raise again."""
        standard = ("type", "title", "status", "detail", "request_id")
        error = cls(
            str(members.get("detail", "")),
            **{k: v for k, v in members.items() if k not in standard},
        )
        error.status = int(members.get("status", cls.status))
        error.title = str(members.get("title", cls.title))
        return error


class BadRequest(AppError):
    status, title = 400, "Bad request"


class Unauthorized(AppError):
    status, title = 401, "Unauthorized"


class Forbidden(AppError):
    status, title = 403, "Forbidden"


class NotFound(AppError):
    status, title = 404, "Not found"


class Conflict(AppError):
    status, title = 409, "Conflict"


class ServiceUnavailable(AppError):
    status, title = 503, "Service unavailable"


def problem(status: int, title: str, detail: Any, /, **extra: Any) -> JSONResponse:
    # Extension members never override the standard ones (an error may carry e.g. `status`).
    body = {**extra, "type": "about:blank", "title": title, "status": status, "detail": detail}
    if rid := request_id.get():
        body["request_id"] = rid
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def _app_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    response = problem(exc.status, exc.title, exc.detail, **exc.extra)
    response.headers.update(exc.headers)
    return response


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    return problem(422, "Unprocessable content", "Request validation failed", errors=errors)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return problem(exc.status_code, "HTTP error", exc.detail)


async def _database_down(_: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable: %r", exc)
    return problem(503, "Service unavailable", "The database is unavailable, retry later")


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return problem(500, "Internal server error", "An unexpected error occurred")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for exc in (NoHostAvailable, OperationTimedOut, Unavailable, ReadTimeout, WriteTimeout):
        app.add_exception_handler(exc, _database_down)
    app.add_exception_handler(Exception, _unexpected)
