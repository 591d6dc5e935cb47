"""Permits over time (issue 16, item 4): the advertising structures and kiosks whose permits
expire within a month or have expired, for the planners' list on /planner.

"Today" is always Kyiv's day, passed in by the caller (gis/clock.kyiv_today()): never SQL's
current_date, which is the cluster's (UTC) day and, between midnight in Kyiv and 02:00/03:00
UTC, yesterday's. A permit valid until today is still valid today (0 days left, expiring); one
valid until yesterday has expired (−1). Retired features are not listed; one without a date
is neither. Each row names the layer's owning department (layers.owner_department), who is
told of it (gis/dispatch.py notify_permits), and a point of the feature (lon, lat: the point
itself, or a point on a kiosk's shape) for the planner's map.

Councils (issue 17): a planner or administrator bound to a council (`actor`) lists that
council's rows only; oblast staff, a one-council install and `actor` None every council's
(gis/placement.editor_councils).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from psycopg import AsyncConnection
from psycopg.rows import dict_row

from gis.placement import EDITABLE, editor_councils

LAYERS = EDITABLE
WITHIN_DAYS = 30
Status = Literal["expiring", "expired"]

_ROWS = """
SELECT t.layer, t.id, t.code, t.kind, t.address, t.permit_number, t.permit_type,
       t.permit_valid_until, (t.permit_valid_until - %(today)s::date) AS days_left,
       t.owner, l.owner_department AS department,
       round(ST_X(t.point)::numeric, 6)::float8 AS lon,
       round(ST_Y(t.point)::numeric, 6)::float8 AS lat
  FROM (SELECT 'advertising_structures' AS layer, id, code, kind, address, permit_number,
               permit_type, permit_valid_until, owner, retired_at, council_id,
               ST_PointOnSurface(geom) AS point
          FROM advertising_structures
        UNION ALL
        SELECT 'kiosks', id, code, kind, address, permit_number, permit_type,
               permit_valid_until, owner, retired_at, council_id, ST_PointOnSurface(geom)
          FROM kiosks) t
  LEFT JOIN layers l ON l.name = t.layer
 WHERE t.retired_at IS NULL AND t.permit_valid_until IS NOT NULL
   AND (%(layer)s::text IS NULL OR t.layer = %(layer)s::text)
"""
# A bound planner's councils (editor_councils: None for every council, then nothing added).
_COUNCILS = " AND t.council_id = ANY(%(councils)s)"

_WHERE = {
    "expiring": " AND t.permit_valid_until >= %(today)s::date"
    " AND t.permit_valid_until <= %(today)s::date + %(within)s::int",
    "expired": " AND t.permit_valid_until < %(today)s::date",
}
# Expiring: the soonest first; expired: the most recently expired first (the oldest are the
# least news), then by layer and code for a stable order.
_ORDER = {
    "expiring": " ORDER BY t.permit_valid_until, t.layer, t.code, t.id",
    "expired": " ORDER BY t.permit_valid_until DESC, t.layer, t.code, t.id",
}


def _params(today: dt.date, within_days: int, layer: str | None, actor: Any) -> dict:
    if layer is not None and layer not in LAYERS:
        raise ValueError(f"not a permit layer: {layer}")
    councils = editor_councils(actor)
    return {"today": today, "within": within_days, "layer": layer, "councils": councils}


def _rows(params: dict) -> str:
    return _ROWS + (_COUNCILS if params["councils"] is not None else "")


async def listing(
    conn: AsyncConnection, status: Status, *, today: dt.date, within_days: int = WITHIN_DAYS,
    layer: str | None = None, limit: int | None = None, actor: Any = None,
) -> list[dict]:  # fmt: skip
    """The features of `status` ("expiring": valid until a day in [today, today+within_days];
    "expired": until a day before today), ordered by that day; of `actor`'s councils."""
    params = _params(today, within_days, layer, actor) | {"limit": limit}
    query = _rows(params) + _WHERE[status] + _ORDER[status] + (" LIMIT %(limit)s" if limit else "")
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, params)
        return await cur.fetchall()


async def expiring(
    conn: AsyncConnection, *, today: dt.date, within_days: int = WITHIN_DAYS,
    layer: str | None = None, limit: int | None = None, actor: Any = None,
) -> list[dict]:  # fmt: skip
    return await listing(conn, "expiring", today=today, within_days=within_days, layer=layer,
                         limit=limit, actor=actor)  # fmt: skip


async def expired(
    conn: AsyncConnection, *, today: dt.date, layer: str | None = None, limit: int | None = None,
    actor: Any = None,
) -> list[dict]:  # fmt: skip
    return await listing(conn, "expired", today=today, layer=layer, limit=limit, actor=actor)


async def counts(
    conn: AsyncConnection, *, today: dt.date, within_days: int = WITHIN_DAYS,
    layer: str | None = None, actor: Any = None,
) -> dict[str, int]:  # fmt: skip
    """How many permits are expiring and expired (the same rules as the lists)."""
    params = _params(today, within_days, layer, actor)
    query = (
        "SELECT count(*) FILTER (WHERE t.permit_valid_until >= %(today)s::date"
        " AND t.permit_valid_until <= %(today)s::date + %(within)s::int) AS expiring,"
        " count(*) FILTER (WHERE t.permit_valid_until < %(today)s::date) AS expired"
        " FROM (" + _rows(params) + ") t"
    )
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, params)
        row = await cur.fetchone()
    assert row is not None  # an aggregate has one row
    return {"expiring": int(row["expiring"]), "expired": int(row["expired"])}
