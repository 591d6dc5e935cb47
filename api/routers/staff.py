"""Staff's work on appeals: the queue, one appeal's card, its author (personal data, logged),
taking an appeal into work; and a citizen's own appeals.

Each route declares who may call it (api/policy.py); within a role, what an appeal's number
may reach is the scope of gis/scope.py, added to every query: outside it an appeal is not
found (404), so a guessed number tells nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from psycopg.rows import dict_row

from api.deps import ConnDep
from api.policy import Principal, allow
from api.security import csrf_required
from gis.errors import InvalidInput, NotFound
from gis.jsonable import iso_row
from gis.models import APPEAL_STATUSES, result_en
from gis.scope import AUTHOR_READERS, appeal_scope

router = APIRouter(prefix="/api/v1", tags=["staff"])

QUEUE_ROLES = ("operator", "curator", "executor", "manager", "deputy", "admin")
TAKE_ROLES = ("executor", "manager")
TAKEABLE = ("registered", "rework")
MAX_LIMIT = 200

# What staff see of an appeal: no author, no contacts (those are behind /author, logged).
_COLUMNS = """
    a.number, a.kind, a.status, a.channel, a.privileged, a.address,
    a.created_at, a.deadline_at, a.extended_until, a.closed_at, a.updated_at,
    c.id AS category_id, c.name AS category, c.name_en AS category_en,
    d.code AS district_code, d.name AS district,
    w.number AS ward_number,
    e.code AS executor_code, e.short_name AS executor, a.is_public,
    ST_Y(a.geom) AS lat, ST_X(a.geom) AS lon,
    (a.closed_at IS NULL AND coalesce(a.extended_until, a.deadline_at) < now()) AS overdue
"""
_FROM = """
    FROM appeals a
    JOIN categories c ON c.id = a.category_id
    LEFT JOIN districts d ON d.id = a.district_id
    LEFT JOIN wards w ON w.id = a.ward_id
    LEFT JOIN executors e ON e.id = a.executor_id
"""


def _parse_cursor(after: str | None) -> tuple[int, int] | None:
    """The `next` of a queue page: "<privileged 0|1>-<id>" of its last row."""
    if after is None:
        return None
    privileged, _, last_id = after.partition("-")
    if privileged not in ("0", "1") or not last_id.isdigit():
        raise InvalidInput("invalid_cursor", parameter="after", value=after)
    return int(privileged), int(last_id)


async def _queue(conn, principal: Principal, where: list[str], params: list, limit: int,
                 after: tuple[int, int] | None) -> dict:  # fmt: skip
    """Appeals in the caller's scope: legally privileged authors first (art. 20), then the
    newest; keyset paging on (privileged, id)."""
    scope_sql, scope_params = appeal_scope(principal)
    where = [scope_sql, *where]
    params = [*scope_params, *params]
    if after is not None:
        where.append("(a.privileged::int, a.id) < (%s, %s)")
        params.extend(after)
    sql = (
        f"SELECT a.privileged::int || '-' || a.id AS _cursor, {_COLUMNS} {_FROM}"
        f" WHERE {' AND '.join(where)} ORDER BY a.privileged DESC, a.id DESC LIMIT %s"
    )
    params.append(limit + 1)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(sql, params)
        rows = await cur.fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    items = [iso_row({k: v for k, v in r.items() if k != "_cursor"}) for r in rows]
    return {
        "items": items,
        "returned": len(items),
        "next": str(rows[-1]["_cursor"]) if more and rows else None,
    }


@router.get("/queue", name="staff_queue")
async def queue(
    principal: Annotated[Principal, allow(*QUEUE_ROLES)],
    conn: ConnDep,
    status: Annotated[str | None, Query()] = None,
    category: Annotated[int | None, Query(description="category id (a kind or a sub-kind)")] = None,
    district: Annotated[str | None, Query(description="district code (KATOTTH)")] = None,
    overdue: Annotated[bool | None, Query(description="only overdue (true) or not")] = None,
    created_from: Annotated[dt.date | None, Query(description="created on or after")] = None,
    created_to: Annotated[dt.date | None, Query(description="created on or before")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    after: Annotated[str | None, Query(description="the `next` of the previous page")] = None,
) -> dict:
    """Appeals in the caller's scope, newest first; no personal data."""
    where: list[str] = []
    params: list = []
    if status is not None:
        if status not in APPEAL_STATUSES:
            raise InvalidInput("invalid_status", parameter="status", value=status,
                               allowed=", ".join(APPEAL_STATUSES))  # fmt: skip
        where.append("a.status = %s")
        params.append(status)
    if category is not None:
        where.append("(c.id = %s OR c.parent_id = %s)")
        params += [category, category]
    if district is not None:
        where.append("d.code = %s")
        params.append(district)
    if overdue is not None:
        where.append(
            "(a.closed_at IS NULL AND coalesce(a.extended_until, a.deadline_at) < now()) = %s"
        )
        params.append(overdue)
    if created_from is not None:
        where.append("a.created_at >= %s::date")
        params.append(created_from)
    if created_to is not None:
        where.append("a.created_at < %s::date + 1")
        params.append(created_to)
    return await _queue(conn, principal, where, params, limit, _parse_cursor(after))


