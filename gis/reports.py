"""The reports (GET /api/v1/reports/{name}): what the city, its managers and deputies learn from
the appeals — tables with titled columns, read in JSON, CSV or XLSX.

Each report is one function `(conn, principal, filters, lang) -> {columns, rows, totals?}`;
`columns` are `{key, title_uk, title_en, type}` (type: string, integer, number, date), `rows`
dicts by those keys, `totals` a row of sums (or None). Names of data (districts, categories,
executors) are the registers'; a kind's and a category's English name where it has one.

Every query is limited to the caller's scope (gis/scope.appeal_scope: an executor or manager its
organisation and sub-organisations, a deputy their ward, the contact centre and admin the city
— their council's appeals when several councils share the install, issue 17)
— `scope_of` names it: "organisations", "ward", "city" (one council), "council" (a council's
contact centre and admin among several), "oblast" (oblast staff among several) — and to the
filters (`Filters`): the registration date in Kyiv days (inclusive), a district
(KATOTTH code), a ward (number), a category (id; a kind — a category without parent — stands for
its sub-kinds), an executor (code; with its sub-organisations), a channel and councils (slugs or
KATOTTH codes: a filter, never more than the scope).

Definitions (as the desks use them):
- due: coalesce(extended_until, deadline_at); overdue now: not closed and due < now
  (gis/manager.py);
- answered: the moment of the answer, answered_at, else closed_at for an appeal closed without
  one (the demo city's history); on time: answered no later than due; days to answer: from
  registration to that moment;
- returned for rework by the curator: events 'rework' with result R_REWORK_CURATOR;
- confirmed by the author: result R_CONFIRMED; its share is of the answered appeals.
No report names an author or carries an appeal's text or address.

Public figures: the reports of PUBLIC_REPORTS are aggregates (counts per district, ward, week,
channel, result, organisation, hexagon, council) and anyone may read them: a caller who is not a reader
(anonymous, a citizen, a planner) gets them city-wide, scope "public" (`PUBLIC`). A reader (staff,
deputy) always gets their own scope, public report or not. `overdue` lists single appeals and
`daily` is the desks' own: readers only.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from psycopg.rows import dict_row

from gis import clock, councils
from gis.clock import KYIV
from gis.errors import Forbidden, InvalidParameter, NotAuthenticated, NotFound
from gis.lifecycle import R_CONFIRMED, R_REWORK_CURATOR
from gis.models import CHANNELS, result_en, status_name
from gis.scope import CITY_WIDE, EXECUTOR_SUBTREE_SQL, appeal_scope, council_scope
from gis.texts import N_, tr

FORMATS = ("json", "csv", "xlsx", "geojson")
# The reports that also come as GeoJSON (format=geojson): their rows are places.
GEOJSON_REPORTS = frozenset({"hexagons", "councils"})
BY = ("kind", "category")
# Roles that read reports (api/routers/reports.py); citizens and planners do not.
READERS = ("operator", "curator", "executor", "manager", "deputy", "admin")
# Aggregates anyone may read (city-wide for whoever is not a reader; see PUBLIC).
PUBLIC_REPORTS = frozenset({
    "districts-by-category", "districts", "wards", "weekly", "channels", "results", "executors",
    "hexagons", "councils",
})  # fmt: skip
# hexagons: the hexagon's edge on the ground, metres.
HEX_SIZE = (200, 5000)
HEX_SIZE_DEFAULT = 1000

_DUE = "coalesce(a.extended_until, a.deadline_at)"
_ANSWERED = "coalesce(a.answered_at, a.closed_at)"

CHANNEL_NAMES = {
    "site": N_("Сайт"),
    "phone_1551": N_("Телефон 1551"),
    "government_hotline": N_("Урядова гаряча лінія"),
    "email": N_("Електронна пошта"),
    "tv": N_("Телебачення"),
    "112": N_("112"),
    "letter": N_("Лист"),
    "open311": N_("Open311 (застосунки)"),
}


def channel_name(channel: str, lang: str = "uk") -> str:
    """A channel's name in `lang`; an unknown one as its code."""
    return tr(CHANNEL_NAMES[channel], lang) if channel in CHANNEL_NAMES else channel


NO_DISTRICT = N_("Поза районами")
NO_WARD = N_("Поза округами")
NO_EXECUTOR = N_("Без виконавця")
NO_RESULT = N_("Без результату")
TOTAL = N_("Усього")


@dataclass(frozen=True)
class Filters:
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    district: str | None = None
    ward: int | None = None
    category: int | None = None
    executor: str | None = None
    channel: str | None = None
    by: str = "kind"  # districts-by-category: columns by kind or by category
    day: dt.date | None = None  # daily: the day (default: yesterday in Kyiv)
    size: int | None = None  # hexagons: the edge in ground metres (default HEX_SIZE_DEFAULT)
    # Councils (slugs or KATOTTH codes, lower case, sorted): the appeals of those councils.
    council: tuple[str, ...] | None = None
    # councils: each council's area too (format=geojson), as GeoJSON in `geometries`.
    shapes: bool = False


@dataclass(frozen=True)
class PublicReader:
    """Whoever reads the public reports without being a reader: the whole city, aggregates."""

    role: None = None


PUBLIC = PublicReader()


def scope_of(principal: Any, several: bool = False) -> str:
    """What a report shows the caller: "public" (the city, for a non-reader), "city" (the
    contact centre, admin), "organisations" (an executor's or manager's), "ward" (a deputy's).
    Where several councils share the install (`several`), the contact centre and admin of a
    council get "council" and oblast staff "oblast"; with one council, "city" as before."""
    role = getattr(principal, "role", None)
    if isinstance(principal, PublicReader) or role not in READERS:
        return "public"
    if role in CITY_WIDE:
        if not getattr(principal, "every_council", False):
            return "council"
        return "oblast" if several and getattr(principal, "oblast", False) else "city"
    return "ward" if role == "deputy" else "organisations"


async def several_councils(conn) -> bool:
    """Whether the install serves more than one council."""
    rows = await _fetch(conn, "SELECT count(*) > 1 AS several FROM councils", [])
    return bool(rows[0]["several"])


async def council_ids(conn, f: Filters) -> list[int] | None:
    """The ids of the councils the filter names (NotFound `council_not_found` for an unknown
    one), None without the filter."""
    if not f.council:
        return None
    return sorted(c.id for c in await councils.resolve_many(conn, ",".join(f.council)))


