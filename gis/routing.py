"""Routing by polygon: the one home of routing decisions.

MapIt's lookup, FixMyStreet's stored areas and Signalen's ordered rules (GUIDE §4):

1. **Areas.** `areas_at(conn, lon, lat)` is every *current* area (`valid_to IS NULL`) whose
   polygon covers the point — the hromada, its districts, wards and executor territories —
   by `ST_Covers`, so a point on a border belongs to both sides.
2. **Rules.** A rule (routing_rules) matches when it is active, its category is the appeal's
   category, that category's parent kind, or none (any category), and its area — none (the
   whole city), a district, a ward or an executor territory — covers the point. The first
   matching rule wins in the order of `RULE_ORDER`: priority, then the most specific area
   (territory, ward, district, city-wide), then a named category before "any category", then
   the rule's id. An appeal with no location is matched by the rules with no area only.
3. **Fallback.** When no rule matches, the contact centre (the executor of kind
   `contact_centre` with the lowest id) receives the appeal, and the reason says so.
4. **What is stored.** The decision carries the areas routing could depend on (every covering
   district and ward, and every covering executor territory that an active rule names, each
   with id, code or number, name and version), the rule, the executor and a Ukrainian reason.
   On a border, `district_id`/`ward_id` are those of the lowest id; rules of both sides
   may match.

`DECISION_SQL` is the one SQL text that turns (category, located, covering area ids) into a
decision. `decide()` runs it for one point; the demo's set-based loader
(importers/demo/appeals.py) runs the very same text over its distinct combinations, and the
bulk path (gis/routing_bulk.py) takes its reasons and area records from the same
expressions, so the three cannot drift apart.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from psycopg.rows import dict_row

from gis.councils import COUNCIL_AT_POINT_SQL, Council
from gis.errors import InvalidInput

# The order in which rules are tried; the first that matches wins.
RULE_ORDER = (
    "r.priority, r.territory_code IS NULL, r.ward_number IS NULL, r.district_code IS NULL,"
    " r.category_id IS NULL, r.id"
)

# One JSON record per area type: what areas_at() answers and what an appeal stores.
AREA_JSON = {
    "hromada": "jsonb_build_object('type', 'hromada', 'id', h.id, 'code', h.code,"
    " 'name', h.name, 'version', h.version)",
    "district": "jsonb_build_object('type', 'district', 'id', d.id, 'code', d.code,"
    " 'name', d.name, 'version', d.version)",
    "ward": "jsonb_build_object('type', 'ward', 'id', w.id, 'number', w.number,"
    " 'name', w.name, 'version', w.version)",
    "territory": "jsonb_build_object('type', 'territory', 'id', t.id, 'code', t.code,"
    " 'name', t.name, 'version', t.version)",
}

# Executor territories that routing can depend on: those an active rule names.
RULE_TERRITORY = "t.code IN (SELECT territory_code FROM routing_rules WHERE is_active)"

# The chosen rule for a combination `c` (council_id, category_id, district_ids, ward_ids,
# territory_ids) whose category row is `cat`: only the rules of the combination's council.
RULE_SQL = f"""
    SELECT r.* FROM routing_rules r
     WHERE r.is_active AND r.council_id = c.council_id
       AND (r.category_id IS NULL OR r.category_id = c.category_id
            OR r.category_id = cat.parent_id)
       AND (num_nonnulls(r.district_code, r.ward_number, r.territory_code) = 0
            OR r.district_code IN (SELECT code FROM districts WHERE id = ANY(c.district_ids))
            OR r.ward_number IN (SELECT number FROM wards WHERE id = ANY(c.ward_ids))
            OR r.territory_code IN (SELECT code FROM executor_territories
                                     WHERE id = ANY(c.territory_ids)))
     ORDER BY {RULE_ORDER}
     LIMIT 1
