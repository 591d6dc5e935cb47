"""Staff's view of appeals: the queue, one appeal's card, its author (personal data, every read
logged), the caller's organisations; and a citizen's own appeals (the same queue, scoped).

`principal` is an api.policy.Principal (role, user_id, executor_ids, ward_number); what an
appeal's number may reach is gis/scope.py's scope, added to every query: outside it an appeal
is not found (NotFound), so a guessed number tells nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from psycopg.rows import dict_row

from gis.category_names import label_sql
from gis.councils import APPEAL_COUNCIL_SQL
from gis.errors import InvalidInput, NotFound
from gis.jsonable import iso_row
from gis.lifecycle import extension_request
from gis.models import APPEAL_STATUSES, result_en
from gis.open311_clients import channel_label
from gis.reports import channel_name
from gis.routing import reason_en
from gis.scope import appeal_scope

# What staff see of an appeal: no author, no contacts (those are behind author(), logged).
_COLUMNS = """
    a.number, a.kind, a.status, a.channel, a.privileged, a.address,
    a.created_at, a.deadline_at, a.extended_until, a.closed_at, a.updated_at,
    c.id AS category_id, {category} AS category, {category_en} AS category_en,
    d.code AS district_code, d.name AS district,
    w.number AS ward_number,
    e.code AS executor_code, e.short_name AS executor, a.is_public,
    ST_Y(a.geom) AS lat, ST_X(a.geom) AS lon,
    (a.closed_at IS NULL AND coalesce(a.extended_until, a.deadline_at) < now()) AS overdue
""".format(category=label_sql("c"), category_en=label_sql("c", lang="en"))
_FROM = """
    FROM appeals a
    JOIN categories c ON c.id = a.category_id
    LEFT JOIN districts d ON d.id = a.district_id
    LEFT JOIN wards w ON w.id = a.ward_id
    LEFT JOIN executors e ON e.id = a.executor_id
"""


# The executor's open work: what is still theirs to do (on check it waits for others).
OPEN_WORK = ("registered", "in_work", "rework")
QUEUE_STATUSES = (*APPEAL_STATUSES, "open")  # "open": any of OPEN_WORK
ORDERS = ("newest", "deadline")
_DEADLINE = "coalesce(a.extended_until, a.deadline_at)"


async def queue(
    conn, principal: Any, *, limit: int, after: tuple | None = None,
    status: str | None = None, category: int | None = None, district: str | None = None,
    overdue: bool | None = None, created_from: dt.date | None = None,
    created_to: dt.date | None = None, order: str = "newest", count: bool = False,
    councils: list[int] | None = None,
) -> dict:  # fmt: skip
    """Appeals in the caller's scope, no personal data.

    order "newest": legally privileged authors first (art. 20), then the newest; keyset
    paging on (privileged, id), `after` being the (privileged 0|1, id) of the previous page's
    `next` ("<privileged>-<id>"). order "deadline": the soonest deadline (the extended one if
    any) first, so the overdue lead; `after` is (deadline, id), `next` "<deadline>~<id>".
    status "open" is the open work of an executor (registered, in work, rework). `count`:
    also how many appeals the filter matches in all (`matched`). `councils`: only these
    councils' appeals (oblast staff narrowing their view; never widens the scope)."""
    if order not in ORDERS:
        raise InvalidInput("invalid_value", parameter="order", value=str(order)[:50])
    scope_sql, scope_params = appeal_scope(principal)
    where = [scope_sql]
    params: list = [*scope_params]
    if status is not None:
        if status not in QUEUE_STATUSES:
            raise InvalidInput("invalid_status", parameter="status", value=status,
                               allowed=", ".join(QUEUE_STATUSES))  # fmt: skip
        if status == "open":
            where.append("a.status = ANY(%s)")
            params.append(list(OPEN_WORK))
        else:
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
    if councils is not None:
        where.append("a.council_id = ANY(%s)")
        params.append([int(k) for k in councils])
    matched = None
    if count:
        async with conn.cursor() as cur:
            await cur.execute(f"SELECT count(*) {_FROM} WHERE {' AND '.join(where)}", params)
            found = await cur.fetchone()
            matched = found[0] if found else 0
    if order == "deadline":
        if after is not None:
            where.append(f"({_DEADLINE}, a.id) > (%s, %s)")
            params.extend(after)
        cursor = f"{_DEADLINE} AS _at, a.id AS _id"
        ordering = f"{_DEADLINE}, a.id"
    else:
        if after is not None:
            where.append("(a.privileged::int, a.id) < (%s, %s)")
            params.extend(after)
        cursor = "a.privileged::int || '-' || a.id AS _cursor"
        ordering = "a.privileged DESC, a.id DESC"
    query = (
        f"SELECT {cursor}, {_COLUMNS} {_FROM}"
        f" WHERE {' AND '.join(where)} ORDER BY {ordering} LIMIT %s"
    )
    params.append(limit + 1)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, params)
        rows = await cur.fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    hidden = ("_cursor", "_at", "_id")
    items = [iso_row({k: v for k, v in r.items() if k not in hidden}) for r in rows]
    next_ = None
    if more and rows:
        last = rows[-1]
        next_ = (
            f"{last['_at'].isoformat()}~{last['_id']}" if order == "deadline"
            else str(last["_cursor"])
        )  # fmt: skip
    out: dict = {"items": items, "returned": len(items), "next": next_}
    if count:
        out["matched"] = matched
    return out


