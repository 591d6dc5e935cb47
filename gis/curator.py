"""The contact centre's curator: queues of appeals awaiting them, with counts, and the card an
answer is checked on (GUIDE §1–2).

The queues (every appeal: a curator's scope is city-wide, gis/scope.py):

- `check`: answers awaiting the curator's check — status on_check with a result of an
  "explained" answer (1551's «Роз`яснено / Потребує перевірки куратором» or «… Потребує
  фінансування»). An answer "done" (on_check, «Виконано / Очікує підтвердження заявником»)
  awaits the author's confirmation instead: `awaiting()` tells the two apart from the result,
  which 1551 keeps anyway, so the public goes on seeing 1551's status and result names;
- `not_competent`: returned by an executor as not in competence and left at the contact
  centre (status registered, result «Не в компетенції / Повернуто в 1551»), to be redirected;
- `no_location`: open appeals with no point (the law allows one without an address);
- `no_executor`: open appeals with no executor, or held by the contact centre for another
  reason than a return.

The curator's actions are the lifecycle's (gis/lifecycle.py: check, redirect).
"""

from __future__ import annotations

from typing import Any

from psycopg.rows import dict_row

from gis.councils import APPEAL_COUNCIL_SQL
from gis.errors import InvalidInput, NotFound
from gis.jsonable import iso_row
from gis.lifecycle import R_EXPLAINED_CHECK, R_FUNDING, R_NOT_COMPETENT
from gis.models import result_en
from gis.routing import reason_en
from gis.scope import council_scope

QUEUES = ("check", "not_competent", "no_location", "no_executor")
# Results of an answer that a curator checks; any other answer awaits the author.
CURATOR_RESULTS = (R_EXPLAINED_CHECK, R_FUNDING)

_PARAMS = {"curator_results": list(CURATOR_RESULTS), "not_competent": R_NOT_COMPETENT}
_WHERE = {
    "check": "a.status = 'on_check' AND a.result = ANY(%(curator_results)s)",
    "not_competent": "a.status = 'registered' AND a.result = %(not_competent)s",
    "no_location": "a.status <> 'closed' AND a.geom IS NULL",
    "no_executor": "a.status <> 'closed' AND (a.executor_id IS NULL"
    " OR (e.kind = 'contact_centre' AND a.result IS DISTINCT FROM %(not_competent)s))",
}
# The oldest first: answers by when they came, the rest by registration; privileged first.
_ORDER = {
    "check": "a.privileged DESC, a.answered_at NULLS FIRST, a.id",
    "not_competent": "a.privileged DESC, a.updated_at, a.id",
    "no_location": "a.privileged DESC, a.created_at, a.id",
    "no_executor": "a.privileged DESC, a.created_at, a.id",
}
_FROM = """
    FROM appeals a
    JOIN categories c ON c.id = a.category_id
    LEFT JOIN categories k ON k.id = c.parent_id
    LEFT JOIN executors e ON e.id = a.executor_id
"""
_COLUMNS = """
    a.number, a.status, a.result, a.privileged, a.address, a.created_at, a.answered_at,
    coalesce(a.extended_until, a.deadline_at) AS deadline_at,
    (a.closed_at IS NULL AND coalesce(a.extended_until, a.deadline_at) < now()) AS overdue,
    c.id AS category_id, c.code AS category_code, c.name AS category, c.name_en AS category_en,
    k.name AS kind_name, k.name_en AS kind_name_en,
    e.code AS executor_code, coalesce(e.short_name, e.name) AS executor,
    ST_X(a.geom) AS lon, ST_Y(a.geom) AS lat
"""


def awaiting(status: str | None, result: str | None) -> str | None:
    """Whom an appeal on check waits for: 'curator' (an explained answer) or 'author'; one
    returned as not in competence waits for the curator's redirect ('redirect')."""
    if status == "registered" and result == R_NOT_COMPETENT:
        return "redirect"
    if status != "on_check":
        return None
    return "curator" if result in CURATOR_RESULTS else "author"


def _queue(name: Any) -> str:
    if name not in QUEUES:
        raise InvalidInput("invalid_value", parameter="queue", value=str(name)[:50])
    return str(name)


def _council(principal: Any) -> tuple[str, dict]:
    """The curator's councils as a named-parameter fragment over `a` (issue 17)."""
    sql, params = council_scope(principal, "a")
    return sql.replace("%s", "%(councils)s"), ({"councils": params[0]} if params else {})