"""

# The contact centre of the combination's council `c` (the lowest id when it has several).
CONTACT_CENTRE_SQL = (
    "SELECT id FROM executors WHERE kind = 'contact_centre' AND council_id = c.council_id"
    " ORDER BY id LIMIT 1"
)

# The reason, in Ukrainian, for rule `r` (NULL: none matched) and executor `e` in council
# `c` (named first when the installation serves several); `{located}` is a boolean SQL
# expression.
REASON_SQL = """
    CASE WHEN (SELECT count(*) FROM councils) > 1
         THEN 'Громада «' || (SELECT k.name FROM councils k WHERE k.id = c.council_id) || '». '
         ELSE '' END
    || CASE WHEN {located} THEN '' ELSE 'Без місця на мапі. ' END
    || CASE WHEN r.id IS NULL THEN
         'Жодне правило маршрутизації не підходить: звернення отримує контакт-центр «'
         || coalesce(e.short_name, e.name, '—')
         || '», який перенаправить його належному виконавцю вручну.'
       ELSE
         'Правило №' || r.id || ' (пріоритет ' || r.priority || '): '
         || coalesce('«' || nullif(concat_ws(' / ', rcp.name, rc.name), '') || '»',
                     'будь-яка категорія')
         || CASE WHEN r.territory_code IS NOT NULL
                   THEN ' на території «' || coalesce(rt.name, r.territory_code) || '»'
                 WHEN r.ward_number IS NOT NULL
                   THEN ' у виборчому окрузі №' || r.ward_number
                 WHEN r.district_code IS NOT NULL
                   THEN ' у районі «' || coalesce(rd.name, r.district_code) || '»'
                 ELSE ' по всьому місту' END
         || ' → ' || coalesce(e.short_name, e.name) || '.'
       END
"""
# (No `%` in these texts: they run with and without query parameters.)

# The reason's fixed words in English, phrase by phrase as REASON_SQL writes them; the names
# between «» (categories, territories, executors) are data and stay as stored. The reason is
# stored in Ukrainian, as it was given when the appeal was routed (a rule may change since).
REASON_PHRASES_EN = (
    ("Громада «", "Community «"),
    ("Без місця на мапі. ", "No place on the map. "),
    ("Жодне правило маршрутизації не підходить: звернення отримує контакт-центр «",
     "No routing rule matches: the appeal goes to the contact centre «"),
    ("», який перенаправить його належному виконавцю вручну.",
     "», which redirects it to the right executor by hand."),
    ("Правило №", "Rule No. "),
    (" (пріоритет ", " (priority "),
    ("будь-яка категорія", "any category"),
    (" на території «", " in the territory «"),
    (" у виборчому окрузі №", " in electoral ward No. "),
    (" у районі «", " in the district «"),
    (" по всьому місту", " city-wide"),
)  # fmt: skip


def reason_en(reason: str | None) -> str | None:
    """A stored routing reason with its fixed words in English."""
    if reason is None:
        return None
    for uk, en in REASON_PHRASES_EN:
        reason = reason.replace(uk, en)
    return reason


# The rule's names: its category (and parent kind), territory, district; and the executor.
_RULE_JOINS = f"""
  LEFT JOIN executors e ON e.id = coalesce(r.executor_id, ({CONTACT_CENTRE_SQL}))
  LEFT JOIN categories rc ON rc.id = r.category_id
  LEFT JOIN categories rcp ON rcp.id = rc.parent_id
  LEFT JOIN executor_territories rt ON rt.code = r.territory_code AND rt.valid_to IS NULL
  LEFT JOIN districts rd ON rd.code = r.district_code AND rd.valid_to IS NULL
"""

AREAS_OF_COMBO_SQL = f"""
    (SELECT coalesce(jsonb_agg(x.j ORDER BY x.ord, x.id), '[]'::jsonb) FROM (
        SELECT 1 AS ord, d.id, {AREA_JSON["district"]} AS j
          FROM districts d WHERE d.id = ANY(c.district_ids)
        UNION ALL
        SELECT 2, w.id, {AREA_JSON["ward"]} FROM wards w WHERE w.id = ANY(c.ward_ids)
        UNION ALL
        SELECT 3, t.id, {AREA_JSON["territory"]}
          FROM executor_territories t WHERE t.id = ANY(c.territory_ids)) x)
"""

# THE decision. `{combos}` is a row source with columns council_id int, category_id int,
# located bool, district_ids int[], ward_ids int[], territory_ids int[] (ascending ids of the
# current areas of that council covering the point; empty without a location), and any
# others, passed through as c.*.
DECISION_SQL = (
    """