def col(key: str, title: str, type_: str = "integer") -> dict[str, str]:
    return {"key": key, "title_uk": title, "title_en": tr(title, "en"), "type": type_}


def _name(row: dict, lang: str, uk: str = "name", en: str = "name_en") -> str | None:
    return (lang == "en" and row.get(en)) or row.get(uk)


def kyiv_day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), KYIV)


# --- the filter --------------------------------------------------------------------------------


async def _where(conn, principal: Any, f: Filters) -> tuple[str, list[Any]]:
    """The WHERE over `appeals a` for the scope and the filters; 400 for a value that names
    nothing (an unknown district, ward, category, executor or channel)."""
    scope_sql: str
    scope_params: list[Any]
    if isinstance(principal, PublicReader):
        scope_sql, scope_params = "true", []
    else:
        scope_sql, scope_params = appeal_scope(principal, "a")
    where, params = [scope_sql], list(scope_params)
    if f.date_from and f.date_to and f.date_from > f.date_to:
        raise InvalidParameter(
            "invalid_date_range", "date_from",
            date_from=f.date_from.isoformat(), date_to=f.date_to.isoformat(),
        )  # fmt: skip
    if f.date_from:
        where.append("a.created_at >= %s")
        params.append(kyiv_day_start(f.date_from))
    if f.date_to:
        where.append("a.created_at < %s")
        params.append(kyiv_day_start(f.date_to + dt.timedelta(days=1)))
    ids = await council_ids(conn, f)
    async with conn.cursor() as cur:
        if f.district is not None:
            await cur.execute("SELECT 1 FROM districts WHERE code = %s LIMIT 1", (f.district,))
            if await cur.fetchone() is None:
                raise InvalidParameter("unknown_district", "district", value=f.district[:64])
            where.append("a.district_id IN (SELECT d.id FROM districts d WHERE d.code = %s)")
            params.append(f.district)
        if f.ward is not None:
            # Ward numbers repeat from council to council: within the filter's councils.
            await cur.execute(
                "SELECT 1 FROM wards WHERE number = %s AND (%s::int[] IS NULL"
                " OR council_id = ANY(%s::int[])) LIMIT 1",
                (f.ward, ids, ids),
            )
            if await cur.fetchone() is None:
                raise InvalidParameter("unknown_ward", "ward", value=f.ward)
            where.append("a.ward_id IN (SELECT w.id FROM wards w WHERE w.number = %s)")
            params.append(f.ward)
        if f.category is not None:
            await cur.execute("SELECT 1 FROM categories WHERE id = %s", (f.category,))
            if await cur.fetchone() is None:
                raise InvalidParameter("unknown_category", "category", value=f.category)
            where.append(
                "a.category_id IN (SELECT c.id FROM categories c WHERE c.id = %s"
                " OR c.parent_id = %s)"
            )
            params += [f.category, f.category]
        if f.executor is not None:
            await cur.execute("SELECT id FROM executors WHERE code = %s", (f.executor,))
            row = await cur.fetchone()
            if row is None:
                raise InvalidParameter("unknown_executor", "executor", value=f.executor[:64])
            await cur.execute(EXECUTOR_SUBTREE_SQL, (row[0],))
            where.append("a.executor_id = ANY(%s)")
            params.append([r[0] for r in await cur.fetchall()])
    if ids is not None:
        where.append("a.council_id = ANY(%s)")
        params.append(ids)
    if f.channel is not None:
        if f.channel not in CHANNELS:
            raise InvalidParameter(
                "unknown_channel", "channel", value=f.channel[:64], allowed=", ".join(CHANNELS)
            )
        where.append("a.channel = %s")
        params.append(f.channel)
    return " AND ".join(where), params


# Each report's statement runs with these (SET LOCAL, in its own transaction). Over 3 million
# appeals (bench/reports_3m.py) JIT compiled the executors' statement for 1.8 s and saved less;
# the medians sort up to every appeal's days to answer (2.9 million values: 250 MB in memory,
# where 32 MB spilled them to disk).
REPORT_SETTINGS = ("SET LOCAL jit = off", "SET LOCAL work_mem = '256MB'")


async def _fetch(conn, query: str, params: list[Any]) -> list[dict]:
    async with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        for setting in REPORT_SETTINGS:
            await cur.execute(setting)
        await cur.execute(query, params)
        return await cur.fetchall()


def _sum_totals(rows: list[dict], columns: list[dict], label_key: str, lang: str) -> dict:
    totals: dict[str, Any] = {c["key"]: None for c in columns}
    for c in columns:
        if c["type"] == "integer":
            totals[c["key"]] = sum(int(r[c["key"]] or 0) for r in rows)
    totals[label_key] = tr(TOTAL, lang)
    return totals


def _round(value: Any, digits: int = 1) -> float | None:
    return None if value is None else round(float(value), digits)


# --- the reports -------------------------------------------------------------------------------


async def districts_by_category(conn, principal: Any, f: Filters, lang: str) -> dict:
    """Districts × kinds (or × categories with by=category): counts, a row total per district
    and a column total per kind; appeals outside every district make a row of their own."""
    if f.by not in BY:
        raise InvalidParameter("invalid_value", "by", value=f.by[:64])
    where, params = await _where(conn, principal, f)
    group = "coalesce(c.parent_id, c.id)" if f.by == "kind" else "c.id"
    data = await _fetch(
        conn,
        # Counted by district id first, named after: min(d.name) over every appeal compared
        # 3 million names (bench/reports_3m.py: 3 s of 5).
        f"SELECT d.code AS district_code, min(d.name) AS name, min(d.name_en) AS name_en,"
        f" g.col_id, sum(g.n) AS n FROM ("
        f"SELECT a.district_id, {group} AS col_id, count(*) AS n"
        f" FROM appeals a JOIN categories c ON c.id = a.category_id"
        f" WHERE {where} GROUP BY a.district_id, {group}) g"
        f" LEFT JOIN districts d ON d.id = g.district_id GROUP BY d.code, g.col_id",
        params,
    )
    ids = sorted({int(r["col_id"]) for r in data})
    cats = await _fetch(
        conn,
        "SELECT c.id, c.name, c.name_en, k.name AS kind, k.name_en AS kind_en, c.sort_order"
        " FROM categories c LEFT JOIN categories k ON k.id = c.parent_id WHERE c.id = ANY(%s)"
        " ORDER BY coalesce(k.sort_order, c.sort_order), k.name NULLS FIRST, c.sort_order,"
        " c.name",
        [ids],
    )
    columns = [
        col("district_code", N_("Код району"), "string"),
        col("district", N_("Район"), "string"),
    ]
    for c in cats:
        title_uk = c["name"] if c["kind"] is None else f"{c['kind']} — {c['name']}"
        en = c["name_en"] or c["name"]
        title_en = en if c["kind"] is None else f"{c['kind_en'] or c['kind']} — {en}"
        columns.append({"key": f"c{c['id']}", "title_uk": title_uk, "title_en": title_en,
                        "type": "integer"})  # fmt: skip
    columns.append(col("total", TOTAL))
    by_district: dict[str | None, dict] = {}
    for r in data:
        row = by_district.setdefault(r["district_code"], {
            "district_code": r["district_code"],
            "district": _name(r, lang) or tr(NO_DISTRICT, lang),
            **{f"c{i}": 0 for i in ids}, "total": 0,
        })  # fmt: skip
        row[f"c{r['col_id']}"] += int(r["n"])
        row["total"] += int(r["n"])
    rows = sorted(by_district.values(), key=lambda r: (r["district_code"] is None, r["district"]))
    return {
        "columns": columns,
        "rows": rows,
        "totals": _sum_totals(rows, columns, "district", lang),
    }