async def _find(conn, principal: Any, number: str, columns: str = "a.id") -> dict:
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


async def card(conn, principal: Any, number: str) -> dict:
    """One appeal in the caller's scope, as staff see it: its text, result, routing reason,
    history (events), photos (the citizen's and the answer's) and resolutions, its council
    {code, slug, name, name_en}; no author."""
    row = await _find(
        conn, principal, number,
        f"a.id AS _id, a.text, a.result, a.routing_reason, {_COLUMNS},"
        " (SELECT o.name FROM open311_clients o WHERE o.id = a.open311_client_id) AS _client,"
        f" {APPEAL_COUNCIL_SQL} AS council",
    )  # fmt: skip
    appeal_id = row.pop("_id")
    # The channel by name: «Open311: NAME» for an application's (gis/open311_clients.py).
    client = row.pop("_client")
    row["channel_name"] = channel_label(row["channel"], client) or channel_name(row["channel"])
    row["channel_name_en"] = (
        channel_label(row["channel"], client) or channel_name(row["channel"], "en")
    )  # fmt: skip
    row["routing_reason_en"] = reason_en(row["routing_reason"])
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT at, actor, action, old, new, comment FROM appeal_events"
            " WHERE appeal_id = %s ORDER BY at, id",
            (appeal_id,),
        )
        events = [iso_row(r) for r in await cur.fetchall()]
        # The citizen's photos and the answer's, published or not: staff in scope may see
        # them all through /api/v1/photos/{sha256} (gis/intake.visible_photo).
        await cur.execute(
            "SELECT sha256, kind, content_type, width, height FROM appeal_photos"
            " WHERE appeal_id = %s ORDER BY kind, position, id",
            (appeal_id,),
        )
        photos = [{"url": f"/api/v1/photos/{p.pop('sha256')}", **p} for p in await cur.fetchall()]
        await cur.execute(
            "SELECT e.code AS executor, coalesce(e.short_name, e.name) AS executor_name,"
            " r.is_main, r.deadline_at, r.comment AS text, r.created_at FROM resolutions r"
            " JOIN executors e ON e.id = r.executor_id WHERE r.appeal_id = %s ORDER BY r.id",
            (appeal_id,),
        )
        resolutions = [iso_row(r) for r in await cur.fetchall()]
    request = await extension_request(conn, appeal_id, row["status"])
    row["result_en"] = result_en(row["result"])
    return {**iso_row(row), "events": events, "photos": photos, "resolutions": resolutions,
            "extension_request": request}  # fmt: skip


async def author(conn, principal: Any, number: str, purpose: str) -> dict:
    """The author's name, contacts and address of an appeal in the caller's scope; the read is
    logged in personal_data_access (who, when, which appeal, why) in the same transaction."""
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
            found = await cur.fetchone()
    return {"number": number, "author": found}


async def executors(conn, ids: list[int]) -> list[dict]:
    """The organisations `ids` (id, code, name, parent_id), in the order given."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT id, code, coalesce(short_name, name) AS name, parent_id FROM executors"
            " WHERE id = ANY(%s) ORDER BY array_position(%s, id)",
            (ids, ids),
        )
        return await cur.fetchall()
