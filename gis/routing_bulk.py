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

Councils (issue 17). Each point belongs to the council of the covering hromada with the
lowest KATOTTH code (gis/councils.COUNCIL_AT_POINT_SQL's rule, min over (code, council id));
only that council's districts, wards and territories count, only its rules match, and its
contact centre is the fallback — as gis/routing.DECIDE_SQL does.

A point outside every council's hromada gets `None` (the database path raises
`outside_service_area`); NaN coordinates mean "no location" (in `councils[i]`, else the only
council; None when there are several and none is named).
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
    council_id: int

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
# `c` is the rule's council (the contact centre in _RULE_JOINS is the council's own).
RULE_REASONS_SQL = (
    _EXECUTOR_SQL
    + " FROM routing_rules r JOIN LATERAL (SELECT r.council_id) c ON true"
    + _RULE_JOINS
    + " WHERE r.is_active"
)
# No rule: each council's contact centre.
NO_RULE_SQL = (
    _EXECUTOR_SQL.replace("SELECT r.id,", "SELECT c.council_id,")
    + " FROM (SELECT id AS council_id FROM councils) c LEFT JOIN routing_rules r ON false"
    + _RULE_JOINS
)
# Each current hromada's council: the council of its code, else the placeholder (code '').
_HROMADA_COUNCIL = (
    "(SELECT k.id FROM councils k WHERE k.code = h.code OR k.code = '' ORDER BY k.id LIMIT 1)"
)


