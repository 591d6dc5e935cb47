"""Read routing with a streaming replica (issue 18, slice D; gis/replica.py does the routing).

- `open_reads(app, settings, pool)`, from the app's lifespan: the `ReadRouter` in
  `app.state.reads` (the replica's pool when HROMADA_DATABASE_REPLICA_URL is set) and, with a
  replica, the `ReplayGate` between the change listener and the caches (layers/changes.py).
- `ReadYourWrites`, a middleware: after a successful write (any method but GET, HEAD,
  OPTIONS answered below 400) it reads the primary's WAL position and hands it to the client
  as the mark — the cookie `hromada_lsn` (MARK_SECONDS long) and the header `X-Hromada-LSN`,
  which an API client may send back as it is. A read carrying a mark goes to the replica
  only once the replica has replayed that far.
- `Reads`, what the routers' `ReadDep` gives: `connection()` and `fresh` (the mark's write has
  not yet reached the caches, so a cached tile must not be served for it).

A mark is no credential: forging one sends one's own reads to the primary, nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from fastapi import FastAPI, Request
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gis.db import libpq_url
from gis.replica import ReadRouter, format_lsn, make_replica_pool, parse_lsn
from gis.settings import Settings
from layers.changes import EVERY_LAYER, LayerChange, LayerChanges, ReplayGate

MARK_COOKIE = "hromada_lsn"
MARK_HEADER = "X-Hromada-LSN"
MARK_SECONDS = 30
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MARK_WAIT = 1.0  # the longest a write's answer waits for the primary's position


@dataclass
class Reads:
    """One request's reads that may lag."""

    router: ReadRouter
    mark: int | None
    gate: ReplayGate | None

    def connection(self) -> contextlib.AbstractAsyncContextManager[AsyncConnection]:
        return self.router.connection(self.mark)

    @property
    def fresh(self) -> bool:
        """The reader wrote something the caches may not show yet: read past them. Once the
        gate holds nothing back and the replica has replayed the mark, the caches are dropped
        of the write (a notice is heard within milliseconds of its commit)."""
        if self.mark is None or self.gate is None or self.mark <= self.gate.passed:
            return False
        return not self.gate.idle or self.mark > self.router.replayed


def mark_of(request: Request) -> int | None:
    return parse_lsn(request.headers.get(MARK_HEADER) or request.cookies.get(MARK_COOKIE))


def reads_of(request: Request) -> Reads:
    state = request.app.state
    router = getattr(state, "reads", None)
    if router is None:  # an app without its lifespan (never served): the primary's pool
        router = state.reads = ReadRouter(state.pool)
    gate = state.layer_changes.gate if hasattr(state, "layer_changes") else None
    return Reads(router, mark_of(request) if router.configured else None, gate)


@contextlib.asynccontextmanager
async def open_reads(
    app: FastAPI, settings: Settings, pool: AsyncConnectionPool, options: str
) -> AsyncIterator[ReadRouter]:
    """The app's ReadRouter for its lifetime (and the replay gate's task with a replica)."""
    changes: LayerChanges = app.state.layer_changes
    if not settings.database_replica_url:
        router = app.state.reads = ReadRouter(pool)
        yield router
        return
    url = libpq_url(settings.database_replica_url)
    replica = make_replica_pool(
        url,
        max_size=settings.pool_max_size,
        connect_timeout=settings.db_connect_timeout,
        options=options,
    )
    router = ReadRouter(pool, replica, url)
    gate = ReplayGate(
        changes, router.primary_lsn, router.replay_lsn,
        wait_seconds=settings.replica_invalidation_wait_seconds,
    )  # fmt: skip
    # Back after failing: what it serves may be older than what the caches hold now.
    router.on_recovered = lambda: gate.submit(LayerChange(EVERY_LAYER, None))
    app.state.reads = router
    await router.open()
    changes.gate = gate
    task = asyncio.create_task(gate.run(), name="replica-replay-gate")
    try:
        yield router
    finally:
        changes.gate = None
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await router.close()


class ReadYourWrites:
    """Marks the answer to a successful write with the primary's WAL position (a replica only)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        router: ReadRouter | None = getattr(scope["app"].state, "reads", None)
        if router is None or not router.configured:
            await self.app(scope, receive, send)
            return

        async def marked(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                try:
                    lsn = await asyncio.wait_for(router.primary_lsn(), MARK_WAIT)
                except Exception:  # noqa: BLE001 — no mark: the reads may lag, nothing worse
                    lsn = None
                if lsn is not None:
                    mark = format_lsn(lsn)
                    headers = MutableHeaders(scope=message)
                    headers[MARK_HEADER] = mark
                    secure = "; Secure" if scope.get("scheme") == "https" else ""
                    headers.append(
                        "Set-Cookie",
                        f"{MARK_COOKIE}={mark}; Max-Age={MARK_SECONDS}; Path=/; HttpOnly;"
                        f" SameSite=Lax{secure}",
                    )
            await send(message)

        await self.app(scope, receive, marked)