async def counts(conn, principal: Any) -> dict:
    """How many appeals each queue holds now (of the curator's councils)."""
    filters = ", ".join(f"count(*) FILTER (WHERE {_WHERE[q]}) AS {q}" for q in QUEUES)
    council_sql, council_params = _council(principal)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"SELECT {filters} {_FROM} WHERE a.status <> 'closed' AND {council_sql}",
            {**_PARAMS, **council_params},
        )
        row = await cur.fetchone()
    return {"counts": {q: int(row[q]) for q in QUEUES} if row else dict.fromkeys(QUEUES, 0)}


async def items(conn, principal: Any, queue: Any, *, limit: int, offset: int = 0) -> dict:
    """A page of one queue (oldest first), with the queue's count."""
    name = _queue(queue)
    council_sql, council_params = _council(principal)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"SELECT {_COLUMNS}, count(*) OVER () AS _total {_FROM} WHERE {_WHERE[name]}"
            f" AND {council_sql} ORDER BY {_ORDER[name]} LIMIT %(limit)s OFFSET %(offset)s",
            {**_PARAMS, **council_params, "limit": limit, "offset": offset},
        )
        rows = await cur.fetchall()
    total = int(rows[0]["_total"]) if rows else (await counts(conn, principal))["counts"][name]
    out = []
    for r in rows:
        r.pop("_total")
        r["awaiting"] = awaiting(r["status"], r["result"])
        r["result_en"] = result_en(r["result"])
        out.append(iso_row(r))
    return {"queue": name, "count": total, "returned": len(out), "items": out}


async def card(conn, principal: Any, number: str) -> dict:
    """An appeal as the curator checks or redirects it: its text, place, routing reason, the
    latest answer (text, kind, photos) beside the appeal's own photos, and the latest return
    as not in competence (its reason), and the executor territories covering its point (the
    candidates of a redirect, with their outlines)."""
    council_sql, council_params = _council(principal)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"SELECT a.id AS _id, a.text, a.routing_reason, {_COLUMNS},"
            f" {APPEAL_COUNCIL_SQL} AS council {_FROM}"
            f" WHERE a.number = %(number)s AND {council_sql}",
            {"number": number, **council_params},
        )
        row = await cur.fetchone()
        if row is None:
            raise NotFound("appeal_not_found", number=number)
        appeal_id = row.pop("_id")
        row["routing_reason_en"] = reason_en(row["routing_reason"])
        row["result_en"] = result_en(row["result"])
        await cur.execute(
            "SELECT sha256, kind FROM appeal_photos WHERE appeal_id = %s ORDER BY kind, position,"
            " id",
            (appeal_id,),
        )
        photos = await cur.fetchall()
        await cur.execute(
            "SELECT DISTINCT ON (action) action, at, actor, comment, new ->> 'answer' AS answer,"
            " new ->> 'answer_kind' AS answer_kind FROM appeal_events"
            " WHERE appeal_id = %s AND action IN ('answer', 'return')"
            " ORDER BY action, at DESC, id DESC",
            (appeal_id,),
        )
        events = {e.pop("action"): iso_row(e) for e in await cur.fetchall()}
        # The candidate territories: every current executor territory covering the point,
        # the 8 smallest first, simplified for the map (about 20 m).
        await cur.execute(
            "SELECT e.code AS executor_code, coalesce(e.short_name, e.name) AS executor,"
            " t.name, ST_AsGeoJSON(ST_SimplifyPreserveTopology(t.geom, 0.0002), 6)::json"
            " AS geometry FROM appeals a JOIN executor_territories t ON t.valid_to IS NULL"
            " AND ST_Covers(t.geom, a.geom) JOIN executors e ON e.id = t.executor_id"
            " AND e.council_id = a.council_id"
            " WHERE a.id = %s ORDER BY ST_Area(t.geom), t.id LIMIT 8",
            (appeal_id,),
        )
        territories = await cur.fetchall()
    answer = events.get("answer")
    returned = events.get("return")
    return {
        **iso_row(row),
        "awaiting": awaiting(row["status"], row["result"]),
        "photos": [p["sha256"] for p in photos if p["kind"] != "answer"],
        "answer": None if answer is None else {
            "text": answer["answer"], "kind": answer["answer_kind"], "at": answer["at"],
            "by": answer["actor"],
            "photos": [p["sha256"] for p in photos if p["kind"] == "answer"],
        },
        "territories": territories,
        "returned": None if returned is None else {
            "reason": returned["comment"], "at": returned["at"], "by": returned["actor"],
        },
    }  # fmt: skip