SELECT c.*, (SELECT k.code FROM councils k WHERE k.id = c.council_id) AS council_code,
       r.id AS rule_id, e.id AS executor_id, e.code AS executor_code,
       coalesce(e.short_name, e.name) AS executor_name,
       c.district_ids[1] AS district_id, c.ward_ids[1] AS ward_id,
       """
    + REASON_SQL.format(located="c.located")
    + " AS reason,\n       "
    + AREAS_OF_COMBO_SQL
    + """ AS areas
  FROM {combos} c
  JOIN categories cat ON cat.id = c.category_id
  LEFT JOIN LATERAL ("""
    + RULE_SQL
    + """) r ON true"""
    + _RULE_JOINS
)

# The only council of a one-council install (NULL with none or several).
ONLY_COUNCIL_SQL = "SELECT min(id) FROM councils HAVING count(*) = 1"

# The council of one point %(lon)s, %(lat)s — the lowest KATOTTH code covering it (the
# border rule of gis/councils.py; gis/routing_bulk.py does the same) — or, with no location,
# %(council_id)s, else the only council; and the covering areas *of that council*: a
# single-row combo. `served`: a council covers the point (or is named).
_POINT_COMBO = f"""(
    SELECT q.category_id, q.located, q.council_id, q.council_id IS NOT NULL AS served,
           ARRAY(SELECT d.id FROM districts d WHERE d.valid_to IS NULL
                    AND d.council_id = q.council_id
                    AND ST_Covers(d.geom, q.geom) ORDER BY d.id) AS district_ids,
           ARRAY(SELECT w.id FROM wards w WHERE w.valid_to IS NULL
                    AND w.council_id = q.council_id
                    AND ST_Covers(w.geom, q.geom) ORDER BY w.id) AS ward_ids,
           ARRAY(SELECT t.id FROM executor_territories t WHERE t.valid_to IS NULL
                    AND {RULE_TERRITORY} AND ST_Covers(t.geom, q.geom)
                    AND t.executor_id IN (SELECT x.id FROM executors x
                                           WHERE x.council_id = q.council_id)
                  ORDER BY t.id) AS territory_ids
      FROM (SELECT %(category_id)s::int AS category_id, p.geom IS NOT NULL AS located, p.geom,
                   CASE WHEN p.geom IS NULL
                        THEN coalesce(%(council_id)s::int, ({ONLY_COUNCIL_SQL}))
                        ELSE ({COUNCIL_AT_POINT_SQL}) END AS council_id
              FROM (SELECT ST_SetSRID(ST_MakePoint(%(lon)s::float8, %(lat)s::float8), 4326)
                           AS geom) p) q
)"""
# Materialized, so that the covering areas are looked up once, not once per use.
DECIDE_SQL = f"WITH point_combo AS MATERIALIZED {_POINT_COMBO}\n" + DECISION_SQL.format(
    combos="point_combo"
)

AREAS_AT_SQL = f"""
WITH p AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s::float8, %(lat)s::float8), 4326) AS geom)
SELECT j FROM (
    SELECT 0 AS ord, h.id, {AREA_JSON["hromada"]} AS j FROM hromadas h, p
     WHERE h.valid_to IS NULL AND ST_Covers(h.geom, p.geom)
    UNION ALL
    SELECT 1, d.id, {AREA_JSON["district"]} FROM districts d, p
     WHERE d.valid_to IS NULL AND ST_Covers(d.geom, p.geom)
    UNION ALL
    SELECT 2, w.id, {AREA_JSON["ward"]} FROM wards w, p
     WHERE w.valid_to IS NULL AND ST_Covers(w.geom, p.geom)
    UNION ALL
    SELECT 3, t.id, {AREA_JSON["territory"]} FROM executor_territories t, p
     WHERE t.valid_to IS NULL AND ST_Covers(t.geom, p.geom)
) x ORDER BY ord, id
"""

CATEGORY_SQL = "SELECT id FROM categories WHERE id = %(id)s OR code = %(code)s ORDER BY id = %(id)s DESC LIMIT 1"

# Kyiv lies around 30.5°E 50.45°N: a swapped pair is a frequent mistake worth naming.
LON_RANGE, LAT_RANGE = (-180.0, 180.0), (-90.0, 90.0)


@dataclass(frozen=True)
class RoutingDecision:
    """Who gets an appeal and why; `areas` is what appeals.areas stores."""

    executor_id: int | None
    executor_code: str | None
    executor_name: str | None
    rule_id: int | None
    reason: str
    category_id: int
    located: bool
    district_id: int | None = None
    ward_id: int | None = None
    areas: list[dict] = field(default_factory=list)
    council_id: int | None = None  # whose appeal it is (gis/councils.py)
    council_code: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_point(lon: Any, lat: Any) -> tuple[float, float] | None:
    """(lon, lat) as finite floats within WGS 84's range, or None when both are missing;
    anything else is an InvalidInput naming the parameter."""
    if lon is None and lat is None:
        return None
    out = []
    for name, value, (lo, hi) in (("lon", lon, LON_RANGE), ("lat", lat, LAT_RANGE)):
        if value is None or (isinstance(value, str) and not value.strip()):
            raise InvalidInput("coordinate_missing", parameter=name)
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InvalidInput("invalid_coordinate", parameter=name, value=value) from None
        if not math.isfinite(number) or not lo <= number <= hi:
            raise InvalidInput(
                "invalid_coordinate", parameter=name, value=value
            )  # fmt: skip
        out.append(number)
    return out[0], out[1]


def _decision(row: dict) -> RoutingDecision:
    return RoutingDecision(
        executor_id=row["executor_id"],
        executor_code=row["executor_code"],
        executor_name=row["executor_name"],
        rule_id=row["rule_id"],
        reason=row["reason"],
        category_id=row["category_id"],
        located=row["located"],
        district_id=row["district_id"],
        ward_id=row["ward_id"],
        areas=row["areas"],
        council_id=row["council_id"],
        council_code=row["council_code"],
    )


def _category_params(category: int | str) -> dict:
    text = str(category).strip()
    return {"id": int(text) if text.isdigit() and len(text) < 10 else None, "code": text}


def _decide_params(lon, lat, category_id: int, council: Council | int | None) -> dict:
    point = check_point(lon, lat)
    lon, lat = point if point else (None, None)
    council_id = council.id if isinstance(council, Council) else council
    return {"lon": lon, "lat": lat, "category_id": category_id, "council_id": council_id}


def _check(row: dict | None, category_id: int, params: dict) -> RoutingDecision:
    if row is None:
        raise InvalidInput("unknown_category", parameter="category", value=category_id)
    if row["located"] and not row["served"]:
        raise InvalidInput("outside_service_area", lon=params["lon"], lat=params["lat"])
    if not row["served"]:  # no location, several councils and none named
        raise InvalidInput("council_required")
    return _decision(row)


_COUNCIL_COLUMNS = "id, code, slug, name, name_en, number_prefix, occupied_since, occupied_source"


async def council_by_id(conn, council_id: int) -> Council:
    """The council a decision names (the placeholder of a not-yet-loaded install included)."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {_COUNCIL_COLUMNS} FROM councils WHERE id = %s", (council_id,))
        row = await cur.fetchone()
    if row is None:
        raise InvalidInput("council_required")
    return Council(**row)


