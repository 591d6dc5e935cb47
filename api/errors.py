"""Every error a client can see, in one place: which exception becomes which HTTP status, and
what the JSON body says, in Ukrainian or (when Accept-Language prefers it) in English.

A body is always `{"code": "<stable code>", "detail": "<message>"}`, plus `parameter` when one
query parameter is at fault. Codes are for programs and never change; messages are for people.
The core raises domain errors (layers.errors) and knows nothing of HTTP; routers raise them too,
and never build an error response by hand.

This module keeps the error table (exception → status), not the texts: a code's message is
written once, in Ukrainian, in gis/error_messages.py (MESSAGES), and its English in
gis/locale/en/messages.po, keyed by the Ukrainian text (gis/texts.py reads both;
`hromada texts missing` names a message without English). The language is
gis.texts.preferred_language's.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from psycopg import DataError, OperationalError
from psycopg_pool import PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import open311
from gis.error_messages import MESSAGES
from gis.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    PreconditionRequired,
    RateLimited,
)
from gis.mail import MailError
from gis.texts import preferred_language, tr
from layers.errors import FeatureNotFound, InvalidParameter, LayerError, UnknownCollection

log = logging.getLogger("hromada.api")

# Exception → HTTP status. Looked up along the exception's class hierarchy (most specific first).
STATUS: dict[type[Exception], int] = {
    UnknownCollection: 404,
    FeatureNotFound: 404,
    InvalidParameter: 400,
    LayerError: 400,
    InvalidInput: 400,
    NotAuthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    PayloadTooLarge: 413,
    PreconditionFailed: 412,
    PreconditionRequired: 428,
    RateLimited: 429,
    PoolTimeout: 503,
    OperationalError: 503,
    MailError: 503,
}


def message(code: str, lang: str, **params: object) -> str:
    """The message of an error code in `lang`, its placeholders filled from `params`; an
    unknown code gets http_error's. The texts: gis/error_messages.py (Ukrainian) and
    gis/locale/en/messages.po (English)."""
    return tr(MESSAGES.get(code) or MESSAGES["http_error"], lang, **params)


def error_response(
    request: Request, status: int, code: str, *, extra: dict | None = None, **params: object
) -> Response:
    """The one place error bodies are made (routers that must answer an error themselves, such
    as /healthz, call this too). On /open311/ paths: the spec's errors/error format instead
    (api/open311.py), the same message."""
    lang = preferred_language(request.headers.get("accept-language"))
    if open311.is_open311_path(request.url.path):
        headers = {"Content-Language": lang, "Vary": "Accept-Language"}
        return open311.error_response(
            request, status, message(code, lang, **params), headers=headers
        )
    body: dict[str, object] = {"code": code, "detail": message(code, lang, **params)}
    if "parameter" in params:
        body["parameter"] = params["parameter"]
    body.update(extra or {})
    return JSONResponse(
        body, status_code=status, headers={"Content-Language": lang, "Vary": "Accept-Language"}
    )


def status_of(exc: Exception) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


async def _domain_error(request: Request, exc: Exception) -> Response:
    status = status_of(exc)
    if isinstance(exc, DomainError):
        response = error_response(request, status, exc.code, extra=exc.extra, **exc.params)
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    log.warning("database unavailable: %s", exc)
    return error_response(request, status, "database_unavailable")


# pydantic's error types → (reason code, the ctx key holding its limit)
_REASONS: dict[str, tuple[str, str | None]] = {
    "int_parsing": ("reason_integer", None),
    "int_type": ("reason_integer", None),
    "int_from_float": ("reason_integer", None),
    "float_parsing": ("reason_number", None),
    "float_type": ("reason_number", None),
    "finite_number": ("reason_number", None),
    "bool_parsing": ("reason_boolean", None),
    "bool_type": ("reason_boolean", None),
    "date_parsing": ("reason_date", None),
    "date_from_datetime_parsing": ("reason_date", None),
    "date_type": ("reason_date", None),
    "datetime_parsing": ("reason_datetime", None),
    "datetime_from_date_parsing": ("reason_datetime", None),
    "greater_than_equal": ("reason_min", "ge"),
    "greater_than": ("reason_min", "gt"),
    "less_than_equal": ("reason_max", "le"),
    "less_than": ("reason_max", "lt"),
    "string_too_short": ("reason_too_short", "min_length"),
    "string_too_long": ("reason_too_long", "max_length"),
    "missing": ("reason_required", None),
    "literal_error": ("reason_choice", "expected"),
    "enum": ("reason_choice", "expected"),
    "string_type": ("reason_string", None),
    "dict_type": ("reason_object", None),
    "model_type": ("reason_object", None),
    "model_attributes_type": ("reason_object", None),
    "list_type": ("reason_list", None),
    "json_invalid": ("reason_json", None),
}


# Starlette types every handler as taking an Exception; each narrows to what it is registered for.
async def _validation_error(request: Request, exc: Exception) -> Response:
    """A route's signature refused a value: 400 naming the first field at fault and why."""
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if not errors:
        return error_response(request, 400, "invalid_request", errors="?")
    first = errors[0]
    loc = [str(p) for p in first.get("loc", ())]
    field = ".".join(loc[1:]) if len(loc) > 1 else (loc[0] if loc else "body")
    reason_code, limit_key = _REASONS.get(first.get("type", ""), ("reason_other", None))
    ctx = first.get("ctx") or {}
    lang = preferred_language(request.headers.get("accept-language"))
    reason = message(reason_code, lang, limit=ctx.get(limit_key, "") if limit_key else "")
    value = first.get("input")
    shown = "" if value is None or isinstance(value, dict | list) else str(value)[:64]
    return error_response(
        request, 400, "invalid_field_value", parameter=field, reason=reason, value=shown
    )


async def _data_error(request: Request, exc: Exception) -> Response:
    """PostgreSQL refused a value that gis/values.py should have refused first: still the
    client's 400, and a warning that names the statement's complaint so the gap is closed."""
    assert isinstance(exc, DataError)
    log.warning("value refused by the database (%s %s): %s",
                request.method, request.url.path, exc)  # fmt: skip
    return error_response(request, 400, "value_out_of_range")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    response = error_response(request, exc.status_code, code)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


def install(app: FastAPI) -> None:
    """Register the handlers on the app (called once by create_app)."""
    for exc_class in STATUS:
        app.add_exception_handler(exc_class, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
