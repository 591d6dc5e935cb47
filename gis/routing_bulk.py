"""Routing many appeals in-process: the same decisions as gis/routing.decide(), without a
round trip per appeal.

`BulkRouter.load(conn)` reads once the current areas (hromadas, districts, wards, and the
executor territories that active rules name), the active rules, the categories' parents, and
— from the database, with the very SQL expressions of gis/routing.py — the reason of every
rule and the JSON record of every area. `route_many(lons, lats, category_ids)` then:

1. finds the areas covering each point with shapely's STRtree: the tree is built over the
   *points* and queried with each (prepared) polygon, `covers` (a point on a border matches
   both sides, as `ST_Covers` does) — MapIt's "walk polygon by polygon";
2. groups the points by (category, located, covering districts, wards, territories) — a few
   thousand combinations however many appeals — and chooses the rule once per combination
   by `RULE_ORDER` (priority, territory, ward, district, city-wide, named category, id), with
   the contact centre as the final fallback.

Precision. Both sides test the same float64 coordinates (psycopg sends floats in their
shortest round-trip form, so the database sees exactly the bits shapely sees). Vertices of a
polygon are on its boundary for both. For points *near* an edge (within ~1e-15 degrees, e.g.
the computed midpoint of an edge, which in general is not exactly representable on the edge)
GEOS decides the side with a robust (exact) orientation test while PostGIS uses a plain
float64 determinant; they could in principle differ there. Measured on the real districts:
all 6,625 vertices and 6,625 edge midpoints of the districts (and a third of the wards'),
15,084 points, got the same areas both ways; tests/test_routing.py re-checks a quarter of them
with every run and requires no disagreement. (The demo's set-based loader tests
ST_Subdivide'd parts: clipping may round the coordinates of new vertices where a cut line
crosses a border, so a point within ~1e-15° of such a crossing could differ; none of the
demo's appeals does.)

A point outside every current hromada gets `None` (the database path raises
`outside_service_area`); NaN coordinates mean "no location".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import shapely

from gis.routing import _RULE_JOINS, AREA_JSON, REASON_SQL, RULE_TERRITORY, RoutingDecision


@dataclass(frozen=True)
class _Rule:
    id: int
    priority: int
    category_id: int | None
    district_code: str | None
    ward_number: int | None
    territory_code: str | None
    executor_id: int

    @property
    def order(self) -> tuple:  # RULE_ORDER, in Python
        return (self.priority, self.territory_code is None, self.ward_number is None,
                self.district_code is None, self.category_id is None, self.id)  # fmt: skip

    @property
    def city_wide(self) -> bool:
        return (self.district_code, self.ward_number, self.territory_code) == (None,) * 3


_EXECUTOR_SQL = (
    "SELECT r.id, e.id, e.code, coalesce(e.short_name, e.name), "
    + REASON_SQL.format(located="true")
    + ", "
    + REASON_SQL.format(located="false")
)
RULE_REASONS_SQL = _EXECUTOR_SQL + " FROM routing_rules r" + _RULE_JOINS + " WHERE r.is_active"
NO_RULE_SQL = (
    _EXECUTOR_SQL + " FROM (SELECT 1) one LEFT JOIN routing_rules r ON false" + _RULE_JOINS
)


class BulkRouter:
    def __init__(self) -> None:
        self.kinds: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # type → (ids, polygons)
        self.area_json: dict[tuple[str, int], dict] = {}
        # (type, id) → what rules name it by: district code, ward number, territory code
        self.area_key: dict[tuple[str, int], object] = {}
        self.rules: list[_Rule] = []
        self.by_category: dict[int | None, list[_Rule]] = defaultdict(list)
        self.parent: dict[int, int | None] = {}
        self.executor: dict[int | None, tuple] = {}  # rule id (None: no rule) → executor, reasons
        self._cache: dict[tuple, RoutingDecision] = {}

    @classmethod
    def load(cls, conn) -> BulkRouter:
        """Read everything routing needs from a (sync) psycopg connection."""
        self = cls()
        queries = {
            "hromada": "SELECT h.id, ST_AsBinary(h.geom), " + AREA_JSON["hromada"]
            + ", h.code FROM hromadas h WHERE h.valid_to IS NULL",
            "district": "SELECT d.id, ST_AsBinary(d.geom), " + AREA_JSON["district"]
            + ", d.code FROM districts d WHERE d.valid_to IS NULL",
            "ward": "SELECT w.id, ST_AsBinary(w.geom), " + AREA_JSON["ward"]
            + ", w.number FROM wards w WHERE w.valid_to IS NULL",
            "territory": "SELECT t.id, ST_AsBinary(t.geom), " + AREA_JSON["territory"]
            + ", t.code FROM executor_territories t WHERE t.valid_to IS NULL AND "
            + RULE_TERRITORY,
        }  # fmt: skip
        for kind, sql in queries.items():
            rows = conn.execute(sql + " ORDER BY 1").fetchall()
            ids = np.array([r[0] for r in rows], dtype=np.int64)
            geoms = shapely.from_wkb([bytes(r[1]) for r in rows]) if rows else np.array([])
            shapely.prepare(geoms)
            self.kinds[kind] = (ids, geoms)
            for r in rows:
                self.area_json[kind, r[0]] = r[2]
                self.area_key[kind, r[0]] = r[3]
        for row in conn.execute(
            "SELECT id, priority, category_id, district_code, ward_number, territory_code,"
            " executor_id FROM routing_rules WHERE is_active"
        ):
            rule = _Rule(*row)
            self.rules.append(rule)
            self.by_category[rule.category_id].append(rule)
        for rules in self.by_category.values():
            rules.sort(key=lambda r: r.order)
        self.parent = dict(conn.execute("SELECT id, parent_id FROM categories").fetchall())
        for rule_id, *rest in conn.execute(RULE_REASONS_SQL).fetchall():
            self.executor[rule_id] = tuple(rest)
        self.executor[None] = tuple(conn.execute(NO_RULE_SQL).fetchone()[1:])
        return self

    # --- routing ------------------------------------------------------------------------

    def _covering(self, kind: str, points: np.ndarray, tree) -> list[list[int]]:
        ids, polygons = self.kinds[kind]
        out: list[list[int]] = [[] for _ in range(len(points))]
        if len(polygons) == 0:
            return out
        poly_ix, point_ix = tree.query(polygons, predicate="covers")
        order = np.lexsort((ids[poly_ix], point_ix))  # by point, then by area id
        for p, a in zip(point_ix[order].tolist(), ids[poly_ix][order].tolist(), strict=True):
            out[p].append(a)
        return out

    def _choose(self, category_id: int, located: bool, districts: tuple, wards: tuple,
                territories: tuple) -> RoutingDecision:  # fmt: skip
        codes = {self.area_key["district", i] for i in districts}
        numbers = {self.area_key["ward", i] for i in wards}
        tcodes = {self.area_key["territory", i] for i in territories}
        candidates = sorted(
            [*self.by_category.get(category_id, ()),
             *(self.by_category.get(self.parent.get(category_id), ())
               if self.parent.get(category_id) is not None else ()),
             *self.by_category.get(None, ())],
            key=lambda r: r.order,
        )  # fmt: skip
        chosen = next(
            (r for r in candidates
             if r.city_wide or r.district_code in codes or r.ward_number in numbers
             or r.territory_code in tcodes),
            None,
        )  # fmt: skip
        rule_id = chosen.id if chosen else None
        executor_id, code, name, reason_located, reason_nowhere = self.executor[rule_id]
        areas = [self.area_json["district", i] for i in districts]
        areas += [self.area_json["ward", i] for i in wards]
        areas += [self.area_json["territory", i] for i in territories]
        return RoutingDecision(
            executor_id=executor_id, executor_code=code, executor_name=name, rule_id=rule_id,
            reason=reason_located if located else reason_nowhere, category_id=category_id,
            located=located, district_id=districts[0] if districts else None,
            ward_id=wards[0] if wards else None, areas=areas,
        )  # fmt: skip

    def route_many(self, lons, lats, category_ids) -> list[RoutingDecision | None]:
        """One decision per appeal (None: outside the served area; NaN lon/lat: no location).
        Categories must exist (KeyError otherwise)."""
        lons = np.asarray(lons, dtype=float)
        lats = np.asarray(lats, dtype=float)
        cats = np.asarray(category_ids, dtype=np.int64)
        unknown = set(np.unique(cats).tolist()) - set(self.parent)
        if unknown:
            raise KeyError(f"unknown categories: {sorted(unknown)}")
        located = ~(np.isnan(lons) | np.isnan(lats))
        n = len(lons)
        where = np.flatnonzero(located)
        points = shapely.points(lons[where], lats[where])
        tree = shapely.STRtree(points)
        empty: list[list[int]] = [[] for _ in range(len(where))]
        served = self._covering("hromada", points, tree) if len(where) else empty
        found = {k: self._covering(k, points, tree) if len(where) else empty
                 for k in ("district", "ward", "territory")}  # fmt: skip
        out: list[RoutingDecision | None] = [None] * n
        cats_l = cats.tolist()
        for j, i in enumerate(where.tolist()):
            if not served[j]:
                continue
            key = (cats_l[i], True, tuple(found["district"][j]), tuple(found["ward"][j]),
                   tuple(found["territory"][j]))  # fmt: skip
            decision = self._cache.get(key)
            if decision is None:
                decision = self._cache[key] = self._choose(*key)
            out[i] = decision
        for i in np.flatnonzero(~located).tolist():
            key = (cats_l[i], False, (), (), ())
            decision = self._cache.get(key)
            if decision is None:
                decision = self._cache[key] = self._choose(*key)
            out[i] = decision
        return out