async def executors(conn, principal: Any, f: Filters, lang: str) -> dict:
    """Per organisation: received, in work (not closed), answered on time, overdue now, mean and
    median days to answer, returned for rework by the curator, confirmed by the author and that
    share of the answered appeals. The totals row is computed over all the rows' appeals."""
    where, params = await _where(conn, principal, f)
    # The counts and the time to answer summed per executor in one parallel pass over the
    # period's appeals (ix_appeals_reports), the totals summed from those rows (GROUPING SETS
    # would run the pass in one process: 1.8 s → 0.65 s over 3 million appeals); the returns for
    # rework joined from the few 'rework' events (ix_appeal_events_rework); the medians apart:
    # each executor's days to answer (float8) gathered by hashing, then sorted per executor and
    # once for the city (percentile_cont over GROUPING SETS sorted all the pairs by executor
    # first: the medians took a quarter to a third longer); the executors' names joined last.
    counts = ("received", "in_work", "answered", "on_time", "overdue", "rework", "confirmed")
    totals = ", ".join(f"coalesce(sum({k}), 0)" for k in counts)
    data = await _fetch(
        conn,
        f"WITH per AS (SELECT a.executor_id, count(*) AS received,"
        f" count(*) FILTER (WHERE a.status <> 'closed') AS in_work,"
        f" count(*) FILTER (WHERE {_ANSWERED} IS NOT NULL) AS answered,"
        f" count(*) FILTER (WHERE {_ANSWERED} <= {_DUE}) AS on_time,"
        f" count(*) FILTER (WHERE a.status <> 'closed' AND {_DUE} < %s) AS overdue,"
        f" sum({_ANSWERED} - a.created_at) AS answer_time, coalesce(sum(rw.n), 0) AS rework,"
        f" count(*) FILTER (WHERE a.result = %s) AS confirmed"
        f" FROM appeals a LEFT JOIN (SELECT ev.appeal_id, count(*) AS n FROM appeal_events ev"
        f"  WHERE ev.action = 'rework' AND ev.new->>'result' = %s GROUP BY ev.appeal_id) rw"
        f"  ON rw.appeal_id = a.id"
        f" WHERE {where} GROUP BY a.executor_id),"
        f" n AS (SELECT executor_id, 0 AS is_total, {', '.join(counts)}, answer_time FROM per"
        f" UNION ALL SELECT NULL, 1, {totals}, sum(answer_time) FROM per),"
        f" v AS MATERIALIZED (SELECT a.executor_id,"
        f"  array_agg(date_part('epoch', {_ANSWERED} - a.created_at) / 86400) AS ds"
        f"  FROM appeals a WHERE {_ANSWERED} IS NOT NULL AND {where} GROUP BY a.executor_id)"
        f" SELECT e.code, coalesce(e.short_name, e.name) AS name, n.is_total,"
        f" {', '.join(f'n.{k}' for k in counts)},"
        f" extract(epoch FROM n.answer_time) / 86400.0 / nullif(n.answered, 0) AS mean_days,"
        f" m.median_days FROM n"
        f" LEFT JOIN (SELECT executor_id, 0 AS is_total, (SELECT percentile_cont(0.5)"
        f"  WITHIN GROUP (ORDER BY d) FROM unnest(v.ds) d) AS median_days FROM v"
        f" UNION ALL SELECT NULL, 1, (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY d)"
        f"  FROM v, unnest(v.ds) d)) m"
        f" ON m.is_total = n.is_total AND m.executor_id IS NOT DISTINCT FROM n.executor_id"
        f" LEFT JOIN executors e ON e.id = n.executor_id"
        f" ORDER BY n.is_total, coalesce(e.short_name, e.name), e.code",
        [clock.now(), R_CONFIRMED, R_REWORK_CURATOR, *params, *params],
    )
    columns = [
        col("executor_code", N_("Код виконавця"), "string"),
        col("executor", N_("Виконавець"), "string"),
        col("received", N_("Надійшло")),
        col("in_work", N_("У роботі")),
        col("answered", N_("Надано відповідь")),
        col("answered_on_time", N_("Відповідь вчасно")),
        col("overdue", N_("Прострочено зараз")),
        col("mean_days", N_("Середній строк відповіді, днів"), "number"),
        col("median_days", N_("Медіанний строк відповіді, днів"), "number"),
        col("returned_by_curator", N_("Повернуто куратором на доопрацювання")),
        col("confirmed", N_("Підтверджено заявником")),
        col("confirmed_share", N_("Частка підтверджених заявником"), "number"),
    ]

    def shape(r: dict) -> dict:
        answered = int(r["answered"])
        return {
            "executor_code": None if r["is_total"] else r["code"],
            "executor": tr(TOTAL, lang) if r["is_total"] else (r["name"] or tr(NO_EXECUTOR, lang)),
            "received": int(r["received"]),
            "in_work": int(r["in_work"]),
            "answered": answered,
            "answered_on_time": int(r["on_time"]),
            "overdue": int(r["overdue"]),
            "mean_days": _round(r["mean_days"]),
            "median_days": _round(r["median_days"]),
            "returned_by_curator": int(r["rework"]),
            "confirmed": int(r["confirmed"]),
            "confirmed_share": round(int(r["confirmed"]) / answered, 3) if answered else None,
        }

    rows = [shape(r) for r in data if not r["is_total"]]
    total = [shape(r) for r in data if r["is_total"]]
    return {"columns": columns, "rows": rows, "totals": total[0] if rows else None}