class BulkRouter:
    def __init__(self) -> None:
        self.kinds: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # type → (ids, polygons)
        self.area_json: dict[tuple[str, int], dict] = {}
        # (type, id) → what rules name it by: district code, ward number, territory code
        self.area_key: dict[tuple[str, int], object] = {}
        # (type, id) → the council of a district, ward or territory; a hromada's (code, council)
        self.area_council: dict[tuple[str, int], int | None] = {}
        self.hromada_council: dict[int, tuple[str, int]] = {}
        self.rules: list[_Rule] = []
        # (council id, category id or None) → its rules in RULE_ORDER
        self.by_category: dict[tuple[int, int | None], list[_Rule]] = defaultdict(list)
        self.parent: dict[int, int | None] = {}
        self.executor: dict[int | None, tuple] = {}  # rule id → executor, reasons
        self.fallback: dict[int, tuple] = {}  # council id → its contact centre, reasons
        self.council_code: dict[int, str] = {}
        self.only_council: int | None = None
        self._cache: dict[tuple, RoutingDecision] = {}

    @classmethod
    def load(cls, conn) -> BulkRouter:
        """Read everything routing needs from a (sync) psycopg connection."""
        self = cls()
        queries = {
            "hromada": "SELECT h.id, ST_AsBinary(h.geom), " + AREA_JSON["hromada"]
            + ", h.code, " + _HROMADA_COUNCIL + " FROM hromadas h WHERE h.valid_to IS NULL",
            "district": "SELECT d.id, ST_AsBinary(d.geom), " + AREA_JSON["district"]
            + ", d.code, d.council_id FROM districts d WHERE d.valid_to IS NULL",
            "ward": "SELECT w.id, ST_AsBinary(w.geom), " + AREA_JSON["ward"]
            + ", w.number, w.council_id FROM wards w WHERE w.valid_to IS NULL",
            "territory": "SELECT t.id, ST_AsBinary(t.geom), " + AREA_JSON["territory"]
            + ", t.code, x.council_id FROM executor_territories t"
            " JOIN executors x ON x.id = t.executor_id WHERE t.valid_to IS NULL AND "
            + RULE_TERRITORY,
        }  # fmt: skip
        for kind, sql in queries.items():
            rows = conn.execute(sql + " ORDER BY 1").fetchall()
            if kind == "hromada":  # only the hromadas some council covers serve
                rows = [r for r in rows if r[4] is not None]
            ids = np.array([r[0] for r in rows], dtype=np.int64)
            geoms = shapely.from_wkb([bytes(r[1]) for r in rows]) if rows else np.array([])
            shapely.prepare(geoms)
            self.kinds[kind] = (ids, geoms)
            for r in rows:
                self.area_json[kind, r[0]] = r[2]
                self.area_key[kind, r[0]] = r[3]
                if kind == "hromada":
                    self.hromada_council[r[0]] = (r[3], r[4])
                else:
                    self.area_council[kind, r[0]] = r[4]
        for row in conn.execute(
            "SELECT id, priority, category_id, district_code, ward_number, territory_code,"
            " executor_id, council_id FROM routing_rules WHERE is_active"
        ):
            rule = _Rule(*row)
            self.rules.append(rule)
            self.by_category[rule.council_id, rule.category_id].append(rule)
        for rules in self.by_category.values():
            rules.sort(key=lambda r: r.order)
        self.parent = dict(conn.execute("SELECT id, parent_id FROM categories").fetchall())
        for rule_id, *rest in conn.execute(RULE_REASONS_SQL).fetchall():
            self.executor[rule_id] = tuple(rest)
        for council_id, *rest in conn.execute(NO_RULE_SQL).fetchall():
            self.fallback[council_id] = tuple(rest)
        self.council_code = dict(conn.execute("SELECT id, code FROM councils").fetchall())
        if len(self.council_code) == 1:
            self.only_council = next(iter(self.council_code))
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

    def _council_at(self, hromadas: list[int]) -> int | None:
        """The council of the covering hromadas: the lowest (code, council id)."""
        if not hromadas:
            return None
        return min(self.hromada_council[i] for i in hromadas)[1]

    def _of(self, kind: str, ids: list[int], council_id: int) -> tuple:
        return tuple(i for i in ids if self.area_council[kind, i] == council_id)

    def _choose(self, council_id: int, category_id: int, located: bool, districts: tuple,
                wards: tuple, territories: tuple) -> RoutingDecision:  # fmt: skip
        codes = {self.area_key["district", i] for i in districts}
        numbers = {self.area_key["ward", i] for i in wards}
        tcodes = {self.area_key["territory", i] for i in territories}
        parent = self.parent.get(category_id)
        candidates = sorted(
            [*self.by_category.get((council_id, category_id), ()),
             *(self.by_category.get((council_id, parent), ()) if parent is not None else ()),
             *self.by_category.get((council_id, None), ())],
            key=lambda r: r.order,
        )  # fmt: skip
        chosen = next(
            (r for r in candidates
             if r.city_wide or r.district_code in codes or r.ward_number in numbers
             or r.territory_code in tcodes),
            None,
        )  # fmt: skip
        rule_id = chosen.id if chosen else None
        executor_id, code, name, reason_located, reason_nowhere = (
            self.executor[rule_id] if chosen else self.fallback[council_id]
        )
        areas = [self.area_json["district", i] for i in districts]
        areas += [self.area_json["ward", i] for i in wards]
        areas += [self.area_json["territory", i] for i in territories]
        return RoutingDecision(
            executor_id=executor_id, executor_code=code, executor_name=name, rule_id=rule_id,
            reason=reason_located if located else reason_nowhere, category_id=category_id,
            located=located, district_id=districts[0] if districts else None,
            ward_id=wards[0] if wards else None, areas=areas, council_id=council_id,
            council_code=self.council_code.get(council_id),
        )  # fmt: skip

    def route_many(self, lons, lats, category_ids, councils=None) -> list[RoutingDecision | None]:
        """One decision per appeal (None: outside the served area; NaN lon/lat: no location,
        in `councils[i]` — a council id — else the only council; None when there are several
        and none is named). Categories must exist (KeyError otherwise)."""
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
            council_id = self._council_at(served[j])
            if council_id is None:
                continue
            key = (council_id, cats_l[i], True,
                   self._of("district", found["district"][j], council_id),
                   self._of("ward", found["ward"][j], council_id),
                   self._of("territory", found["territory"][j], council_id))  # fmt: skip
            decision = self._cache.get(key)
            if decision is None:
                decision = self._cache[key] = self._choose(*key)
            out[i] = decision
        for i in np.flatnonzero(~located).tolist():
            named = councils[i] if councils is not None else None
            council_id = int(named) if named is not None else self.only_council
            if council_id is None or council_id not in self.fallback:
                continue
            key = (council_id, cats_l[i], False, (), (), ())
            decision = self._cache.get(key)
            if decision is None:
                decision = self._cache[key] = self._choose(*key)
            out[i] = decision
        return out
