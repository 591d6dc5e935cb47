"""Appeals about advertising structures and kiosks linked to the structure they are about
(issue 16, item 5). No HTTP here.

A category says which layer its appeals are about (`categories.structure_layer`, a sub-kind
without one its kind's: «Зовнішня реклама» → advertising_structures, «Функціонування МАФ» →
kiosks). Such an appeal with a place gets one `appeal_structures` row: the nearest structure
of the layer that is not retired, within `settings.structure_link_distance_m` (50 m by
default), and the distance; or feature_id NULL when no registered structure is so near —
likely an unpermitted one, which the planner sees on the map. An appeal without a place (or
of another category) has no row.

The link is kept in the transaction of every change that moves it:

- `link(conn, appeal_id)`: at intake (gis/intake.py — the portal, the operator's intake and
  Open311 all file through it) and when a place is given later (gis/lifecycle.py locate);
- `relink_around(conn, layer, feature_id, old_geometry)`: a structure created, moved or
  retired (gis/structures.py) — the open appeals of that layer within the distance of its
  old or new place, and those linked to it, are linked afresh (closed appeals keep the
  structure they were about);
- `relink_all(conn)` (sync, `hromada structures link` and `hromada demo`): every appeal
  afresh, one set-based statement.

"Nearest" is by geodesic distance (geography); the candidates come first from the layer's
GiST index by a box in degrees wide enough for the distance at the appeal's latitude.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from psycopg import AsyncConnection, Connection

from gis.errors import InvalidParameter, NotFound
from gis.placement import editor_councils
from gis.public_feed import FEED_SQL, _item, kyiv_day_start

LAYERS = ("advertising_structures", "kiosks")
TOP = 100  # the most-complained structures the planner is shown
UNMATCHED_LIMIT = 2000  # complaints with no structure nearby, newest first

# The categories about a layer: their own, else their kind's.
_ABOUT = """
SELECT k.id, coalesce(k.structure_layer, p.structure_layer) AS layer
  FROM categories k LEFT JOIN categories p ON p.id = k.parent_id
 WHERE coalesce(k.structure_layer, p.structure_layer) IS NOT NULL
"""

# {where}: which appeals (alias a). %(d)s: the distance in metres.
_LINK = """
WITH about AS ({about})
INSERT INTO appeal_structures (appeal_id, layer, feature_id, distance_m)
SELECT a.id, about.layer, n.id, n.distance_m
  FROM appeals a
  JOIN about ON about.id = a.category_id
  LEFT JOIN LATERAL (
    SELECT s.id, ST_Distance(s.geom::geography, a.geom::geography)::real AS distance_m
      FROM (SELECT id, geom FROM advertising_structures
             WHERE about.layer = 'advertising_structures' AND retired_at IS NULL
            UNION ALL
            SELECT id, geom FROM kiosks
             WHERE about.layer = 'kiosks' AND retired_at IS NULL) s
     WHERE ST_DWithin(s.geom, a.geom,
                      %(d)s / (110000.0 * cos(radians(least(abs(ST_Y(a.geom)), 85.0)))))
       AND ST_DWithin(s.geom::geography, a.geom::geography, %(d)s)
     ORDER BY 2, 1
     LIMIT 1
  ) n ON true
 WHERE a.geom IS NOT NULL AND ({where})
ON CONFLICT (appeal_id) DO UPDATE
   SET layer = EXCLUDED.layer, feature_id = EXCLUDED.feature_id,
       distance_m = EXCLUDED.distance_m, linked_at = now()
""".replace("{about}", _ABOUT)

# The open appeals of a layer near a structure's old or new place (found through the appeals'
# GiST index by a box in degrees, then by geodesic distance), and those linked to it.
_AROUND = """
a.status <> 'closed' AND a.id IN (
  SELECT x.id
    FROM (SELECT geom FROM {table} WHERE id = %(fid)s
          UNION ALL
          SELECT ST_SetSRID(ST_GeomFromGeoJSON(%(old)s), 4326)
           WHERE %(old)s::text IS NOT NULL) g(geom)
    JOIN appeals x
      ON ST_DWithin(x.geom, g.geom,
                    %(d)s / (110000.0 * cos(radians(least(abs(ST_Y(ST_Centroid(g.geom))), 85.0)))))
     AND ST_DWithin(x.geom::geography, g.geom::geography, %(d)s)
    JOIN ({about}) ab ON ab.id = x.category_id AND ab.layer = %(layer)s
   WHERE x.status <> 'closed'
  UNION
  SELECT appeal_id FROM appeal_structures WHERE layer = %(layer)s AND feature_id = %(fid)s)