async def overdue(conn, principal: Any, f: Filters, lang: str) -> dict:
    """The open appeals past their term, the most overdue first: number, category, district,
    ward, the executor, registered and due (Kyiv dates) and the days overdue (Kyiv days). No
    author, text nor address."""
    where, params = await _where(conn, principal, f)
    now = clock.now()
    data = await _fetch(
        conn,
        f"SELECT a.number, a.status, c.name, c.name_en, k.name AS kind, k.name_en AS kind_en,"
        f" d.name AS district, d.name_en AS district_en, w.number AS ward,"
        f" e.code AS executor_code, coalesce(e.short_name, e.name) AS executor,"
        f" (a.created_at AT TIME ZONE 'Europe/Kyiv')::date AS registered,"
        f" ({_DUE} AT TIME ZONE 'Europe/Kyiv')::date AS due,"
        f" %s::date - ({_DUE} AT TIME ZONE 'Europe/Kyiv')::date AS days_overdue"
        f" FROM appeals a JOIN categories c ON c.id = a.category_id"
        f" LEFT JOIN categories k ON k.id = c.parent_id"
        f" LEFT JOIN districts d ON d.id = a.district_id"
        f" LEFT JOIN wards w ON w.id = a.ward_id"
        f" LEFT JOIN executors e ON e.id = a.executor_id"
        f" WHERE a.status <> 'closed' AND {_DUE} < %s AND {where}"
        f" ORDER BY {_DUE}, a.id",
        [now.astimezone(KYIV).date(), now, *params],
    )
    rows = []
    for r in data:
        category = _name(r, lang)
        kind = _name(r, lang, "kind", "kind_en")
        rows.append({
            "number": r["number"],
            "category": f"{kind} — {category}" if kind else category,
            "status": status_name(r["status"], lang),
            "district": _name(r, lang, "district", "district_en"),
            "ward": r["ward"],
            "executor_code": r["executor_code"],
            "executor": r["executor"],
            "registered": r["registered"],
            "due": r["due"],
            "days_overdue": int(r["days_overdue"]),
        })  # fmt: skip
    columns = [
        col("number", N_("Номер"), "string"),
        col("category", N_("Категорія"), "string"),
        col("status", N_("Статус"), "string"),
        col("district", N_("Район"), "string"),
        col("ward", N_("Округ")),
        col("executor_code", N_("Код виконавця"), "string"),
        col("executor", N_("Виконавець"), "string"),
        col("registered", N_("Зареєстровано"), "date"),
        col("due", N_("Строк"), "date"),
        col("days_overdue", N_("Прострочено, днів")),
    ]
    return {"columns": columns, "rows": rows, "totals": None}


async def channels(conn, principal: Any, f: Filters, lang: str) -> dict:
    """Per channel of receipt: received, open, closed, overdue now."""
    where, params = await _where(conn, principal, f)
    data = await _fetch(
        conn,
        f"SELECT a.channel, count(*) AS received,"
        f" count(*) FILTER (WHERE a.status <> 'closed') AS open,"
        f" count(*) FILTER (WHERE a.status = 'closed') AS closed,"
        f" count(*) FILTER (WHERE a.status <> 'closed' AND {_DUE} < %s) AS overdue"
        f" FROM appeals a WHERE {where} GROUP BY a.channel",
        [clock.now(), *params],
    )
    order = {c: i for i, c in enumerate(CHANNELS)}
    rows = [
        {
            "channel_code": r["channel"],
            "channel": tr(CHANNEL_NAMES[r["channel"]], lang)
            if r["channel"] in CHANNEL_NAMES else r["channel"],
            **{k: int(r[k]) for k in ("received", "open", "closed", "overdue")},
        }
        for r in sorted(data, key=lambda r: order.get(r["channel"], 99))
    ]  # fmt: skip
    columns = [
        col("channel_code", N_("Код каналу"), "string"),
        col("channel", N_("Канал надходження"), "string"),
        col("received", N_("Надійшло")),
        col("open", N_("Незакриті")),
        col("closed", N_("Закриті")),
        col("overdue", N_("Прострочено зараз")),
    ]
    return {"columns": columns, "rows": rows, "totals": _sum_totals(rows, columns, "channel", lang)}


async def results(conn, principal: Any, f: Filters, lang: str) -> dict:
    """Per result (1551's wording; English where it has one): the count and its share."""
    where, params = await _where(conn, principal, f)
    data = await _fetch(
        conn,
        f"SELECT a.result, count(*) AS n FROM appeals a WHERE {where}"
        " GROUP BY a.result ORDER BY count(*) DESC, a.result NULLS LAST",
        params,
    )
    total = sum(int(r["n"]) for r in data)
    rows = []
    for r in data:
        name = r["result"]
        if name is None:
            name = tr(NO_RESULT, lang)
        elif lang == "en":
            name = result_en(name) or name
        rows.append({"result": name, "count": int(r["n"]),
                     "share": round(int(r["n"]) / total, 3) if total else None})  # fmt: skip
    columns = [
        col("result", N_("Результат"), "string"),
        col("count", N_("Кількість")),
        col("share", N_("Частка"), "number"),
    ]
    totals = {"result": tr(TOTAL, lang), "count": total, "share": 1.0 if total else None}
    return {"columns": columns, "rows": rows, "totals": totals}


