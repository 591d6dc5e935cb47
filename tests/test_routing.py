"""Routing by polygon (gis/routing.py, gis/routing_bulk.py, api/routers/routing.py) on a real
PostGIS with the real Kyiv districts and a small demo city (its wards, housing offices'
territories and routing rules)."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re

import numpy as np
import psycopg
import pytest
import shapely
from conftest import demo_city
from fastapi.testclient import TestClient

from api import create_app
from gis import routing
from gis.errors import InvalidInput
from gis.routing_bulk import BulkRouter
from gis.settings import Settings

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
MAIDAN = (30.5234, 50.4501)
LVIV = (24.0316, 49.8429)
APPEALS = 1000
_counter = itertools.count()


@pytest.fixture(scope="module")
def demo_url(server_url, template_url, shared_data):
    with demo_city(
        server_url, template_url, shared_data, "routing", seed=7, appeals=APPEALS, now=NOW
    ) as url:
        yield url


@pytest.fixture
def conn(demo_url):
    """A connection in a transaction that is rolled back: tests may change rules and areas."""
    with psycopg.connect(demo_url) as c:
        yield c
        c.rollback()


@pytest.fixture(scope="module")
def client(demo_url):
    with TestClient(create_app(Settings(database_url=demo_url))) as c:
        yield c


def _category(conn, sql: str) -> int:
    return conn.execute(sql).fetchone()[0]


def _housing_leaf(conn) -> int:
    """A sub-kind routed to the housing office of the place's territory."""
    return _category(conn, "SELECT min(category_id) FROM routing_rules WHERE territory_code"
                           " IS NOT NULL AND is_active")  # fmt: skip


def _unruled_leaf(conn) -> int:
    """A sub-kind no rule names (neither it nor its kind)."""
    return _category(conn, """
        SELECT min(c.id) FROM categories c WHERE c.parent_id IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM routing_rules r
                            WHERE r.category_id IN (c.id, c.parent_id))""")  # fmt: skip


# --- areas ---------------------------------------------------------------------------------


def test_areas_at_maidan(conn):
    areas = routing.areas_at_sync(conn, *MAIDAN)
    by_type = {}
    for a in areas:
        by_type.setdefault(a["type"], []).append(a)
        assert {"id", "type", "name", "version"} <= set(a)
    assert [a["name"] for a in by_type["hromada"]] == ["Київ"]
    assert [a["name"] for a in by_type["district"]] == ["Шевченківський район"]
    assert len(by_type["ward"]) == 1 and "number" in by_type["ward"][0]
    assert any(a["code"].startswith("demo-zhed-") for a in by_type["territory"])
    assert [a["type"] for a in areas][:3] == ["hromada", "district", "ward"]


def test_a_point_on_a_district_border_is_in_both_districts(conn):
    lon, lat, a, b = conn.execute("""
        SELECT ST_X(p.geom), ST_Y(p.geom), d1.id, d2.id
          FROM districts d1 JOIN districts d2 ON d1.id < d2.id AND ST_Touches(d1.geom, d2.geom)
          CROSS JOIN LATERAL ST_DumpPoints(d1.geom) p
         WHERE d1.valid_to IS NULL AND d2.valid_to IS NULL AND ST_Covers(d2.geom, p.geom)
         LIMIT 1""").fetchone()  # fmt: skip
    districts = [x["id"] for x in routing.areas_at_sync(conn, lon, lat) if x["type"] == "district"]
    assert districts == [a, b]
    decision = routing.decide_sync(conn, lon=lon, lat=lat, category_id=_unruled_leaf(conn))
    assert decision.district_id == a  # the lowest id; both are stored
    assert [x["id"] for x in decision.areas if x["type"] == "district"] == [a, b]


def test_outside_kyiv_there_is_nothing(conn):
    assert routing.areas_at_sync(conn, *LVIV) == []
    with pytest.raises(InvalidInput) as e:
        routing.decide_sync(conn, lon=LVIV[0], lat=LVIV[1], category_id=_housing_leaf(conn))
    assert e.value.code == "outside_service_area"