""".replace("{about}", _ABOUT)


def _distance(distance_m: float | None) -> float:
    if distance_m is None:
        from gis.settings import get_settings

        distance_m = get_settings().structure_link_distance_m
    return float(distance_m)


async def link(conn: AsyncConnection, appeal_id: int, *, distance_m: float | None = None) -> None:
    """Link one appeal (or unlink it: its category is not about a structure, or it has no
    place). Runs in the caller's transaction."""
    await conn.execute("DELETE FROM appeal_structures WHERE appeal_id = %s", (appeal_id,))
    await conn.execute(_LINK.replace("{where}", "a.id = %(id)s"),
                       {"d": _distance(distance_m), "id": appeal_id})  # fmt: skip


async def relink_around(conn: AsyncConnection, layer: str, feature_id: int,
                        old_geometry: Any = None, *, distance_m: float | None = None) -> None:  # fmt: skip
    """After a structure of `layer` was created, moved or retired (its old geometry a GeoJSON
    dict, None for a new one): the open appeals about that layer near either place, or linked
    to it, linked afresh. Runs in the caller's transaction."""
    if layer not in LAYERS:
        return
    import json

    where = _AROUND.replace("{table}", layer)  # a name of LAYERS, not the client's text
    await conn.execute(
        _LINK.replace("{where}", where),
        {"d": _distance(distance_m), "layer": layer, "fid": feature_id,
         "old": json.dumps(old_geometry) if old_geometry is not None else None},
    )  # fmt: skip


def relink_all(conn: Connection, distance_m: float | None = None) -> dict[str, int]:
    """Every appeal linked afresh (one statement; the rows of appeals no longer about a
    structure removed): {linked, unmatched}. Runs in the caller's transaction."""
    conn.execute("DELETE FROM appeal_structures")
    # The few appeals about structures are a guess the planner overestimates by far (a filter
    # on a coalesce): compiling the plan (JIT) would cost more than running it.
    conn.execute("SET LOCAL jit = off")
    conn.execute(_LINK.replace("{where}", "true"), {"d": _distance(distance_m)})
    conn.execute("RESET jit")
    row = conn.execute(
        "SELECT count(feature_id), count(*) - count(feature_id) FROM appeal_structures"
    ).fetchone()
    assert row is not None  # an aggregate returns one row
    return {"linked": row[0], "unmatched": row[1]}


# --- reading ----------------------------------------------------------------------------------


def check_layer(layer: str) -> str:
    if layer not in LAYERS:
        raise InvalidParameter("invalid_value", "layer", value=str(layer)[:64])
    return layer


async def structure_appeals(conn: AsyncConnection, layer: str, feature_id: int,
                            *, limit: int = 200) -> list[dict]:  # fmt: skip
    """The appeals linked to a structure (not retired), newest first, with the public feed's
    fields only (gis/public_feed.py: the view appeal_features, never an author's data; the
    text only when its author consented). NotFound for no such structure."""
    check_layer(layer)
    found = await (await conn.execute(
        f"SELECT 1 FROM {layer} WHERE id = %s AND retired_at IS NULL", (feature_id,)
    )).fetchone()  # fmt: skip
    if found is None:
        raise NotFound("feature_not_found", collection=layer, feature_id=str(feature_id)[:64])
    where = ("id IN (SELECT appeal_id FROM appeal_structures"
             " WHERE layer = %s AND feature_id = %s)")  # fmt: skip
    rows = await (await conn.execute(FEED_SQL.format(where=where),
                                     (layer, feature_id, limit))).fetchall()  # fmt: skip
    items = [_item(r) for r in rows]
    for item in items:
        del item["_cursor"]
    return items


def _window(date_from: dt.date | None, date_to: dt.date | None) -> tuple[Any, Any]:
    since = kyiv_day_start(date_from) if date_from else None
    until = kyiv_day_start(date_to + dt.timedelta(days=1)) if date_to else None
    return since, until