async def _per_area(conn, principal: Any, f: Filters, table: str, key: str, column: str,
                    names: str) -> list[dict]:  # fmt: skip
    """Per area of `table` (by its `key`, whatever its version; the appeal's area id in
    a.`column`): received, open (not closed), overdue now, answered on time. Every current area
    has its row, zero or not (the dashboard's choropleths colour them all); appeals outside
    every area make a row (key None) when there are any. Counted by area id first and named
    after: min(name) over every appeal compared 3 million names (bench/reports_3m.py)."""
    where, params = await _where(conn, principal, f)
    named = ", ".join(f"min(t.{n}) AS {n}" for n in names.split(", "))
    current = ", ".join(f"coalesce(cur.{n}, c.{n}) AS {n}" for n in names.split(", "))
    return await _fetch(
        conn,
        f"WITH counts AS (SELECT t.{key}, {named}, sum(x.received) AS received,"
        f" sum(x.open) AS open, sum(x.overdue) AS overdue, sum(x.on_time) AS on_time FROM ("
        f"SELECT a.{column}, count(*) AS received,"
        f" count(*) FILTER (WHERE a.status <> 'closed') AS open,"
        f" count(*) FILTER (WHERE a.status <> 'closed' AND {_DUE} < %s) AS overdue,"
        f" count(*) FILTER (WHERE {_ANSWERED} <= {_DUE}) AS on_time"
        f" FROM appeals a WHERE {where} GROUP BY a.{column}) x"
        f" LEFT JOIN {table} t ON t.id = x.{column} GROUP BY t.{key})"
        f" SELECT coalesce(cur.{key}, c.{key}) AS {key}, {current},"
        f" coalesce(c.received, 0) AS received, coalesce(c.open, 0) AS open,"
        f" coalesce(c.overdue, 0) AS overdue, coalesce(c.on_time, 0) AS on_time"
        f" FROM (SELECT {key}, {names} FROM {table} WHERE valid_to IS NULL) cur"
        f" FULL JOIN counts c ON c.{key} = cur.{key}"
        f" ORDER BY 1 NULLS LAST",
        [clock.now(), *params],
    )


async def wards(conn, principal: Any, f: Filters, lang: str) -> dict:
    """Per ward (by number, whatever its version): received, open, overdue now; every current
    ward, and the appeals outside them (_per_area)."""
    data = await _per_area(conn, principal, f, "wards", "number", "ward_id", "name")
    rows = [
        {
            "ward": r["number"],
            "name": r["name"] if r["number"] is not None else tr(NO_WARD, lang),
            **{k: int(r[k]) for k in ("received", "open", "overdue")},
        }
        for r in data
    ]
    columns = [
        col("ward", N_("Округ")),
        col("name", N_("Назва округу"), "string"),
        col("received", N_("Надійшло")),
        col("open", N_("Незакриті")),
        col("overdue", N_("Прострочено зараз")),
    ]
    totals = _sum_totals(rows, columns, "name", lang)
    totals["ward"] = None
    return {"columns": columns, "rows": rows, "totals": totals}


async def districts(conn, principal: Any, f: Filters, lang: str) -> dict:
    """Per district (by code, whatever its version): received, open (not closed), overdue now,
    answered on time; every current district, and the appeals outside them (_per_area). The
    totals row sums the rows."""
    data = await _per_area(conn, principal, f, "districts", "code", "district_id",
                           "name, name_en")  # fmt: skip
    rows = [
        {
            "district_code": r["code"],
            "district": _name(r, lang) if r["code"] is not None else tr(NO_DISTRICT, lang),
            "received": int(r["received"]),
            "open": int(r["open"]),
            "overdue": int(r["overdue"]),
            "answered_on_time": int(r["on_time"]),
        }
        for r in data
    ]
    rows.sort(key=lambda r: (r["district_code"] is None, r["district"] or ""))
    columns = [
        col("district_code", N_("Код району"), "string"),
        col("district", N_("Район"), "string"),
        col("received", N_("Надійшло")),
        col("open", N_("Незакриті")),
        col("overdue", N_("Прострочено зараз")),
        col("answered_on_time", N_("Відповідь вчасно")),
    ]
    totals = _sum_totals(rows, columns, "district", lang)
    return {"columns": columns, "rows": rows, "totals": totals}


DAILY_RECEIVED = N_("Надійшло: {channel}")
DAILY_INDICATORS = {
    "received": N_("Надійшло за день"),
    "closed": N_("Закрито за день"),
    "overdue": N_("Прострочено на кінець дня"),
}


async def daily(conn, principal: Any, f: Filters, lang: str) -> dict:
    """The day's summary (f.day, default yesterday in Kyiv): received (in all and by channel),
    closed that day, and overdue at the day's end (registered by then, not closed by then, due
    before it). The date filters do not apply: the day is the window."""
    day = f.day or clock.kyiv_today() - dt.timedelta(days=1)
    start, end = kyiv_day_start(day), kyiv_day_start(day + dt.timedelta(days=1))
    where, params = await _where(conn, principal, replace(f, date_from=None, date_to=None))
    data = await _fetch(
        conn,
        f"SELECT a.channel, count(*) AS n FROM appeals a"
        f" WHERE a.created_at >= %s AND a.created_at < %s AND {where} GROUP BY a.channel",
        [start, end, *params],
    )
    counts = (await _fetch(
        conn,
        f"SELECT count(*) FILTER (WHERE a.closed_at >= %s AND a.closed_at < %s) AS closed,"
        f" count(*) FILTER (WHERE a.created_at < %s AND {_DUE} < %s"
        f"  AND (a.closed_at IS NULL OR a.closed_at >= %s)) AS overdue"
        f" FROM appeals a WHERE {where}",
        [start, end, end, end, end, *params],
    ))[0]  # fmt: skip
    by_channel = {r["channel"]: int(r["n"]) for r in data}
    rows = [{"indicator_code": "received", "indicator": tr(DAILY_INDICATORS["received"], lang),
             "value": sum(by_channel.values())}]  # fmt: skip
    for c in CHANNELS:
        rows.append({
            "indicator_code": f"received_{c}",
            "indicator": tr(DAILY_RECEIVED, lang, channel=tr(CHANNEL_NAMES[c], lang)),
            "value": by_channel.get(c, 0),
        })  # fmt: skip
    for key in ("closed", "overdue"):
        rows.append({"indicator_code": key, "indicator": tr(DAILY_INDICATORS[key], lang),
                     "value": int(counts[key])})  # fmt: skip
    columns = [
        col("indicator_code", N_("Код показника"), "string"),
        col("indicator", N_("Показник"), "string"),
        col("value", N_("Значення")),
    ]
    return {"columns": columns, "rows": rows, "totals": None, "date": day}


