"""Rate limits per client IP and per account (login, registration, submission, password reset).

Declared next to the route, like its policy:

    @router.post("/api/v1/auth/register", dependencies=[public(), rate_limit("register")])
    async def register(request: Request, body: RegisterIn):
        check_account_limit(request, "register", body.email)   # per account (the e-mail)
        ...

Each name has one setting, `rate_limit_<name>` ("10/minute"), applied separately per IP and
per account, with a moving window (the `limits` library). Sign-in counts only failures per
IP (check_ip_failures before, count_ip_failure after a wrong password), and throttles an
account per address in the database (gis/accounts.py), so that nobody can lock its owner out. Over the limit: RateLimited, which
api/errors.py answers with 429, a Ukrainian or English message and Retry-After.

The limiter lives on app.state (one per app, so each test app starts clean); its storage is
`settings.rate_limit_storage`, in memory by default — with several API processes
(HROMADA_WEB_PROCESSES > 1) `hromada run`/`serve` point it at a private redis-server
(gis/redis_server.py; shared_storage_needed) unless one is configured, so that the processes
count together. While a shared storage is unreachable, each process counts alone in memory
for a few seconds, then tries it again (logged): a limit is never a 500. The client
IP is the socket's peer address: behind a reverse proxy, run uvicorn with --proxy-headers and
--forwarded-allow-ips so that it is the real client's (X-Forwarded-For is not trusted here).
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from fastapi import Depends, Request
from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from gis.errors import RateLimited
from gis.settings import Settings

log = logging.getLogger("hromada.api")

MEMORY = "memory://"
# A shared storage that did not answer: counted in this process for this long, then tried again.
FALLBACK_SECONDS = 10.0
_REDIS_SCHEMES = ("redis://", "rediss://", "redis+unix://", "valkey://", "valkeys://")


def shared_storage_needed(settings: Settings, processes: int) -> bool:
    """Several processes counting apart would each allow the whole limit: with more than one
    and no storage configured (HROMADA_RATE_LIMIT_STORAGE), the run starts its own redis."""
    return (
        processes > 1
        and settings.rate_limits_enabled
        and "rate_limit_storage" not in settings.model_fields_set
    )


def _storage(url: str) -> Any:
    if url.startswith(_REDIS_SCHEMES):
        # A redis that hangs must not hang the sign-in: short timeouts (the URL's own win).
        return storage_from_string(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    return storage_from_string(url)


class RateLimiter:
    """Moving-window counters keyed by (name, 'ip' | 'account', key)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.enabled = settings.rate_limits_enabled
        self.shared = not settings.rate_limit_storage.startswith(MEMORY)
        self._storage = _storage(settings.rate_limit_storage)
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._errors: tuple[type[Exception], ...] = ()
        if self.shared:
            base = self._storage.base_exceptions
            self._errors = (StorageError, *(base if isinstance(base, tuple) else (base,)))
        self._local: MovingWindowRateLimiter | None = None  # while the shared one is down
        self._down_until = 0.0
        self._items: dict[str, RateLimitItem] = {}

    def _call(self, op: str, *args: Any) -> Any:
        """`op` of the limiter (hit, test, get_window_stats, clear) on the shared storage, or
        on this process's own while the shared one does not answer."""
        if self._down_until > time.monotonic() and self._local is not None:
            return getattr(self._local, op)(*args)
        try:
            return getattr(self._limiter, op)(*args)
        except self._errors as exc:
            log.warning(
                "rate-limit storage unreachable (%s): counting in this process for %ss",
                type(exc).__name__, FALLBACK_SECONDS,
            )  # fmt: skip
            self._down_until = time.monotonic() + FALLBACK_SECONDS
            if self._local is None:
                self._local = MovingWindowRateLimiter(storage_from_string(MEMORY))
            return getattr(self._local, op)(*args)

    def item(self, name: str) -> RateLimitItem:
        if name not in self._items:
            value = getattr(self.settings, f"rate_limit_{name}", None)
            if not isinstance(value, str):
                raise ValueError(f"no rate limit setting rate_limit_{name}")
            self._items[name] = parse(value)
        return self._items[name]

    def hit(self, name: str, scope: str, key: str) -> None:
        """Count one attempt; RateLimited when the window is already full."""
        if not self.enabled:
            return
        item = self.item(name)
        if not self._call("hit", item, name, scope, key):
            stats = self._call("get_window_stats", item, name, scope, key)
            raise RateLimited(retry_after=math.ceil(stats.reset_time - time.time()))

    def check(self, name: str, scope: str, key: str) -> None:
        """RateLimited when the window is full, without counting this attempt (for limits
        that count only failures: `hit` them when the attempt has failed)."""
        if not self.enabled:
            return
        item = self.item(name)
        if not self._call("test", item, name, scope, key):
            stats = self._call("get_window_stats", item, name, scope, key)
            raise RateLimited(retry_after=math.ceil(stats.reset_time - time.time()))

    def count(self, name: str, scope: str, key: str) -> None:
        """Count one attempt, never refusing it."""
        if self.enabled:
            self._call("hit", self.item(name), name, scope, key)

    def reset(self, name: str, scope: str, key: str) -> None:
        self._call("clear", self.item(name), name, scope, key)


def _limiter(request: Request) -> RateLimiter:
    limiter = getattr(request.app.state, "limiter", None)
    if limiter is None:  # an app built without create_app (e.g. a test's own FastAPI())
        limiter = request.app.state.limiter = RateLimiter(request.app.state.settings)
    return limiter


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _account(key: str) -> str:
    return key.strip().casefold()


def rate_limit(name: str) -> Any:
    """A route dependency limiting `name` per client IP (setting `rate_limit_<name>`)."""
    if f"rate_limit_{name}" not in Settings.model_fields:
        raise ValueError(f"no rate limit setting rate_limit_{name}")

    def limit_by_ip(request: Request) -> None:
        check_ip_limit(request, name)

    limit_by_ip.__rate_limit__ = name  # type: ignore[attr-defined]
    return Depends(limit_by_ip)


def check_ip_limit(request: Request, name: str) -> None:
    """Count one attempt of `name` from the client's address; RateLimited over the limit
    (for routes that decide inside the handler whom the limit applies to)."""
    _limiter(request).hit(name, "ip", client_ip(request))


def check_ip_failures(request: Request, name: str) -> None:
    """RateLimited when the client's address has already failed `name` as often as its
    limit allows (the attempt itself is not counted: see count_ip_failure)."""
    _limiter(request).check(name, "ip-failures", client_ip(request))


def count_ip_failure(request: Request, name: str) -> None:
    """Count a failed attempt of `name` from the client's address (e.g. a wrong password:
    the staff of one office behind one address all sign in, their typos alone count)."""
    _limiter(request).count(name, "ip-failures", client_ip(request))


def check_account_limit(request: Request, name: str, account_key: str) -> None:
    """Count one attempt of `name` for an account (e.g. the e-mail given at login, which need
    not exist); RateLimited over the limit."""
    _limiter(request).hit(name, "account", _account(account_key))


def reset_account_limit(request: Request, name: str, account_key: str) -> None:
    """Forget an account's attempts (e.g. after a successful login, if wanted)."""
    _limiter(request).reset(name, "account", _account(account_key))
