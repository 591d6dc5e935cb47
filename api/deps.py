"""Dependencies shared by the routers, as `Annotated` aliases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from api.reads import Reads, reads_of
from gis.settings import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_pool(request: Request) -> AsyncConnectionPool:
    return request.app.state.pool


async def get_conn(
    pool: Annotated[AsyncConnectionPool, Depends(get_pool)],
) -> AsyncIterator[AsyncConnection]:
    """A pooled autocommit connection for the length of one request."""
    async with pool.connection() as conn:
        yield conn


SettingsDep = Annotated[Settings, Depends(get_settings)]
PoolDep = Annotated[AsyncConnectionPool, Depends(get_pool)]
ConnDep = Annotated[AsyncConnection, Depends(get_conn)]


def get_reads(request: Request) -> Reads:
    return reads_of(request)


async def get_read_conn(
    reads: Annotated[Reads, Depends(get_reads)],
) -> AsyncIterator[AsyncConnection]:
    """For reads that may lag a little (tiles, OGC items, the public feed, reports, open data):
    the read replica's connection when there is one and it has replayed the reader's own last
    write (api/reads.py, gis/replica.py), else the primary's."""
    async with reads.connection() as conn:
        yield conn


ReadDep = Annotated[Reads, Depends(get_reads)]
ReadConnDep = Annotated[AsyncConnection, Depends(get_read_conn)]


def data_generation(
    request: Request, layers: tuple[str, ...] = ("appeals", "categories", "districts")
) -> tuple:
    """The layers' generations, bumped by every write to them (layers/changes.py): part of a
    cached answer's key, so that no cache hides a newly filed or changed appeal."""
    changes = getattr(request.app.state, "layer_changes", None)
    if changes is None:
        return ()
    return tuple(changes.generation(layer) for layer in layers)