async def weekly(conn, principal: Any, f: Filters, lang: str) -> dict:
    """Per Kyiv week (from its Monday) of the appeals under the filters: received (by the week
    of registration) and closed (by the week of closing) — the dashboard's time series."""
    where, params = await _where(conn, principal, f)
    local = "AT TIME ZONE 'Europe/Kyiv'"
    data = await _fetch(
        conn,
        # Counted per UTC hour first (Kyiv's offset is whole hours, so an hour lies in one Kyiv
        # week), then the ~9,000 hours put in their week: the time zone's rules once an hour,
        # not once an appeal; and one scan for both counts (two grouping sets: by the hour of
        # registration, by the hour of closing). Over 3 million appeals 3.9 → 1.3 s
        # (bench/reports_3m.py).
        f"SELECT date_trunc('week', to_timestamp(h * 3600) {local})::date AS week,"
        f" coalesce(sum(n) FILTER (WHERE by_closing = 0), 0) AS received,"
        f" coalesce(sum(n) FILTER (WHERE by_closing = 1), 0) AS closed FROM ("
        f" SELECT coalesce(hr, hc) AS h, grouping(hr) AS by_closing, count(*) AS n FROM ("
        f"  SELECT floor(date_part('epoch', a.created_at) / 3600) AS hr,"
        f"   floor(date_part('epoch', a.closed_at) / 3600) AS hc"
        f"  FROM appeals a WHERE {where}) t"
        f" GROUP BY GROUPING SETS ((hr), (hc))) s"
        f" WHERE h IS NOT NULL GROUP BY 1 ORDER BY 1",
        params,
    )
    rows = [{"week": r["week"], "received": int(r["received"]), "closed": int(r["closed"])}
            for r in data]  # fmt: skip
    columns = [
        col("week", N_("Тиждень (з понеділка)"), "date"),
        col("received", N_("Надійшло")),
        col("closed", N_("Закрито")),
    ]
    totals = _sum_totals(rows, columns, "week", lang)
    totals["week"] = None
    return {"columns": columns, "rows": rows, "totals": totals}


# --- hexagons ----------------------------------------------------------------------------------


def hex_triangle_sql(edge: float, x: str, y: str) -> tuple[str, str, str]:
    """SQL of a point's triangle (t0, t1, t2) in the lattice of PostGIS's hexagons of edge
    `edge` (EPSG:3857 units), from its coordinates `x`, `y` (SQL expressions).

    PostGIS's lattice (ST_Hexagon, origin 0 0, flat-topped hexagons): the centre of hexagon
    (i, j) is (1.5·edge·i, √3·edge·(j + ½·(|i| mod 2))); in axial coordinates q = i,
    r = j − (i − |i| mod 2)/2 the centre is (1.5·edge·q, √3·edge·(r + q/2)). Every edge of every
    hexagon lies on one of three families of parallel lines, √3/2·edge apart, normal to
    (0, 1), (√3/2, ½) and (−√3/2, ½); they cut the plane into triangles, each inside one
    hexagon. With X = x/edge, Y = y/edge the triangle is t0 = ⌊2Y/√3⌋, t1 = ⌊X + Y/√3⌋,
    t2 = ⌊Y/√3 − X⌋, and its hexagon q = ⌊(t1 − t2 + 1)/3⌋, r = ⌊(t0 + t2 + 2)/3⌋
    (hex_index_sql). A point on a hexagon's edge or vertex goes to one of the hexagons it
    touches (ST_Intersects holds for it)."""
    k0, k1, k2 = 2 / (math.sqrt(3) * edge), 1 / edge, 1 / (math.sqrt(3) * edge)
    return (
        f"floor({y} * {k0!r}::float8)",
        f"floor({x} * {k1!r}::float8 + {y} * {k2!r}::float8)",
        f"floor({y} * {k2!r}::float8 - {x} * {k1!r}::float8)",
    )


def hex_index_sql(t0: str, t1: str, t2: str) -> tuple[str, str]:
    """SQL of the hexagon (i, j) of ST_Hexagon holding the triangle (t0, t1, t2) of
    hex_triangle_sql: (q, r) = (⌊(t1 − t2 + 1)/3⌋, ⌊(t0 + t2 + 2)/3⌋), i = q,
    j = r + (q − |q| mod 2)/2."""
    q = f"floor(({t1} - {t2} + 1) / 3)::bigint"
    r = f"floor(({t0} + {t2} + 2) / 3)::bigint"
    return q, f"{r} + ({q} - mod(abs({q}), 2)) / 2"


def hex_cell_sql(edge: float, source: str, carry: str = "") -> str:
    """A query of (i, j, <carry>): for each row of `source` — a query with columns x, y (EPSG:3857
    metres) and `carry` — the ST_Hexagon(edge, i, j) holding the point, by arithmetic alone (no
    grid generated nor joined). The report `hexagons` runs the same arithmetic in two steps."""
    k = f", {carry}" if carry else ""
    t0, t1, t2 = hex_triangle_sql(edge, "x", "y")
    i, j = hex_index_sql("t0", "t1", "t2")
    return (
        f"SELECT {i} AS i, {j} AS j{k} FROM ("
        f"SELECT {t0} AS t0, {t1} AS t1, {t2} AS t2{k} FROM ({source}) src) t"
    )


async def city_latitude(conn, councils_: list[int] | None = None) -> float:
    """The latitude of the city's centre (the middle of its extent: the current hromadas —
    those of `councils_` when given —, else the districts; 0 when there is neither)."""
    rows = await _fetch(
        conn,
        "SELECT coalesce("
        " (SELECT (ST_YMin(e) + ST_YMax(e)) / 2 FROM (SELECT ST_Extent(geom) AS e FROM hromadas"
        "  WHERE valid_to IS NULL AND (%s::int[] IS NULL OR code IN"
        "   (SELECT k.code FROM councils k WHERE k.id = ANY(%s::int[])))) h),"
        " (SELECT (ST_YMin(e) + ST_YMax(e)) / 2 FROM (SELECT ST_Extent(geom) AS e FROM districts"
        "  WHERE valid_to IS NULL) d), 0) AS lat",
        [councils_, councils_],
    )
    return max(-80.0, min(80.0, float(rows[0]["lat"])))


def hex_edge(size: int, latitude: float) -> float:
    """The edge in EPSG:3857 units of a hexagon whose edge is about `size` metres on the ground
    at `latitude` (Web Mercator stretches distances by 1/cos(latitude))."""
    return size / math.cos(math.radians(latitude))