# --- async (the API) --------------------------------------------------------------------------


async def resolve_category(conn, category: int | str) -> int:
    """A category's id from its id or code; InvalidInput 'unknown_category' otherwise."""
    async with conn.cursor() as cur:
        await cur.execute(CATEGORY_SQL, _category_params(category))
        row = await cur.fetchone()
    if row is None:
        raise InvalidInput("unknown_category", parameter="category", value=category)
    return row[0]


async def areas_at(conn, lon: Any, lat: Any) -> list[dict]:
    """Every current area covering the point, hromada first (MapIt's /point)."""
    point = check_point(lon, lat)
    if point is None:
        raise InvalidInput("coordinate_missing", parameter="lon")
    async with conn.cursor() as cur:
        await cur.execute(AREAS_AT_SQL, {"lon": point[0], "lat": point[1]})
        return [r[0] for r in await cur.fetchall()]


async def decide(conn, *, lon: Any = None, lat: Any = None, category_id: int,
                 council: Council | int | None = None) -> RoutingDecision:  # fmt: skip
    """The routing decision for an appeal of `category_id` at (lon, lat) — in the council
    covering the point — or with no location when both are None, in `council` (else the only
    council). InvalidInput: 'unknown_category', 'outside_service_area', 'council_required',
    or a bad coordinate."""
    params = _decide_params(lon, lat, category_id, council)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(DECIDE_SQL, params)
        return _check(await cur.fetchone(), category_id, params)


# --- sync (scripts, the demo, tests) ----------------------------------------------------------


def resolve_category_sync(conn, category: int | str) -> int:
    row = conn.execute(CATEGORY_SQL, _category_params(category)).fetchone()
    if row is None:
        raise InvalidInput("unknown_category", parameter="category", value=category)
    return row[0]


def areas_at_sync(conn, lon: Any, lat: Any) -> list[dict]:
    point = check_point(lon, lat)
    if point is None:
        raise InvalidInput("coordinate_missing", parameter="lon")
    return [r[0] for r in conn.execute(AREAS_AT_SQL, {"lon": point[0], "lat": point[1]})]


def decide_sync(conn, *, lon: Any = None, lat: Any = None, category_id: int,
                council: Council | int | None = None) -> RoutingDecision:  # fmt: skip
    params = _decide_params(lon, lat, category_id, council)
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(DECIDE_SQL, params).fetchone()
    return _check(row, category_id, params)
