"""The manager's АРМ (АРМ керівника, GUIDE §1): the organisation's unexecuted appeals counted
and listed by sub-organisation — overdue, due within 2 days, due later, under personal
control, with an executor's request for a longer term awaiting a decision — the list exported
as CSV, and the personal control itself (a date the manager wants the appeal done by,
appeals.control_until, migration 0010), audited as an appeal event.

Every query is limited to the manager's scope (gis/scope.py: the organisation and its
sub-organisations); "unexecuted" is every status but closed; an appeal's due date is its
extended term, else its deadline (art. 20).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from psycopg.rows import dict_row

from gis.clock import KYIV
from gis.errors import Conflict, InvalidInput
from gis.jsonable import iso_row
from gis.lifecycle import OPEN, PENDING_EXTENSION_SQL, _names, lock_appeal, write_event
from gis.models import status_name
from gis.scope import appeal_scope
from gis.texts import N_, tr

BUCKETS = ("open", "overdue", "due_2d", "due_later", "control", "extension")
_DUE = "coalesce(a.extended_until, a.deadline_at)"
_BUCKET_SQL = {
    "open": "true",
    "overdue": f"{_DUE} < now()",
    "due_2d": f"{_DUE} >= now() AND {_DUE} < now() + interval '2 days'",
    "due_later": f"{_DUE} >= now() + interval '2 days'",
    "control": "a.control_until IS NOT NULL",
    # An executor's request for a longer term awaiting the manager's (or a curator's) decision.
    "extension": PENDING_EXTENSION_SQL,
}
_FROM = """
    FROM appeals a
    JOIN categories c ON c.id = a.category_id
    LEFT JOIN categories k ON k.id = c.parent_id
    LEFT JOIN executors e ON e.id = a.executor_id
"""
_COLUMNS = f"""
    a.number, a.status, a.privileged, a.address, a.created_at,
    {_DUE} AS deadline_at, ({_DUE} < now()) AS overdue, a.control_until,
    c.name AS category, c.name_en AS category_en, k.name AS kind_name, k.name_en AS kind_name_en,
    a.executor_id, e.code AS executor_code, coalesce(e.short_name, e.name) AS executor,
    ST_X(a.geom) AS lon, ST_Y(a.geom) AS lat
"""
CSV_MAX_ROWS = 20_000
CSV_COLUMNS = (
    ("number", N_("Номер")),
    ("category", N_("Категорія")),
    ("address", N_("Адреса")),
    ("status", N_("Статус")),
    ("executor", N_("Виконавець")),
    ("created_at", N_("Зареєстровано")),
    ("deadline_at", N_("Строк")),
    ("overdue", N_("Прострочено")),
    ("control_until", N_("На контролі до")),
)


def _where(principal: Any, bucket: Any, executor: int | None) -> tuple[str, list[Any]]:
    if bucket not in BUCKETS:
        raise InvalidInput("invalid_value", parameter="bucket", value=str(bucket)[:50])
    scope_sql, params = appeal_scope(principal)
    where = [scope_sql, "a.status <> 'closed'", _BUCKET_SQL[str(bucket)]]
    if executor is not None:
        where.append("a.executor_id = %s")
        params = [*params, executor]
    return " AND ".join(where), params


async def summary(conn, principal: Any) -> dict:
    """Per sub-organisation of the manager's (in the tree's order), the counts of each
    bucket; `total` sums them."""
    scope_sql, params = appeal_scope(principal)
    filters = ", ".join(f"count(*) FILTER (WHERE {_BUCKET_SQL[b]}) AS {b}" for b in BUCKETS)
    ids = [int(i) for i in (principal.executor_ids or ())]
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"SELECT a.executor_id, e.code, coalesce(e.short_name, e.name) AS name, {filters}"
            f" FROM appeals a JOIN executors e ON e.id = a.executor_id"
            f" WHERE {scope_sql} AND a.status <> 'closed'"
            " GROUP BY a.executor_id, e.code, e.short_name, e.name"
            " ORDER BY array_position(%s::int[], a.executor_id), a.executor_id",
            [*params, ids],
        )
        rows = await cur.fetchall()
    total = {b: sum(int(r[b]) for r in rows) for b in BUCKETS}
    return {"rows": rows, "total": total}


async def items(conn, principal: Any, *, bucket: Any, executor: int | None, limit: int,
                offset: int = 0) -> dict:  # fmt: skip
    """A page of a bucket (the earliest due first), with the bucket's count."""
    where, params = _where(principal, bucket, executor)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"SELECT {_COLUMNS}, count(*) OVER () AS _total {_FROM} WHERE {where}"
            f" ORDER BY {_DUE}, a.id LIMIT %s OFFSET %s",
            [*params, limit, offset],
        )
        rows = await cur.fetchall()
    total = int(rows[0]["_total"]) if rows else 0
    if not rows and offset:
        async with conn.cursor() as cur:
            await cur.execute(f"SELECT count(*) {_FROM} WHERE {where}", params)
            total = int((await cur.fetchone())[0])
    out = [iso_row({k: v for k, v in r.items() if k != "_total"}) for r in rows]
    return {"bucket": bucket, "count": total, "returned": len(out), "items": out}


