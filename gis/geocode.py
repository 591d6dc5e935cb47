"""Addresses for the appeal form, from public data only: what is at a point (the nearest house
address of the points of interest and the district), and where an address is (streets of the
register and house addresses of the points of interest whose names contain the query).

A house number: the street register (`streets`) has no geometry, and there are no imported
building footprints, so a house that holds no point of interest is placed by **interpolation
between the points of interest with house numbers on the same registered street**
(`interpolate_house`): its number's position between the nearest lower and higher numbered
houses there (the same side of the street, odd or even, when that side brackets it; else any
side), or, past the street's last known house, one step on along the line of its two nearest
known houses (at most one of their spacing farther). Such a hit says `approximate: true`; a
street with a single known house gives that house's point. "Хрещатик, 22" lies between 18/2 and
30/1; "Велика Васильківська, 1" a step before 8, towards Бессарабська площа.

The reach is the data's: of Kyiv's 2,843 registered streets, 285 have a point of interest with
a house number in the OSM extract (the busiest ones); on the others a house is not found and
the place is picked on the map instead. Building addresses or street lines, once imported,
would serve every street.
"""

from __future__ import annotations

import re

from psycopg.rows import dict_row

from gis import councils
from gis.errors import InvalidInput

_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "`": "'", "´": "'", "‘": "'"})

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

# The hromadas a search looks in: every served one, or a council's own (issue 17:
# `council=` — a council's page proposes none of another council's houses and streets; the
# placeholder council, code '', is every hromada, as in gis.councils.COUNCIL_AT_POINT_SQL).
_ANY_AREA = "true"
_COUNCIL_AREA = "(h.code = ANY(%(council_codes)s) OR '' = ANY(%(council_codes)s))"

_SEARCH_SQL = """
(SELECT 'address' AS type,
        (properties->>'addr:street') || ', ' || (properties->>'addr:housenumber') AS label,
        ST_X(ST_PointOnSurface(geom)) AS lon, ST_Y(ST_PointOnSurface(geom)) AS lat
   FROM layer_features
  WHERE layer_name = 'pois' AND properties ? 'addr:housenumber'
    AND lower(properties->>'addr:street') LIKE %(street)s
    AND lower(properties->>'addr:housenumber') LIKE %(house)s
    -- a house of the served community only (a village nearby may have the street)
    AND EXISTS (SELECT 1 FROM hromadas h WHERE h.valid_to IS NULL AND {area}
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
           AND EXISTS (SELECT 1 FROM hromadas h WHERE h.valid_to IS NULL AND {area}
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


def words(value: str) -> list[str]:
    """Lower-case words, apostrophes unified: «Кан’ська» and «Кан'ська» are one word."""
    return re.findall(r"[\w']+", value.lower().translate(_APOSTROPHES))


def house_key(value: str) -> str:
    """A house number compared: «27-А», «27 а» and «27а» are one house."""
    return re.sub(r"[\s\-/.,]", "", value.lower().translate(_APOSTROPHES))


def house_number(value: str) -> int | None:
    """The leading number of a house: «18/2» → 18, «27-А» → 27, «корпус 2» → None."""
    found = re.match(r"\s*(\d{1,5})", value)
    return int(found.group(1)) if found else None


async def register_streets(conn, street: str) -> list[tuple[str, str]]:
    """(name, kind) of the register's streets that `street` names: its words other than a
    street kind («вулиця», «проспект») each begin a word of the name, as many as the name has
    (so «хрещатик» and «вул. Хрещатик» find Хрещатик, «васильківська» not Велика
    Васильківська); a kind given must be the street's."""
    async with conn.cursor() as cur:
        await cur.execute("SELECT DISTINCT lower(kind) FROM streets")
        kinds = {r[0] for r in await cur.fetchall()}
        given = words(street)
        given_kinds = {w for w in given if w in kinds}
        name_words = [w for w in given if w not in kinds and w not in ("вул", "просп", "пров")]
        if not name_words:
            return []
        longest = max(name_words, key=len)
        await cur.execute(
            "SELECT name, kind FROM streets"
            " WHERE translate(lower(name), '’ʼ', '''''') LIKE %s ORDER BY length(name), name",
            (f"%{_like(longest)}%",),
        )
        rows = await cur.fetchall()
    found = []
    for name, kind in rows:
        own = words(name)
        if len(own) != len(name_words) or (given_kinds and given_kinds != {kind.lower()}):
            continue
        if all(any(o.startswith(w) for o in own) for w in name_words):
            found.append((name, kind))
    return found


_HOUSES_SQL = """
SELECT properties->>'addr:street' AS street, properties->>'addr:housenumber' AS house,
       ST_X(ST_PointOnSurface(geom)) AS lon, ST_Y(ST_PointOnSurface(geom)) AS lat
  FROM layer_features
 WHERE layer_name = 'pois' AND properties ? 'addr:housenumber'
   AND translate(lower(properties->>'addr:street'), '’ʼ', '''''') LIKE %(street)s
   AND EXISTS (SELECT 1 FROM hromadas h WHERE h.valid_to IS NULL AND {area}
               AND ST_Covers(h.geom, layer_features.geom))
"""


