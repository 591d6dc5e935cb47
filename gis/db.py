"""Connections to PostGIS: one URL, a SQLAlchemy engine for the schema and the importers,
and a psycopg async pool for the web app's hot read paths."""

from __future__ import annotations

import time

from psycopg_pool import AsyncConnectionPool
from sqlalchemy import Engine, create_engine

from gis.embedded import cluster_for
from gis.settings import Settings


def database_url(settings: Settings, *, start_embedded: bool = True) -> str:
    """The server's URL: DATABASE_URL if set, else the embedded cluster (started on demand)."""
    if settings.database_url:
        return settings.database_url
    cluster = cluster_for(settings)
    if start_embedded:
        cluster.start()
    return cluster.url


def sqlalchemy_url(url: str) -> str:
    """SQLAlchemy wants the driver named; psycopg 3 is ours."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + _multihost(url[len(prefix) :])
    raise ValueError(f"not a PostgreSQL URL: {url}")


def _multihost(rest: str) -> str:
    """libpq's multi-host form `user@h1:p1,h2:p2/db?…` (docs/HA.md) as SQLAlchemy spells it,
    `user@/db?host=h1:p1&host=h2:p2&…`; any other URL unchanged."""
    end = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    netloc, tail = rest[:end], rest[end:]
    user, at, hosts = netloc.rpartition("@")
    if "," not in hosts:
        return rest
    path, _, query = tail.partition("?")
    params = "&".join(f"host={h}" for h in hosts.split(","))
    return f"{user}{at}{path or '/'}?{params}" + (f"&{query}" if query else "")


def libpq_url(url: str) -> str:
    """psycopg and libpq want the plain scheme."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def make_engine(url: str, **kwargs) -> Engine:
    return create_engine(sqlalchemy_url(url), future=True, **kwargs)


VERSIONS_SQL = "SELECT current_setting('server_version'), postgis_lib_version()"


async def server_versions(conn) -> tuple[str, str]:
    """PostgreSQL's and PostGIS's versions over an async psycopg connection; psycopg's
    UndefinedFunction when the database has no PostGIS."""
    cur = await conn.execute(VERSIONS_SQL)
    row = await cur.fetchone()
    assert row is not None  # a SELECT without FROM returns one row
    return row[0], row[1]


RECONNECT_TIMEOUT = 10.0


class ServicePool(AsyncConnectionPool):
    """The web app's pool, which knows when the database cannot be reached.

    A request waits up to `timeout` for a connection (a burst of load queues rather than
    fails); but when the pool's last attempt to connect failed (the server is down, killed,
    restarting), waiting that long only holds the client: a request then waits at most
    `down_timeout` and gets its 503 (api/errors.py: PoolTimeout → database_unavailable). The
    pool keeps trying to connect in the background; its first success ends the state.
    tests/test_faults.py kills the database mid-load and measures it."""

    def __init__(self, *args, down_timeout: float = 2.0, **kwargs) -> None:
        self.down_timeout = down_timeout
        # psycopg_pool's attempts to reconnect wait 1, 2, 4… s, for reconnect_timeout in all
        # (5 min by default: after a minute's outage the next attempt could come a minute after
        # the database is back). Given up sooner, the next request starts a fresh attempt.
        kwargs.setdefault("reconnect_timeout", RECONNECT_TIMEOUT)
        self.unreachable_since: float | None = None  # monotonic time of the first failure
        super().__init__(*args, **kwargs)

    async def _connect(self, timeout: float | None = None):
        # psycopg_pool's one place that opens a connection (pinned in constraints.txt).
        try:
            conn = await super()._connect(timeout)
        except Exception:
            if self.unreachable_since is None:
                self.unreachable_since = time.monotonic()
            raise
        self.unreachable_since = None
        return conn

    async def getconn(self, timeout: float | None = None):
        from psycopg_pool import PoolTimeout

        total = self.timeout if timeout is None else timeout
        first = min(total, self.down_timeout)
        start = time.monotonic()
        try:
            return await super().getconn(first)
        except PoolTimeout:
            if self.unreachable_since is not None or first >= total:
                raise
        return await super().getconn(max(0.0, total - (time.monotonic() - start)))