async def hexagons(conn, principal: Any, f: Filters, lang: str) -> dict:
    """A hexagon density grid of the located appeals under the filters: per non-empty hexagon,
    received, open (not closed), overdue now. The hexagons are PostGIS's (ST_Hexagon, in
    EPSG:3857), their edge `size` metres on the ground at the city's centre (f.size, default
    HEX_SIZE_DEFAULT): size / cos(latitude of the centre) in Web Mercator. Each appeal's hexagon
    is computed from its coordinates by arithmetic (hex_triangle_sql, hex_index_sql): the
    appeals are counted per triangle of the lattice (a few per hexagon; no grid is generated nor
    joined), the triangles summed into their hexagon (i, j), and only the non-empty hexagons
    are built. `hex` is "i:j", lon/lat the hexagon's centre (WGS 84)."""
    size = f.size or HEX_SIZE_DEFAULT
    edge = hex_edge(size, await city_latitude(conn, await council_ids(conn, f)))
    where, params = await _where(conn, principal, f)
    t0, t1, t2 = hex_triangle_sql(edge, "ST_X(a.geom_3857)", "ST_Y(a.geom_3857)")
    i, j = hex_index_sql("t0", "t1", "t2")
    e = f"{edge!r}::float8"
    data = await _fetch(
        conn,
        f"SELECT g.i, g.j, g.received, g.open, g.overdue, ST_X(c.pt) AS lon, ST_Y(c.pt) AS lat,"
        f" ST_AsGeoJSON(ST_Transform(ST_SetSRID(ST_Hexagon({e}, g.i::int, g.j::int), 3857),"
        f" 4326), 6) AS polygon"
        f" FROM (SELECT {i} AS i, {j} AS j, sum(n)::bigint AS received,"
        f"  sum(n_open)::bigint AS open, sum(n_overdue)::bigint AS overdue"
        f"  FROM (SELECT {t0} AS t0, {t1} AS t1, {t2} AS t2, count(*) AS n,"
        f"   count(*) FILTER (WHERE a.status <> 'closed') AS n_open,"
        f"   count(*) FILTER (WHERE a.status <> 'closed' AND {_DUE} < %s) AS n_overdue"
        f"   FROM appeals a WHERE a.geom_3857 IS NOT NULL AND {where}"
        f"   GROUP BY 1, 2, 3) triangles GROUP BY 1, 2) g"
        f" CROSS JOIN LATERAL (SELECT ST_Transform(ST_SetSRID(ST_MakePoint(1.5 * {e} * g.i,"
        f"  sqrt(3) * {e} * (g.j + 0.5 * mod(abs(g.i), 2))::float8), 3857), 4326) AS pt) c"
        f" ORDER BY g.i, g.j",
        [clock.now(), *params],
    )
    rows = [
        {
            "hex": f"{r['i']}:{r['j']}",
            "lon": round(float(r["lon"]), 6),
            "lat": round(float(r["lat"]), 6),
            **{k: int(r[k]) for k in ("received", "open", "overdue")},
        }
        for r in data
    ]
    columns = [
        col("hex", N_("Шестикутник (i:j)"), "string"),
        col("lon", N_("Довгота центру"), "number"),
        col("lat", N_("Широта центру"), "number"),
        col("received", N_("Надійшло")),
        col("open", N_("Незакриті")),
        col("overdue", N_("Прострочено зараз")),
    ]
    totals = _sum_totals(rows, columns, "hex", lang)
    return {
        "columns": columns,
        "rows": rows,
        "totals": totals,
        "size": size,
        "geometries": [json.loads(r["polygon"]) for r in data],
    }


# --- councils ----------------------------------------------------------------------------------

NO_COUNCIL_NAME = N_("Громада")


async def councils_report(conn, principal: Any, f: Filters, lang: str) -> dict:
    """Per council (issue 17; the oblast's choropleth): received, in work (not closed),
    overdue now, answered, answered on time and that share of the answered, the median days to
    answer; occupied or not. Every council the caller may see has its row, zero or not (a
    council's own staff: theirs alone; the public and oblast staff: all; narrowed by the
    `council` filter). With f.shapes each row's area comes too (`geometries`: the council's
    current hromada as GeoJSON, 5 decimals; null without one) for format=geojson."""
    where, params = await _where(conn, principal, f)
    listed_params: list[Any]
    if isinstance(principal, PublicReader):
        listed, listed_params = "true", []
    else:
        listed, listed_params = council_scope(principal, "k", "id")
    ids = await council_ids(conn, f)
    if ids is not None:
        listed += " AND k.id = ANY(%s)"
        listed_params = [*listed_params, ids]
    shape = (
        "(SELECT ST_AsGeoJSON(h.geom, 5) FROM hromadas h WHERE h.code = k.code"
        " AND h.valid_to IS NULL ORDER BY h.id DESC LIMIT 1)"
        if f.shapes else "NULL::text"
    )  # fmt: skip
    data = await _fetch(
        conn,
        f"WITH per AS (SELECT a.council_id, count(*) AS received,"
        f" count(*) FILTER (WHERE a.status <> 'closed') AS in_work,"
        f" count(*) FILTER (WHERE a.status <> 'closed' AND {_DUE} < %s) AS overdue,"
        f" count(*) FILTER (WHERE {_ANSWERED} IS NOT NULL) AS answered,"
        f" count(*) FILTER (WHERE {_ANSWERED} <= {_DUE}) AS on_time,"
        f" percentile_cont(0.5) WITHIN GROUP"
        f"  (ORDER BY date_part('epoch', {_ANSWERED} - a.created_at) / 86400) AS median_days"
        f" FROM appeals a WHERE {where} GROUP BY a.council_id)"
        f" SELECT k.code, k.name, k.name_en, k.occupied_since,"
        f" coalesce(p.received, 0) AS received, coalesce(p.in_work, 0) AS in_work,"
        f" coalesce(p.overdue, 0) AS overdue, coalesce(p.answered, 0) AS answered,"
        f" coalesce(p.on_time, 0) AS on_time, p.median_days, {shape} AS shape"
        f" FROM councils k LEFT JOIN per p ON p.council_id = k.id"
        f" WHERE {listed} ORDER BY k.name, k.code",
        [clock.now(), *params, *listed_params],
    )
    rows = []
    for r in data:
        answered = int(r["answered"])
        rows.append({
            "council_code": r["code"],
            "council": _name(r, lang) or tr(NO_COUNCIL_NAME, lang),
            "occupied": r["occupied_since"] is not None,
            "occupied_since": r["occupied_since"],
            "received": int(r["received"]),
            "in_work": int(r["in_work"]),
            "overdue": int(r["overdue"]),
            "answered": answered,
            "answered_on_time": int(r["on_time"]),
            "on_time_share": round(int(r["on_time"]) / answered, 3) if answered else None,
            "median_days": _round(r["median_days"]),
        })  # fmt: skip
    columns = [
        col("council_code", N_("Код громади (КАТОТТГ)"), "string"),
        col("council", N_("Громада"), "string"),
        col("occupied", N_("Окупована"), "boolean"),
        col("occupied_since", N_("Окупована з"), "date"),
        col("received", N_("Надійшло")),
        col("in_work", N_("У роботі")),
        col("overdue", N_("Прострочено зараз")),
        col("answered", N_("Надано відповідь")),
        col("answered_on_time", N_("Відповідь вчасно")),
        col("on_time_share", N_("Частка відповідей вчасно"), "number"),
        col("median_days", N_("Медіанний строк відповіді, днів"), "number"),
    ]
    totals = _sum_totals(rows, columns, "council", lang)
    on_time, answered_all = totals["answered_on_time"], totals["answered"]
    totals["on_time_share"] = round(on_time / answered_all, 3) if answered_all else None
    table: dict[str, Any] = {"columns": columns, "rows": rows, "totals": totals}
    if f.shapes:
        table["geometries"] = [json.loads(r["shape"]) if r["shape"] else None for r in data]
    return table


