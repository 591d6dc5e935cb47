"""Accounts and SQL for API tests: a fresh account of a role with a bearer session, and a
query run on its own autocommit connection."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools

import psycopg

from gis import accounts
from gis.db import libpq_url

_counter = itertools.count(1)


def sql(url: str, query: str, params=None) -> list[tuple] | None:
    """Run one statement; its rows, or None for a statement that returns none."""
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else None


def bearer(
    url: str, role: str, *, label: str = "staff", name: str = "Працівник", **binding
) -> dict:
    """The Authorization header of a new confirmed account of `role`: its e-mail at
    `label`.test and its name `name` and a number, told apart in the audit trail; `binding`
    (council_id, executor_id…) as accounts.create_user takes it."""
    n = next(_counter)

    async def make() -> str:
        async with await psycopg.AsyncConnection.connect(libpq_url(url), autocommit=True) as c:
            user_id = await accounts.create_user(
                c, email=f"{role}-{n}@{label}.test", password=None,
                full_name=f"{name} {n}", role=role, confirmed=True, **binding,
            )  # fmt: skip
            s = await accounts.create_session(
                c, user_id=user_id, kind="bearer", ip=None, user_agent="pytest",
                ttl=dt.timedelta(hours=1),
            )  # fmt: skip
            return s.token

    return {"Authorization": f"Bearer {asyncio.run(make())}"}