async def _find(conn, principal: Principal, number: str, columns: str = "a.id") -> dict:
    scope_sql, scope_params = appeal_scope(principal)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"SELECT {columns} {_FROM} WHERE a.number = %s AND {scope_sql}",
            [number, *scope_params],
        )
        row = await cur.fetchone()
    if row is None:
        raise NotFound("appeal_not_found", number=number)
    return row


@router.get("/queue/{number}", name="staff_appeal")
async def appeal_card(
    number: str, principal: Annotated[Principal, allow(*QUEUE_ROLES)], conn: ConnDep
) -> dict:
    """One appeal in the caller's scope, as staff see it: its text and history, no author."""
    row = await _find(conn, principal, number, f"a.id AS _id, a.text, a.result, {_COLUMNS}")
    appeal_id = row.pop("_id")
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT at, actor, action, old, new, comment FROM appeal_events"
            " WHERE appeal_id = %s ORDER BY at, id",
            (appeal_id,),
        )
        events = [iso_row(r) for r in await cur.fetchall()]
    row["result_en"] = result_en(row["result"])
    return {**iso_row(row), "events": events}


# A read that writes the access log: a cookie session must send its CSRF token (a link from
# another site cannot).
@router.get(
    "/appeals/{number}/author", name="staff_appeal_author", dependencies=[csrf_required()]
)
async def appeal_author(
    number: str,
    principal: Annotated[Principal, allow(*AUTHOR_READERS)],
    conn: ConnDep,
    purpose: Annotated[str, Query(max_length=200)] = "handling",
) -> dict:
    """The author's name, contacts and address, for those who handle the appeal. Every read
    is logged in personal_data_access (who, when, which appeal, why)."""
    row = await _find(conn, principal, number)
    async with conn.transaction():
        await conn.execute(
            "INSERT INTO personal_data_access (user_id, appeal_id, purpose) VALUES (%s, %s, %s)",
            (principal.user_id, row["id"], f"author:{purpose}"),
        )
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                "SELECT full_name, email, phone, postal_address, privilege"
                " FROM appeal_authors WHERE appeal_id = %s",
                (row["id"],),
            )
            author = await cur.fetchone()
    return {"number": number, "author": author}


# Taking an appeal into work (POST /appeals/{number}/take) lives with the rest of the
# lifecycle: api/routers/lifecycle.py, gis/lifecycle.py.


@router.get("/me/executors", name="my_executors")
async def my_executors(principal: Annotated[Principal, allow(*TAKE_ROLES)], conn: ConnDep) -> dict:
    """The caller's organisation and its sub-organisations (the scope of the queue), for the
    cabinet's choice of whom to delegate to: id, code, name, parent."""
    ids = [int(i) for i in (principal.executor_ids or ())]
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT id, code, coalesce(short_name, name) AS name, parent_id FROM executors"
            " WHERE id = ANY(%s) ORDER BY array_position(%s, id)",
            (ids, ids),
        )
        rows = await cur.fetchall()
    return {"items": rows}


@router.get("/me/appeals", name="my_appeals")
async def my_appeals(
    principal: Annotated[Principal, allow("citizen")],
    conn: ConnDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    after: Annotated[str | None, Query()] = None,
) -> dict:
    """The citizen's own appeals (filed signed in), newest first."""
    return await _queue(conn, principal, [], [], limit, _parse_cursor(after))
