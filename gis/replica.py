"""Reads that may lag, served by a PostgreSQL streaming replica (issue 18, slice D).

With `HROMADA_DATABASE_REPLICA_URL` set, the reads that may be a little behind — tiles, OGC
items and counts, the public feed and its statistics, reports, open data — take their
connection from `ReadRouter.connection(mark)`: the replica's pool, unless

- the request carries a *mark*, the primary's WAL position (`pg_current_wal_lsn()`) taken just
  after the same user's write (a short-lived cookie or header, api/reads.py), and the replica
  has not replayed that far yet (`pg_last_wal_replay_lsn() < mark`): then the primary, so that
  an author always reads their own fresh write;
- the replica cannot be reached (stopped, restarting, no free connection within
  REPLICA_WAIT seconds): then the primary, with no error to the client; the replica is
  left alone for a few seconds while a probe waits for it to come back.

Writes, and every read of one's own data (cards, queues, accounts), stay on the primary pool.
Without a replica every read goes to the primary pool and nothing here costs a query.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

import psycopg
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool, PoolTimeout

log = logging.getLogger("hromada.replica")

# How long a read waits for a replica connection before going to the primary, and how long a
# replica that failed is left alone (a probe tells sooner when it is back).
REPLICA_WAIT = 1.0
RETRY_SECONDS = 5.0
PROBE_SECONDS = 1.0

REPLAY_SQL = "SELECT pg_last_wal_replay_lsn()::text"
# The insert position, not pg_current_wal_lsn() (the write position): with asynchronous
# commit a committed transaction's record may not be written out yet, and is still below it.
CURRENT_SQL = "SELECT pg_current_wal_insert_lsn()::text"


class Connections(Protocol):
    """Where a connection comes from: a psycopg pool, or a request's reads (api/reads.py)."""

    def connection(self) -> AbstractAsyncContextManager[AsyncConnection[Any]]: ...


def parse_lsn(text: str | None) -> int | None:
    """'16/B374D848' → its 64-bit position; None for anything else (a forged or empty mark)."""
    if not text or len(text) > 17:
        return None
    high, sep, low = text.strip().partition("/")
    if not sep:
        return None
    try:
        hi, lo = int(high, 16), int(low, 16)
    except ValueError:
        return None
    if not (0 <= hi < 2**32 and 0 <= lo < 2**32):
        return None
    return hi << 32 | lo


def format_lsn(lsn: int) -> str:
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


def make_replica_pool(url: str, *, max_size: int, connect_timeout: float, options: str):
    """The replica's pool: like the primary's (autocommit, checked on every checkout so that a
    restarted replica's dead connections are dropped), opened without waiting."""
    return AsyncConnectionPool(
        url,
        open=False,
        name="hromada-replica",
        min_size=1,
        max_size=max_size,
        timeout=REPLICA_WAIT,
        check=AsyncConnectionPool.check_connection,
        kwargs={
            "autocommit": True,
            "connect_timeout": max(2, math.ceil(connect_timeout)),
            "application_name": "hromada-api-replica",
            "options": options,
        },
    )


@dataclass
class ReadStats:
    replica: int = 0  # reads served by the replica
    primary: int = 0  # reads sent to the primary: no replica, or it had not replayed a mark
    fallback: int = 0  # reads sent to the primary because the replica could not be reached
    marked: int = 0  # reads that carried a mark of their reader's own write


