"""Addresses for the appeal form, from public data only: what is at a point (the nearest house
address of the points of interest and the district), and where an address is (streets of the
register and house addresses of the points of interest whose names contain the query)."""

from __future__ import annotations

import re

from psycopg.rows import dict_row

from gis.errors import InvalidInput

REVERSE_METRES = 150.0  # beyond intake's 30 m the address is shown as "near"
SEARCH_LIMIT = 10
QUERY_MIN, QUERY_MAX = 2, 100

_REVERSE_SQL = """
WITH p AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s::float8, %(lat)s::float8), 4326) AS g)
SELECT (SELECT jsonb_build_object('code', d.code, 'name', d.name)
          FROM districts d WHERE d.valid_to IS NULL AND ST_Covers(d.geom, p.g) LIMIT 1)
         AS district,
       (SELECT jsonb_build_object(
                 'address', (f.properties->>'addr:street') || ', '
                            || (f.properties->>'addr:housenumber'),
                 'distance_m', round(ST_Distance(f.geom::geography, p.g::geography)::numeric, 1))
          FROM layer_features f
         WHERE f.layer_name = 'pois' AND f.properties ? 'addr:street'
           AND f.properties ? 'addr:housenumber' AND ST_DWithin(f.geom, p.g, 0.003)
         ORDER BY f.geom <-> p.g LIMIT 1) AS nearest
  FROM p
"""

_SEARCH_SQL = """
(SELECT 'address' AS type,
        (properties->>'addr:street') || ', ' || (properties->>'addr:housenumber') AS label,
        ST_X(ST_PointOnSurface(geom)) AS lon, ST_Y(ST_PointOnSurface(geom)) AS lat
   FROM layer_features
  WHERE layer_name = 'pois' AND properties ? 'addr:housenumber'
    AND lower(properties->>'addr:street') LIKE %(street)s
    AND lower(properties->>'addr:housenumber') LIKE %(house)s
    -- a house of the served community only (a village nearby may have the street)
    AND EXISTS (SELECT 1 FROM hromadas h WHERE h.valid_to IS NULL
                AND ST_Covers(h.geom, layer_features.geom))
  ORDER BY lower(properties->>'addr:street') NOT LIKE %(prefix)s,
           length(properties->>'addr:street'), properties->>'addr:street',
           length(properties->>'addr:housenumber'), properties->>'addr:housenumber'
  LIMIT %(limit)s)
UNION ALL
(SELECT 'street', s.kind || ' ' || s.name, pt.lon, pt.lat
   FROM streets s
   LEFT JOIN LATERAL (
        SELECT ST_X(ST_PointOnSurface(f.geom)) AS lon, ST_Y(ST_PointOnSurface(f.geom)) AS lat
          FROM layer_features f
         WHERE f.layer_name = 'pois' AND lower(f.properties->>'addr:street') LIKE
               '%%' || replace(replace(lower(s.name), '%%', ''), '_', '') || '%%'
           AND EXISTS (SELECT 1 FROM hromadas h WHERE h.valid_to IS NULL
                       AND ST_Covers(h.geom, f.geom))
         LIMIT 1) pt ON true
  WHERE %(house_given)s IS FALSE AND lower(s.name) LIKE %(street)s
  ORDER BY lower(s.name) NOT LIKE %(prefix)s, length(s.name), s.name
  LIMIT %(limit)s)
"""


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def split_query(q: str) -> tuple[str, str | None]:
    """(street part, house number or None): «Хрещатик, 21» and «Хрещатик 21» give 21.

    >>> split_query("вулиця Хрещатик, 21"), split_query("Хрещатик 2а"), split_query("Січових")
    (('вулиця хрещатик', '21'), ('хрещатик', '2а'), ('січових', None))
    """
    q = " ".join(q.lower().split())
    street, comma, house = q.rpartition(",")
    if comma and house.strip():
        return street.strip(), house.strip()
    words = q.split(" ")
    if len(words) > 1 and re.match(r"^\d", words[-1]):
        return " ".join(words[:-1]), words[-1]
    return q.rstrip(","), None


async def reverse(conn, lon: float, lat: float) -> dict:
    """The house address nearest to (lon, lat) within REVERSE_METRES, and its district."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(_REVERSE_SQL, {"lon": lon, "lat": lat})
        row = await cur.fetchone()
    assert row is not None  # one row of subqueries, whatever they find
    nearest = row["nearest"] or {}
    distance = nearest.get("distance_m")
    metres = float(distance) if distance is not None else None
    found = metres is not None and metres <= REVERSE_METRES
    return {
        "lon": lon,
        "lat": lat,
        "address": nearest.get("address") if found else None,
        "distance_m": metres if found else None,
        "district": row["district"],
    }


async def search(conn, q: str | None) -> dict:
    """Streets and house addresses whose name contains `q` (an optional house number after a
    comma or as a last word starting with a digit), at most SEARCH_LIMIT, each with a point;
    InvalidInput naming `q` when it is too short or too long."""
    text = " ".join((q or "").split())
    if len(text) < QUERY_MIN:
        raise InvalidInput("geocode_query_too_short", parameter="q", min=QUERY_MIN)
    if len(text) > QUERY_MAX:
        raise InvalidInput("geocode_query_too_long", parameter="q", max=QUERY_MAX)
    street, house = split_query(text)
    if len(street) < QUERY_MIN:
        raise InvalidInput("geocode_query_too_short", parameter="q", min=QUERY_MIN)
    params = {
        "street": f"%{_like(street)}%",
        "prefix": f"{_like(street)}%",
        "house": f"{_like(house)}%" if house else "%",
        "house_given": house is not None,
        "limit": SEARCH_LIMIT,
    }
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(_SEARCH_SQL, params)
        rows = await cur.fetchall()
    # Streets first when no house number was given, then the houses.
    rows.sort(key=lambda r: r["type"] != ("address" if house else "street"))
    items = [r for r in rows if r["lon"] is not None][:SEARCH_LIMIT]
    return {"q": text, "items": items, "returned": len(items)}