Report = Callable[[Any, Any, Filters, str], Awaitable[dict]]
REPORTS: dict[str, Report] = {
    "districts-by-category": districts_by_category,
    "districts": districts,
    "executors": executors,
    "overdue": overdue,
    "channels": channels,
    "results": results,
    "wards": wards,
    "daily": daily,
    "weekly": weekly,
    "hexagons": hexagons,
    "councils": councils_report,
}

# The reports each of these parameters applies to (the others apply to every report).
APPLIES = {
    "date_from": frozenset(REPORTS) - {"daily"},
    "date_to": frozenset(REPORTS) - {"daily"},
    "date": frozenset({"daily"}),
    "by": frozenset({"districts-by-category"}),
    "size": frozenset({"hexagons"}),
}


def reader(principal: Any, name: str) -> Any:
    """Whose scope the report `name` is read in: a reader's own; PUBLIC for anyone else, on a
    public report; 401 (anonymous) or 403 otherwise (api/routers/reports.py's policy says the
    same before the route runs)."""
    if getattr(principal, "role", None) in READERS and not isinstance(principal, PublicReader):
        return principal
    if name in PUBLIC_REPORTS:
        return PUBLIC
    if principal is None or getattr(principal, "is_anonymous", False):
        raise NotAuthenticated()
    raise Forbidden()


async def build(conn, principal: Any, name: str, f: Filters, lang: str = "uk") -> dict:
    """The report `name` for `principal` under the filters, with its "scope" (scope_of); 404
    for an unknown name."""
    principal = reader(principal, name)
    report = REPORTS.get(name)
    if report is None:
        raise NotFound("unknown_report", name=name[:64], allowed=", ".join(REPORTS))
    # A filter the report cannot honour is refused, not silently ignored.
    given = {"date_from": f.date_from, "date_to": f.date_to, "date": f.day,
             "by": None if f.by == "kind" else f.by, "size": f.size}  # fmt: skip
    for parameter, value in given.items():
        if value is not None and name not in APPLIES[parameter]:
            raise InvalidParameter("report_parameter_not_applicable", parameter, name=name)
    several = getattr(principal, "oblast", False) and await several_councils(conn)
    return {**await report(conn, principal, f, lang), "scope": scope_of(principal, several)}


def filename(name: str, f: Filters, ext: str, day: dt.date | None = None) -> str:
    """`executors_2026-11-01_2026-11-30.csv`; the day for `daily`; 'start'/'today' for an
    open end."""
    if day is not None:
        return f"{name}_{day.isoformat()}.{ext}"
    start = f.date_from.isoformat() if f.date_from else "start"
    end = f.date_to.isoformat() if f.date_to else clock.kyiv_today().isoformat()
    return f"{name}_{start}_{end}.{ext}"


# --- rendering ---------------------------------------------------------------------------------


def to_geojson(table: dict) -> bytes:
    """The hexagons (or the councils) as a GeoJSON FeatureCollection: WGS 84 polygons with
    their row's values as properties; the hexagons' edge in ground metres as `size`. A
    council without a current area has a null geometry."""
    features = [
        {
            "type": "Feature",
            "id": row.get("hex", row.get("council_code")),
            "geometry": geometry,
            "properties": row,
        }
        for row, geometry in zip(table["rows"], table["geometries"], strict=True)
    ]
    size = {"size": table["size"]} if "size" in table else {}
    body = {"type": "FeatureCollection", **size, "scope": table.get("scope"),
            "features": features}  # fmt: skip
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")


def _title(column: dict, lang: str) -> str:
    return column["title_en"] if lang == "en" else column["title_uk"]


def _lines(table: dict) -> list[dict]:
    return [*table["rows"], *([table["totals"]] if table.get("totals") else [])]


def to_csv(table: dict, lang: str) -> bytes:
    """UTF-8 with a BOM (spreadsheet programs then read Cyrillic), titles in `lang`, the totals
    as the last row; dates as YYYY-MM-DD."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    columns = table["columns"]
    writer.writerow([_title(c, lang) for c in columns])
    for row in _lines(table):
        writer.writerow(["" if row.get(c["key"]) is None else row[c["key"]] for c in columns])
    return out.getvalue().encode("utf-8")


def to_xlsx(table: dict, lang: str, sheet: str) -> bytes:
    """One sheet: a bold, frozen header row, numbers as numbers, dates as dates, widths fitted
    to the content, the totals as a bold last row."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = sheet[:31]
    columns = table["columns"]
    ws.append([_title(c, lang) for c in columns])
    bold = Font(bold=True)
    for cell in ws[1]:
        cell.font = bold
    widths = [len(_title(c, lang)) for c in columns]
    lines = _lines(table)
    for n, row in enumerate(lines):
        values = [row.get(c["key"]) for c in columns]
        ws.append(values)
        for i, (c, v) in enumerate(zip(columns, values, strict=True)):
            cell = ws.cell(row=n + 2, column=i + 1)
            if c["type"] == "date" and v is not None:
                cell.number_format = "yyyy-mm-dd"
            if table.get("totals") and n == len(lines) - 1:
                cell.font = bold
            widths[i] = max(widths[i], len(str(v)) if v is not None else 0)
    for i, width in enumerate(widths):
        ws.column_dimensions[get_column_letter(i + 1)].width = min(max(width + 2, 8), 60)
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