@dataclass
class ReadRouter:
    """Where a read that may lag takes its connection (see the module's docstring)."""

    primary: AsyncConnectionPool
    replica: AsyncConnectionPool | None = None
    replica_url: str | None = None
    # Told when the replica is reachable again after it failed (its caches may need a
    # drop once it has caught up: api/reads.py).
    on_recovered: Callable[[], None] | None = None
    stats: ReadStats = field(default_factory=ReadStats)
    replayed: int = 0  # the highest replay position seen on the replica
    _down_until: float = 0.0
    _probe: asyncio.Task | None = None

    @property
    def configured(self) -> bool:
        return self.replica is not None

    @property
    def replica_up(self) -> bool:
        return self.replica is not None and time.monotonic() >= self._down_until

    async def open(self) -> None:
        if self.replica is not None:
            await self.replica.open(wait=False)

    async def close(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe
        if self.replica is not None:
            await self.replica.close(timeout=5)

    async def primary_lsn(self) -> int:
        """The primary's current WAL position (a write committed before this is at or below)."""
        async with self.primary.connection() as conn:
            cur = await conn.execute(CURRENT_SQL)
            row = await cur.fetchone()
        lsn = parse_lsn(row[0] if row else None)
        assert lsn is not None  # pg_current_wal_lsn() is never NULL on a primary
        return lsn

    async def replay_lsn(self) -> int | None:
        """How far the replica has replayed; None when it cannot be reached (or is no longer a
        replica: pg_last_wal_replay_lsn() is NULL on a primary)."""
        conn = await self._replica_conn()
        if conn is None:
            return None
        try:
            return await self._replayed_on(conn)
        except psycopg.Error as exc:
            self._failed(exc)
            return None
        finally:
            assert self.replica is not None
            await self.replica.putconn(conn)

    async def _replayed_on(self, conn: AsyncConnection) -> int | None:
        cur = await conn.execute(REPLAY_SQL)
        row = await cur.fetchone()
        lsn = parse_lsn(row[0] if row else None)
        if lsn is not None and lsn > self.replayed:
            self.replayed = lsn
        return lsn

    async def _replica_conn(self) -> AsyncConnection | None:
        if self.replica is None or not self.replica_up:
            return None
        try:
            return await self.replica.getconn(timeout=REPLICA_WAIT)
        except (PoolTimeout, psycopg.OperationalError) as exc:
            self._failed(exc)
            return None

    def _failed(self, exc: BaseException) -> None:
        if self.replica_up:
            log.warning("read replica unreachable (%s): reading from the primary", exc)
        self._down_until = time.monotonic() + RETRY_SECONDS
        if self._probe is None or self._probe.done():
            self._probe = asyncio.create_task(self._wait_for_replica(), name="replica-probe")

    async def _wait_for_replica(self) -> None:
        """Connect directly (not through the pool, which is busy reconnecting on its own)
        until the replica answers, then let reads go to it again."""
        assert self.replica_url is not None
        while True:
            await asyncio.sleep(PROBE_SECONDS)
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.replica_url, autocommit=True, connect_timeout=2
                ) as conn:
                    if await self._replayed_on(conn) is None:
                        continue  # promoted or not a replica: keep reading from the primary
            except psycopg.Error:
                continue
            self._down_until = 0.0
            log.warning("read replica is back")
            if self.on_recovered is not None:
                self.on_recovered()
            return

    @contextlib.asynccontextmanager
    async def connection(self, mark: int | None = None) -> AsyncIterator[AsyncConnection]:
        """A connection for a read that may lag: the replica's, unless it is not configured,
        cannot be reached, or has not replayed `mark` yet."""
        if mark is not None:
            self.stats.marked += 1
        conn = None
        if self.replica is None:
            self.stats.primary += 1
        else:
            conn = await self._replica_conn()
            if conn is None:
                self.stats.fallback += 1
            elif mark is not None and mark > self.replayed:
                try:
                    replayed = await self._replayed_on(conn)
                except psycopg.Error as exc:
                    self._failed(exc)
                    replayed = None
                if replayed is None or replayed < mark:
                    await self.replica.putconn(conn)
                    conn = None
                    self.stats.primary += 1
        if conn is None or self.replica is None:
            async with self.primary.connection() as primary:
                yield primary
            return
        self.stats.replica += 1
        try:
            yield conn
        finally:
            await self.replica.putconn(conn)
