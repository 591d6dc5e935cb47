"""Connections to PostGIS: one URL, a SQLAlchemy engine for the schema and the importers,
and a psycopg async pool for the web app's hot read paths."""

from __future__ import annotations

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
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise ValueError(f"not a PostgreSQL URL: {url}")


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