def _area(council_codes: list[str] | None) -> str:
    return _ANY_AREA if council_codes is None else _COUNCIL_AREA


def _houses_sql(council_codes: list[str] | None) -> str:
    return _HOUSES_SQL.replace("{area}", _area(council_codes))


def _search_sql(council_codes: list[str] | None) -> str:
    return _SEARCH_SQL.replace("{area}", _area(council_codes))


def _between(known: list[tuple[int, float, float]], n: int) -> tuple[float, float] | None:
    """(lon, lat) of number n from houses (number, lon, lat) sorted by number, or None."""
    lower = [k for k in known if k[0] < n]
    higher = [k for k in known if k[0] > n]
    if lower and higher:
        a, b = lower[-1], higher[0]
        f = (n - a[0]) / (b[0] - a[0])
    elif len(known) >= 2:
        a, b = (known[0], known[1]) if higher else (known[-2], known[-1])
        f = (n - a[0]) / (b[0] - a[0])
        f = max(-1.0, min(2.0, f))  # at most one spacing past the last known house
    elif known:
        return known[0][1], known[0][2]
    else:
        return None
    return a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2])


async def interpolate_house(
    conn, streets: list[tuple[str, str]], house: str, council_codes: list[str] | None = None
) -> list[dict]:
    """Hits for `house` on each of the register's `streets` (name, kind) that has points of
    interest with house numbers in the served community (the councils of `council_codes`
    when given): the house itself when one holds it, else its interpolated point
    (`approximate`). See the module's docstring."""
    wanted = house_key(house)
    number = house_number(house)
    hits: list[dict] = []
    for name, kind in streets:
        key = sorted(words(name) + words(kind))
        longest = max(words(name), key=len)
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                _houses_sql(council_codes),
                {"street": f"%{_like(longest)}%", "council_codes": council_codes},
            )
            rows = [r for r in await cur.fetchall() if sorted(words(r["street"])) == key]
        if not rows:
            continue
        label_street = rows[0]["street"]
        exact = [r for r in rows if house_key(r["house"]) == wanted]
        if exact:
            r = exact[0]
            hits.append({"type": "address", "label": f"{r['street']}, {r['house']}",
                         "lon": r["lon"], "lat": r["lat"], "approximate": False})  # fmt: skip
            continue
        if number is None or number == 0:
            continue
        by_number: dict[int, list[tuple[float, float]]] = {}
        for r in rows:
            n = house_number(r["house"])
            if n is not None:
                by_number.setdefault(n, []).append((r["lon"], r["lat"]))
        known = sorted(
            (n, sum(p[0] for p in ps) / len(ps), sum(p[1] for p in ps) / len(ps))
            for n, ps in by_number.items()
        )
        same_side = [k for k in known if k[0] % 2 == number % 2]
        brackets = any(k[0] < number for k in same_side) and any(k[0] > number for k in same_side)
        point = _between(same_side if brackets else known, number)
        if point is None:
            continue
        hits.append({"type": "address", "label": f"{label_street}, {house.strip()}",
                     "lon": point[0], "lat": point[1], "approximate": True})  # fmt: skip
    return hits


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


async def search(conn, q: str | None, council: str | None = None) -> dict:
    """Streets and house addresses whose name contains `q` (an optional house number after a
    comma or as a last word starting with a digit), at most SEARCH_LIMIT, each with a point;
    InvalidInput naming `q` when it is too short or too long. `council`: slugs or KATOTTH
    codes (a comma list; unknown: NotFound `council_not_found`) — only the houses and streets
    inside their areas (a street is placed by a house of it, so it is found there only)."""
    text = " ".join((q or "").split())
    if len(text) < QUERY_MIN:
        raise InvalidInput("geocode_query_too_short", parameter="q", min=QUERY_MIN)
    if len(text) > QUERY_MAX:
        raise InvalidInput("geocode_query_too_long", parameter="q", max=QUERY_MAX)
    street, house = split_query(text)
    if len(street) < QUERY_MIN:
        raise InvalidInput("geocode_query_too_short", parameter="q", min=QUERY_MIN)
    codes = None
    if council is not None:
        codes = [c.code for c in await councils.resolve_many(conn, council)]
    params = {
        "council_codes": codes,
        "street": f"%{_like(street)}%",
        "prefix": f"{_like(street)}%",
        "house": f"{_like(house)}%" if house else "%",
        "house_given": house is not None,
        "limit": SEARCH_LIMIT,
    }
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(_search_sql(codes), params)
        rows = await cur.fetchall()
    for r in rows:
        r["approximate"] = False
    held = any(
        r["type"] == "address" and house_key(r["label"].rpartition(",")[2]) == house_key(house)
        for r in rows
        if house
    )
    if house and house_number(house) and not held:
        # No point of interest holds that house: interpolated on the registered streets named.
        streets = await register_streets(conn, street)
        rows[:0] = await interpolate_house(conn, streets, house, codes)
    # Streets first when no house number was given, then the houses.
    rows.sort(key=lambda r: r["type"] != ("address" if house else "street"))
    items = [r for r in rows if r["lon"] is not None][:SEARCH_LIMIT]
    return {"q": text, "items": items, "returned": len(items)}