_TOP_SQL = """
SELECT l.layer, l.feature_id, count(*) AS appeals,
       count(*) FILTER (WHERE a.status <> 'closed') AS open, max(a.created_at) AS last_at
  FROM appeal_structures l JOIN appeals a ON a.id = l.appeal_id
 WHERE l.feature_id IS NOT NULL
   AND (%(layer)s::text IS NULL OR l.layer = %(layer)s)
   AND (%(since)s::timestamptz IS NULL OR a.created_at >= %(since)s)
   AND (%(until)s::timestamptz IS NULL OR a.created_at < %(until)s)
 GROUP BY l.layer, l.feature_id
"""

_STRUCTURES_SQL = """
WITH top AS ({top})
SELECT t.layer, t.feature_id, t.appeals, t.open, t.last_at, s.code, s.kind, s.address,
       ST_AsGeoJSON(ST_PointOnSurface(s.geom), 6)::jsonb
  FROM top t
  JOIN (SELECT 'advertising_structures' AS layer, id, code, kind, address, geom, council_id
          FROM advertising_structures WHERE retired_at IS NULL
        UNION ALL
        SELECT 'kiosks', id, code, kind, address, geom, council_id
          FROM kiosks WHERE retired_at IS NULL) s
    ON s.layer = t.layer AND s.id = t.feature_id
 WHERE (%(councils)s::int[] IS NULL OR s.council_id = ANY(%(councils)s::int[]))
 ORDER BY t.appeals DESC, t.last_at DESC, t.layer, t.feature_id
 LIMIT %(top)s
""".replace("{top}", _TOP_SQL)


async def complaints(conn: AsyncConnection, *, layer: str | None = None,
                     date_from: dt.date | None = None, date_to: dt.date | None = None,
                     top: int = TOP, unmatched_limit: int = UNMATCHED_LIMIT,
                     actor: Any = None) -> dict:  # fmt: skip
    """The structures with the most linked appeals (registered within the dates, Kyiv's days,
    inclusive), most first, as GeoJSON points; and the appeals about a layer with no
    registered structure nearby (public fields only), newest first. A planner bound to a
    council (`actor`, issue 17): that council's structures and appeals (their council_id)."""
    if layer is not None:
        check_layer(layer)
    since, until = _window(date_from, date_to)
    councils = editor_councils(actor)
    params = {"layer": layer, "since": since, "until": until, "top": top, "councils": councils}
    rows = await (await conn.execute(_STRUCTURES_SQL, params)).fetchall()
    structures = [
        {"type": "Feature", "id": f"{r[0]}.{r[1]}", "geometry": r[8],
         "properties": {"layer": r[0], "id": r[1], "appeals": r[2], "open": r[3],
                        "last_at": r[4].isoformat() if r[4] else None, "code": r[5],
                        "kind": r[6], "address": r[7]}}
        for r in rows
    ]  # fmt: skip
    where = (
        "id IN (SELECT appeal_id FROM appeal_structures WHERE feature_id IS NULL"
        " AND (%s::text IS NULL OR layer = %s))"
        " AND (%s::timestamptz IS NULL OR created_at >= %s)"
        " AND (%s::timestamptz IS NULL OR created_at < %s)"
        " AND (%s::int[] IS NULL OR council_id = ANY(%s::int[]))"
    )
    found = await (await conn.execute(
        FEED_SQL.format(where=where),
        (layer, layer, since, since, until, until, councils, councils, unmatched_limit),
    )).fetchall()  # fmt: skip
    layer_of: dict[int, str] = dict(await (await conn.execute(
        "SELECT appeal_id, layer FROM appeal_structures WHERE appeal_id = ANY(%s)",
        ([r[0] for r in found],),
    )).fetchall())  # fmt: skip
    unmatched = []
    for r in found:
        item = _item(r)
        del item["_cursor"]
        lon, lat = item["lon"], item["lat"]
        item["layer"] = layer_of.get(r[0])
        unmatched.append({
            "type": "Feature", "id": item["number"],
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": item,
        })  # fmt: skip
    return {
        "structures": {"type": "FeatureCollection", "features": structures},
        "unmatched": {"type": "FeatureCollection", "features": unmatched},
    }