# --- rules ---------------------------------------------------------------------------------


def test_the_housing_office_of_the_territory_beats_the_district_fallback(conn):
    category = _housing_leaf(conn)
    d = routing.decide_sync(conn, lon=MAIDAN[0], lat=MAIDAN[1], category_id=category)
    kind, territory, priority = conn.execute(
        "SELECT e.kind, r.territory_code, r.priority FROM routing_rules r"
        " JOIN executors e ON e.id = r.executor_id WHERE r.id = %s", (d.rule_id,)
    ).fetchone()  # fmt: skip
    assert kind == "housing_office" and territory.startswith("demo-zhed-")
    assert territory in [a.get("code") for a in d.areas]
    assert d.reason.startswith(f"Правило №{d.rule_id} (пріоритет {priority}): «")
    assert "на території «ЖЕД" in d.reason and d.reason.endswith(f"→ {d.executor_name}.")
    # Without that rule the district's own rule for the category, then its administration.
    conn.execute("UPDATE routing_rules SET is_active = false WHERE id = %s", (d.rule_id,))
    d2 = routing.decide_sync(conn, lon=MAIDAN[0], lat=MAIDAN[1], category_id=category)
    assert d2.rule_id != d.rule_id and "у районі «Шевченківський район»" in d2.reason


def test_fallbacks_district_administration_then_contact_centre(conn):
    category = _unruled_leaf(conn)
    d = routing.decide_sync(conn, lon=MAIDAN[0], lat=MAIDAN[1], category_id=category)
    assert d.executor_code.startswith("demo-rda-") and "будь-яка категорія" in d.reason
    assert "у районі «Шевченківський район»" in d.reason
    conn.execute("UPDATE routing_rules SET is_active = false WHERE district_code IS NOT NULL")
    d = routing.decide_sync(conn, lon=MAIDAN[0], lat=MAIDAN[1], category_id=category)
    assert d.executor_code == "demo-kbu-1551" and "по всьому місту" in d.reason
    # No rule at all: the contact centre still gets it, and the reason says why.
    conn.execute("UPDATE routing_rules SET is_active = false")
    d = routing.decide_sync(conn, lon=MAIDAN[0], lat=MAIDAN[1], category_id=category)
    assert d.rule_id is None and d.executor_code == "demo-kbu-1551"
    assert d.reason.startswith("Жодне правило маршрутизації не підходить")
    assert d.district_id is not None  # the place is still recorded


def _outside_names(reason: str) -> str:
    return re.sub(r"«[^»]*»|→ .*$", "", reason)


def test_every_kind_of_reason_reads_in_english_but_for_the_names(conn):
    """The reasons' fixed words (gis/routing.REASON_PHRASES_EN) cover every branch of
    REASON_SQL: outside the «names» (and the executor after the arrow) no Cyrillic is left."""
    reasons = []
    category = _unruled_leaf(conn)
    reasons.append(routing.decide_sync(conn, lon=MAIDAN[0], lat=MAIDAN[1],
                                       category_id=category).reason)  # fmt: skip
    reasons.append(routing.decide_sync(conn, lon=MAIDAN[0], lat=MAIDAN[1],
                                       category_id=_housing_leaf(conn)).reason)  # fmt: skip
    ward_rule = conn.execute(
        "INSERT INTO routing_rules (ward_number, executor_id, priority)"
        " SELECT w.number, e.id, -1000 FROM wards w, executors e"
        " WHERE w.valid_to IS NULL AND ST_Contains(w.geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326))"
        " AND e.code = 'demo-kbu-1551' RETURNING id", MAIDAN,
    ).fetchone()[0]  # fmt: skip
    reasons.append(routing.decide_sync(conn, lon=MAIDAN[0], lat=MAIDAN[1],
                                       category_id=category).reason)  # fmt: skip
    conn.execute("DELETE FROM routing_rules WHERE id = %s", (ward_rule,))
    conn.execute("UPDATE routing_rules SET is_active = false WHERE district_code IS NOT NULL")
    reasons.append(routing.decide_sync(conn, lon=MAIDAN[0], lat=MAIDAN[1],
                                       category_id=category).reason)  # fmt: skip
    reasons.append(routing.decide_sync(conn, category_id=category).reason)
    conn.execute("UPDATE routing_rules SET is_active = false")
    reasons.append(routing.decide_sync(conn, category_id=category).reason)
    english = [routing.reason_en(r) for r in reasons]
    for uk, en in zip(reasons, english, strict=True):
        assert not re.search("[а-яіїєґА-ЯІЇЄҐ]", _outside_names(en)), (uk, en)
    joined = " ".join(english)
    for phrase in ("Rule No. ", "(priority ", "in the territory «", "in electoral ward No. ",
                   "in the district «", "city-wide", "No place on the map. ",
                   "No routing rule matches"):  # fmt: skip
        assert phrase in joined, phrase


