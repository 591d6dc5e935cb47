"""Resolving the caller of a request: a bearer token (API) or the session cookie (portal).

`current_principal(request)` is what every policy (api/policy.py) asks; it resolves once per
request and keeps the answer on `request.state.principal`. No credentials: anonymous, without
touching the database (public pages keep working while it is down). An unknown, expired or
revoked token is anonymous as well, so a route that needs a user answers 401.

CSRF: a browser sends the cookie by itself, so a cookie-authenticated request with an unsafe
method must also carry the header `X-CSRF-Token` equal to the session's CSRF token (handed out
at sign-in; another site cannot read it). Missing or different: 403 `csrf_failed`. A bearer
token is never sent by a browser on its own, so bearer requests need no CSRF token. A safe
read that nonetheless leaves a trace (the author's personal data, logged) declares
`csrf_required()` to get the same check.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from fastapi import Depends, Request

from api.policy import ANONYMOUS, Principal
from gis import accounts
from gis.errors import Forbidden

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CSRF_HEADER = "X-CSRF-Token"
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
# Routes that act on no session (they take credentials or a one-time token in the body): a
# session cookie sent along without its CSRF token is ignored there rather than refused, so
# that signing in again over a still-valid cookie works. (A cross-site form cannot post the
# JSON these routes read: a text/plain body is refused before the handler.)
NO_SESSION_PATHS = frozenset(
    {
        "/api/v1/auth/login",
        "/api/v1/auth/register",
        "/api/v1/auth/confirm",
        "/api/v1/auth/password-reset",
        "/api/v1/auth/password-reset/confirm",
    }
)
# The same for the author's links (api/routers/author.py): the token in the JSON body is the
# credential, and a page opened from a mail has no CSRF token of the tab's session.
NO_SESSION_ROUTES = re.compile(r"^/api/v1/appeals/[^/]+/author-(confirm|reject|unsubscribe)$")


def cookie_name(request: Request) -> str:
    return request.app.state.settings.session_cookie_name


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def cookie_secure(request: Request) -> bool:
    """Secure unless forced off, or (auto) the request is plain http to this very machine."""
    forced = getattr(request.app.state.settings, "cookie_secure", None)
    if forced is not None:
        return bool(forced)
    host = (request.url.hostname or "").lower()
    return not (request.url.scheme == "http" and host in LOCAL_HOSTS)


def client_ip(request: Request) -> str | None:
    host = request.client.host if request.client else None
    try:
        return str(ipaddress.ip_address(host)) if host else None
    except ValueError:
        return None  # e.g. Starlette's TestClient ("testclient")


def _principal(user: accounts.SessionUser) -> Principal:
    return Principal(
        user_id=user.user_id,
        role=user.role,
        email=user.email,
        full_name=user.full_name,
        executor_ids=user.executor_ids,
        ward_number=user.ward_number,
        session_id=user.session_id,
        session_kind=user.session_kind,
        is_demo=user.is_demo,
        council_ids=user.council_ids,
        oblast=user.oblast,
        every_council=user.every_council,
    )


async def _resolve(request: Request) -> Principal:
    token = bearer_token(request)
    kind = "bearer"
    if token is None:
        token = request.cookies.get(cookie_name(request))
        kind = "cookie"
    if not token:
        return ANONYMOUS
    settings = request.app.state.settings
    async with request.app.state.pool.connection() as conn:
        user = await accounts.resolve_session(conn, token, kind=kind, demo_mode=settings.demo_mode)
    if user is None:
        return ANONYMOUS
    request.state.session_user = user  # for /me (the portal re-reads its CSRF token there)
    if kind == "cookie" and request.method.upper() not in SAFE_METHODS:
        if not user.csrf_matches(request.headers.get(CSRF_HEADER)):
            path = request.url.path
            if path in NO_SESSION_PATHS or NO_SESSION_ROUTES.match(path):
                return ANONYMOUS
            raise Forbidden("csrf_failed")
    return _principal(user)


async def current_principal(request: Request) -> Principal:
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    principal = await _resolve(request)
    request.state.principal = principal
    return principal


def csrf_required() -> Any:
    """A route dependency: a cookie session must send its CSRF token even on a GET, so that a
    link or an <img> on another site cannot make the request (bearer callers are unaffected).
    For reads that write, e.g. to the personal-data access log."""

    async def check_csrf(request: Request) -> None:
        await current_principal(request)
        user = getattr(request.state, "session_user", None)
        if user is not None and user.session_kind == "cookie":
            if not user.csrf_matches(request.headers.get(CSRF_HEADER)):
                raise Forbidden("csrf_failed")

    return Depends(check_csrf)