def _kyiv(value: str | None) -> str | None:
    """An ISO timestamp as a spreadsheet shows it: Kyiv's date and time, YYYY-MM-DD HH:MM."""
    if not value:
        return value
    return dt.datetime.fromisoformat(value).astimezone(KYIV).strftime("%Y-%m-%d %H:%M")


async def export_csv(conn, principal: Any, *, bucket: Any, executor: int | None,
                     lang: str = "uk") -> str:  # fmt: skip
    """The bucket's list as CSV (UTF-8 with a BOM, for spreadsheets), headers in `lang`."""
    page = await items(conn, principal, bucket=bucket, executor=executor, limit=CSV_MAX_ROWS)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([tr(title, lang) for _, title in CSV_COLUMNS])
    for r in page["items"]:
        category = (lang == "en" and r["category_en"]) or r["category"]
        kind = (lang == "en" and r["kind_name_en"]) or r["kind_name"]
        values = {
            **r,
            "category": f"{kind} — {category}" if kind else category,
            "status": status_name(r["status"], lang),
            "overdue": tr(N_("так"), lang) if r["overdue"] else "",
            "created_at": _kyiv(r["created_at"]),
            "deadline_at": _kyiv(r["deadline_at"]),
        }
        writer.writerow(["" if values[k] is None else values[k] for k, _ in CSV_COLUMNS])
    return out.getvalue()


def _refuse(number: str, status: str) -> Conflict:
    """Control is for open appeals: the lifecycle's 409, naming the action 'control'."""
    return Conflict(
        "appeal_transition_refused", number=number, action="control", state=status,
        state_uk=status_name(status), state_en=status_name(status, "en"),
        allowed=", ".join(OPEN), allowed_uk=_names(OPEN, "uk"), allowed_en=_names(OPEN, "en"),
    )  # fmt: skip


def _control_date(value: Any) -> dt.date | None:
    if value is None:
        return None
    try:
        day = dt.date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput("invalid_value", parameter="until", value=str(value)[:50]) from None
    if day < dt.date.today():
        raise InvalidInput("invalid_value", parameter="until", value=str(value)[:50])
    return day


async def set_control(conn, principal: Any, number: str, body: dict) -> dict:
    """Put an open appeal under the manager's personal control until a date
    ({"until": "YYYY-MM-DD"}, not in the past), or lift it ({"until": null}); the change is an
    appeal event (action 'control', internal: staff's own business)."""
    if "until" not in body:
        raise InvalidInput("field_required", parameter="until")
    until = _control_date(body.get("until"))
    async with conn.transaction():
        appeal = await lock_appeal(conn, principal, number)
        if appeal["status"] not in OPEN:
            raise _refuse(number, appeal["status"])
        cur = await conn.execute(
            "SELECT control_until, control_by FROM appeals WHERE id = %s", (appeal["id"],)
        )
        old_until, old_by = await cur.fetchone()
        by = principal.user_id if until is not None else None
        await conn.execute(
            "UPDATE appeals SET control_until = %s, control_by = %s, updated_at = now()"
            " WHERE id = %s",
            (until, by, appeal["id"]),
        )
        await write_event(conn, appeal["id"], principal, "control",
                          {"control_until": old_until, "control_by": old_by},
                          {"control_until": until, "control_by": by},
                          internal=True)  # fmt: skip
    return {"number": number, "control_until": until.isoformat() if until else None,
            "control_by": by}  # fmt: skip