def test_without_a_location_only_rules_with_no_area_apply(conn):
    lift = _category(conn, "SELECT min(c.id) FROM categories c JOIN categories p"
                           " ON p.id = c.parent_id WHERE p.name = 'Ліфт'")  # fmt: skip
    d = routing.decide_sync(conn, category_id=lift)
    assert d.executor_code == "demo-lifts" and d.reason.startswith("Без місця на мапі. Правило")
    assert (d.areas, d.district_id, d.ward_id, d.located) == ([], None, None, False)
    d = routing.decide_sync(conn, category_id=_housing_leaf(conn))  # housing needs a place
    assert d.executor_code == "demo-kbu-1551"
    area = conn.execute(
        "SELECT num_nonnulls(district_code, ward_number, territory_code) FROM routing_rules"
        " WHERE id = %s", (d.rule_id,)
    ).fetchone()[0]  # fmt: skip
    assert area == 0


def test_unknown_category_and_bad_coordinates(conn):
    for call in (
        lambda: routing.decide_sync(conn, lon=MAIDAN[0], lat=MAIDAN[1], category_id=10**8),
        lambda: routing.resolve_category_sync(conn, "no-such-code"),
    ):
        with pytest.raises(InvalidInput) as e:
            call()
        assert e.value.code == "unknown_category"
    for lon, lat, code in ((MAIDAN[0], None, "coordinate_missing"), ("x", 50, "invalid_coordinate"),
                           (float("nan"), 50, "invalid_coordinate"), (30, 91, "invalid_coordinate"),
                           ("inf", 50, "invalid_coordinate")):  # fmt: skip
        with pytest.raises(InvalidInput) as e:
            routing.decide_sync(conn, lon=lon, lat=lat, category_id=_housing_leaf(conn))
        assert e.value.code == code


def test_decide_agrees_with_what_the_demo_stored(conn):
    """The demo routes set-based with the same SQL text: every demo appeal, decided again one
    by one, gets the same executor, rule, reason, district, ward and areas."""
    rows = conn.execute(
        "SELECT ST_X(geom), ST_Y(geom), category_id, executor_id, routing_rule_id,"
        " routing_reason, areas, district_id, ward_id FROM appeals ORDER BY id"
    ).fetchall()
    assert len(rows) == APPEALS
    for lon, lat, category, *stored in rows:
        d = routing.decide_sync(conn, lon=lon, lat=lat, category_id=category)
        assert [d.executor_id, d.rule_id, d.reason, d.areas, d.district_id, d.ward_id] == stored
    assert any(lon is None for lon, *_ in rows) and any(lon is not None for lon, *_ in rows)


def test_a_new_boundary_version_leaves_routed_appeals_as_they_were(conn):
    appeal_id, lon, lat, district_id, areas = conn.execute(
        "SELECT id, ST_X(geom), ST_Y(geom), district_id, areas FROM appeals"
        " WHERE geom IS NOT NULL ORDER BY id LIMIT 1"
    ).fetchone()  # fmt: skip
    old = next(a for a in areas if a["type"] == "district")
    assert (old["id"], old["version"]) == (district_id, 1)
    conn.execute("UPDATE districts SET valid_to = now() WHERE id = %s", (district_id,))
    new_id = conn.execute(
        "INSERT INTO districts (code, name, name_en, hromada_id, source_id, properties, geom,"
        " version) SELECT code, name, name_en, hromada_id, source_id, properties,"
        " ST_Multi(ST_Buffer(geom, 0.0005)), version + 1 FROM districts WHERE id = %s"
        " RETURNING id", (district_id,)
    ).fetchone()[0]  # fmt: skip
    now_there = [a for a in routing.areas_at_sync(conn, lon, lat) if a["type"] == "district"]
    assert {"id": new_id, "version": 2} in [{"id": a["id"], "version": a["version"]}
                                            for a in now_there]  # fmt: skip
    assert old["id"] not in [a["id"] for a in now_there]
    assert conn.execute("SELECT areas FROM appeals WHERE id = %s", (appeal_id,)).fetchone()[0] == (
        areas
    )
    category = conn.execute("SELECT category_id FROM appeals WHERE id = %s", (appeal_id,))
    d = routing.decide_sync(conn, lon=lon, lat=lat, category_id=category.fetchone()[0])
    assert new_id in [a["id"] for a in d.areas if a["type"] == "district"]


# --- the bulk path -------------------------------------------------------------------------


def _border_points(polygons, step: int) -> tuple[list[float], list[float]]:
    """Vertices of the polygons' rings and the midpoints of their edges (every `step`-th)."""
    xs, ys = [], []
    for polygon in polygons:
        for ring in shapely.get_rings(shapely.get_parts(polygon)):
            c = shapely.get_coordinates(ring)
            mid = (c[:-1] + c[1:]) / 2
            for pts in (c[:-1:step], mid[::step]):
                xs += pts[:, 0].tolist()
                ys += pts[:, 1].tolist()
    return xs, ys


def test_the_bulk_path_agrees_with_the_database(conn):
    bulk = BulkRouter.load(conn)
    rng = np.random.default_rng(1551)
    _, districts = bulk.kinds["district"]
    _, territories = bulk.kinds["territory"]
    xs, ys = _border_points(districts, 4)
    tx, ty = _border_points(territories, 40)
    xs, ys = xs + tx, ys + ty
    on_border = len(xs)
    minx, miny, maxx, maxy = shapely.total_bounds(districts)
    xs += rng.uniform(minx - 0.02, maxx + 0.02, 2000).tolist()  # some fall outside the city
    ys += rng.uniform(miny - 0.02, maxy + 0.02, 2000).tolist()
    xs += [math.nan] * 50
    ys += [math.nan] * 50
    categories = [r[0] for r in conn.execute("SELECT id FROM categories ORDER BY id")]
    cats = rng.choice(categories, len(xs)).tolist()
    assert on_border >= 2000
    decisions = bulk.route_many(xs, ys, cats)
    outside = disagree = 0
    for x, y, c, got in zip(xs, ys, cats, decisions, strict=True):
        located = not math.isnan(x)
        try:
            expected = routing.decide_sync(
                conn, lon=x if located else None, lat=y if located else None, category_id=c
            )  # fmt: skip
        except InvalidInput as e:
            assert e.code == "outside_service_area"
            expected = None
            outside += 1
        if got != expected:
            disagree += 1
            print("disagree", x, y, c, expected, got)
    assert disagree == 0
    assert 0 < outside < 2000
    # Border points really are on borders: many lie in two districts at once.
    two = sum(1 for d in decisions[:on_border]
              if d and sum(a["type"] == "district" for a in d.areas) == 2)  # fmt: skip
    assert two > 100


def test_the_bulk_path_agrees_with_the_stored_demo_appeals(conn):
    rows = conn.execute(
        "SELECT coalesce(ST_X(geom), 'NaN'), coalesce(ST_Y(geom), 'NaN'), category_id,"
        " executor_id, routing_rule_id, routing_reason, areas FROM appeals ORDER BY id"
    ).fetchall()  # fmt: skip
    bulk = BulkRouter.load(conn)
    decisions = bulk.route_many(*[[r[i] for r in rows] for i in range(3)])
    for row, d in zip(rows, decisions, strict=True):
        assert [d.executor_id, d.rule_id, d.reason, d.areas] == list(row[3:])


# --- the API -------------------------------------------------------------------------------


def test_api_areas(client):
    r = client.get("/api/v1/areas", params={"lon": MAIDAN[0], "lat": MAIDAN[1]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["lon"], body["lat"]) == MAIDAN
    assert "Шевченківський район" in [a["name"] for a in body["areas"] if a["type"] == "district"]
    r = client.get("/api/v1/areas", params={"lon": LVIV[0], "lat": LVIV[1]})
    assert r.status_code == 200 and r.json()["areas"] == []


def test_api_route_is_a_dry_run_with_its_reason(client, demo_url):
    with psycopg.connect(demo_url) as c:
        category_id, code = c.execute(
            "SELECT c.id, c.code FROM categories c WHERE c.id = (SELECT min(category_id)"
            " FROM routing_rules WHERE territory_code IS NOT NULL)"
        ).fetchone()  # fmt: skip
        expected = routing.decide_sync(c, lon=MAIDAN[0], lat=MAIDAN[1], category_id=category_id)
        count = c.execute("SELECT count(*) FROM appeals").fetchone()[0]
    for category in (str(category_id), code):
        r = client.get("/api/v1/route", params={"lon": MAIDAN[0], "lat": MAIDAN[1],
                                                "category": category})  # fmt: skip
        assert r.status_code == 200, r.text
        # …with the reason's fixed words in English beside it, for English pages.
        assert r.json() == {**expected.as_dict(), "reason_en": routing.reason_en(expected.reason)}
    r = client.get("/api/v1/route", params={"category": code})
    assert r.status_code == 200 and r.json()["reason"].startswith("Без місця на мапі.")
    with psycopg.connect(demo_url) as c:
        assert c.execute("SELECT count(*) FROM appeals").fetchone()[0] == count  # nothing stored


@pytest.mark.parametrize(
    ("path", "params", "code", "parameter"),
    [
        ("/api/v1/areas", {"lon": "30.5"}, "coordinate_missing", "lat"),
        ("/api/v1/areas", {}, "coordinate_missing", "lon"),
        ("/api/v1/areas", {"lon": "abc", "lat": "50.45"}, "invalid_coordinate", "lon"),
        ("/api/v1/areas", {"lon": "30.5", "lat": "NaN"}, "invalid_coordinate", "lat"),
        ("/api/v1/areas", {"lon": "30.5", "lat": "1e400"}, "invalid_coordinate", "lat"),
        ("/api/v1/route", {"lon": "30.5", "lat": "50.45"}, "category_required", "category"),
        ("/api/v1/route", {"lon": "30.5", "lat": "50.45", "category": "nope"},
         "unknown_category", "category"),
        ("/api/v1/route", {"lon": "30.5", "lat": "x", "category": "1"}, "invalid_coordinate",
         "lat"),
        ("/api/v1/route", {"lon": "50.45", "lat": "30.52", "category": "1"},
         "outside_service_area", None),
    ],
)  # fmt: skip
def test_api_rejects_bad_input_with_a_message(client, path, params, code, parameter):
    for lang in ("uk", "en"):
        r = client.get(path, params=params, headers={"Accept-Language": lang})
        assert r.status_code == 400, r.text
        body = r.json()
        assert body["code"] == code and body.get("parameter") == parameter
        assert r.headers["Content-Language"] == lang and len(body["detail"]) > 20
    if code == "outside_service_area":
        assert "swapped" in client.get(path, params=params,
                                       headers={"Accept-Language": "en"}).json()["detail"]  # fmt: skip
