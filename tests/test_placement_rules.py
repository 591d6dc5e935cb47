"""The placement rules' administration (api/routers/placement_rules.py, gis/placement_rules.py)
over a demo city: the demo's three rules (one of each kind) and its generated protected zone;
create, change (title, distance, on/off) and delete, each audited in the features' chain with
the administrator named; every refusal a 400 naming what is wrong, in Ukrainian and in
English; a rule that is not there 404; only an administrator (a planner 403, nobody 401)."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from test_roles import as_demo, demo_user

from gis.audit import verify
from importers.demo import placement as demo_placement

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
SEED = 7
ADMIN_LOGIN = "admin@demo.hromada"
PLANNER_LOGIN = "planner@demo.hromada"
BASE = "/api/v1/admin/placement-rules"


DEMO = {
    "prefix": "placement",
    "seed": SEED,
    "appeals": 50,
    "now": NOW,
    "accounts": True,
    "demo_mode": True,
}


@pytest.fixture(scope="module")
def admin(demo_url):
    return as_demo(demo_url, ADMIN_LOGIN)


def events(url: str, row_id) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT action, actor_user_id, old, new FROM feature_events"
            " WHERE layer = 'placement_rules' AND feature_id = %s ORDER BY id",
            (str(row_id),),
        ).fetchall()


def test_the_demo_city_has_one_rule_of_each_kind_and_its_protected_zone(client, admin, demo_url):
    r = client.get(BASE, headers=admin)
    assert r.status_code == 200, r.text
    rules = {rule["kind"]: rule for rule in r.json()["items"]}
    assert set(rules) == {"min_distance_same", "min_distance_layer", "not_inside_layer"}
    assert rules["min_distance_same"]["layer"] == "advertising_structures"
    assert rules["min_distance_same"]["distance_m"] == 30
    assert rules["min_distance_same"]["other_layer"] is None
    assert rules["min_distance_layer"]["layer"] == "kiosks"
    assert rules["min_distance_layer"]["distance_m"] == 15
    assert rules["min_distance_layer"]["other_layer"] == "advertising_structures"
    zone = rules["not_inside_layer"]
    assert zone["other_layer"] == demo_placement.ZONE_LAYER and zone["distance_m"] is None
    assert all(rule["enabled"] for rule in rules.values())
    # The zone: a thematic layer labelled generated, one polygon in central Kyiv.
    with psycopg.connect(demo_url) as conn:
        layer = conn.execute(
            "SELECT title, kind, geometry_type, source FROM layers WHERE name = %s",
            (demo_placement.ZONE_LAYER,),
        ).fetchone()
        features = conn.execute(
            "SELECT GeometryType(geom), properties->>'generated',"
            " ST_Contains(geom, ST_SetSRID(ST_MakePoint(30.5143, 50.4529), 4326))"
            " FROM layer_features WHERE layer_name = %s",
            (demo_placement.ZONE_LAYER,),
        ).fetchall()
    assert layer == ("Охоронна зона (згенеровано)", "thematic", "Polygon",
                     "hromada demo (generated)")  # fmt: skip
    assert features == [("POLYGON", "true", True)]  # St Sophia's is inside
    # The OGC API serves it as a collection like any thematic layer.
    r = client.get(f"/ogc/collections/{demo_placement.ZONE_LAYER}/items")
    assert r.status_code == 200, r.text
    assert r.json()["features"][0]["properties"]["generated"] is True
    # The layers a rule may name: the catalogue's, the zone among the polygon ones.
    r = client.get(f"{BASE}/layers", headers=admin)
    assert r.status_code == 200, r.text
    choices = {c["name"]: c for c in r.json()["items"]}
    assert choices[demo_placement.ZONE_LAYER]["polygons"] is True
    assert choices["advertising_structures"]["polygons"] is False
    assert choices["pois"]["polygons"] is False
    assert "districts" not in choices  # a core layer gis/placement.py does not read


def test_create_change_disable_and_delete_a_rule_each_audited(client, admin, demo_url):
    admin_id = demo_user(demo_url, ADMIN_LOGIN)
    r = client.post(BASE, headers=admin, json={
        "layer": "kiosks", "kind": "not_inside_layer", "other_layer": "protected_zone",
        "title": "  МАФ не в охоронній зоні  ", "title_en": "No kiosks in the protected zone",
    })  # fmt: skip
    assert r.status_code == 201, r.text
    rule = r.json()
    assert rule["title"] == "МАФ не в охоронній зоні" and rule["distance_m"] is None
    assert rule["enabled"] is True and rule["created_by"] == admin_id
    rule_id = rule["id"]
    assert any(item["id"] == rule_id for item in client.get(BASE, headers=admin).json()["items"])

    r = client.post(BASE, headers=admin, json={
        "layer": "kiosks", "kind": "min_distance_same", "distance_m": 12.5,
        "title": "МАФ — не ближче 12,5 м",
    })  # fmt: skip
    assert r.status_code == 201, r.text
    distance_id = r.json()["id"]
    assert r.json()["distance_m"] == 12.5 and r.json()["other_layer"] is None
    r = client.patch(f"{BASE}/{distance_id}", headers=admin, json={"distance_m": 20})
    assert r.status_code == 200, r.text
    assert r.json()["distance_m"] == 20

    r = client.patch(f"{BASE}/{rule_id}", headers=admin, json={"enabled": False})
    assert r.status_code == 200, r.text
    assert r.json()["enabled"] is False
    r = client.patch(f"{BASE}/{rule_id}", headers=admin, json={"title": "Нова назва"})
    assert r.json()["title"] == "Нова назва" and r.json()["enabled"] is False

    assert client.delete(f"{BASE}/{rule_id}", headers=admin).status_code == 204
    assert (
        client.patch(f"{BASE}/{rule_id}", headers=admin, json={"enabled": True}).status_code == 404
    )
    r = client.delete(f"{BASE}/{rule_id}", headers=admin)
    assert r.status_code == 404 and r.json()["code"] == "placement_rule_not_found"
    assert all(item["id"] != rule_id for item in client.get(BASE, headers=admin).json()["items"])

    trail = events(demo_url, rule_id)
    assert [e[0] for e in trail] == ["created", "disabled", "updated", "deleted"]
    assert {e[1] for e in trail} == {admin_id}
    assert trail[0][2] is None and trail[0][3]["kind"] == "not_inside_layer"
    assert trail[1][2] == {"enabled": True} and trail[1][3] == {"enabled": False}
    assert trail[2][3] == {"title": "Нова назва"}
    assert trail[3][2]["other_layer"] == "protected_zone" and trail[3][3] is None
    changed = events(demo_url, distance_id)
    assert changed[-1][0] == "updated" and changed[-1][3] == {"distance_m": 20.0}
    with psycopg.connect(demo_url) as conn:
        assert verify(conn)["ok"]


REFUSALS = [
    ({"layer": "roads", "kind": "min_distance_same", "distance_m": 5}, "placement_rule_layer",
     "advertising_structures"),
    ({"kind": "far_away", "distance_m": 5}, "placement_rule_kind", "min_distance_same"),
    ({"kind": "min_distance_same"}, "placement_rule_distance", "distance_m"),
    ({"kind": "min_distance_same", "distance_m": 0}, "placement_rule_distance", "5000"),
    ({"kind": "min_distance_same", "distance_m": 5001}, "placement_rule_distance", "5000"),
    ({"kind": "min_distance_layer", "other_layer": "pois"}, "placement_rule_distance",
     "distance_m"),
    ({"kind": "min_distance_layer", "distance_m": 10}, "placement_rule_other_layer_required",
     "other_layer"),
    ({"kind": "min_distance_layer", "distance_m": 10, "other_layer": "nowhere"},
     "placement_rule_unknown_layer", "nowhere"),
    ({"kind": "not_inside_layer", "other_layer": "districts"}, "placement_rule_unknown_layer",
     "districts"),
    ({"kind": "not_inside_layer", "other_layer": "pois"}, "placement_rule_not_polygons", "pois"),
    ({"kind": "not_inside_layer", "other_layer": "protected_zone", "distance_m": 5},
     "placement_rule_no_distance", "distance_m"),
    ({"kind": "min_distance_same", "distance_m": 5, "title": "   "}, "field_required", "title"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "code", "named"), REFUSALS)
def test_each_refusal_is_a_400_naming_what_is_wrong(client, admin, demo_url, body, code, named):
    body = {"layer": "advertising_structures", "title": "Відмова", **body}
    with psycopg.connect(demo_url) as conn:
        before = conn.execute("SELECT count(*) FROM placement_rules").fetchone()
    r = client.post(BASE, headers=admin, json=body)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == code
    assert named in r.json()["detail"]
    english = client.post(BASE, headers={**admin, "Accept-Language": "en"}, json=body)
    assert english.status_code == 400 and english.json()["code"] == code
    assert english.json()["detail"] != r.json()["detail"]
    assert named in english.json()["detail"]
    with psycopg.connect(demo_url) as conn:
        assert conn.execute("SELECT count(*) FROM placement_rules").fetchone() == before


def test_a_change_is_refused_the_same_way(client, admin):
    items = client.get(BASE, headers=admin).json()["items"]
    rules = {rule["kind"]: rule for rule in items if rule["created_by"] is None}  # the demo's
    zone, same = rules["not_inside_layer"]["id"], rules["min_distance_same"]["id"]
    r = client.patch(f"{BASE}/{zone}", headers=admin, json={"distance_m": 10})
    assert r.status_code == 400 and r.json()["code"] == "placement_rule_no_distance"
    r = client.patch(f"{BASE}/{same}", headers=admin, json={"distance_m": -3})
    assert r.status_code == 400 and r.json()["code"] == "placement_rule_distance"
    r = client.patch(f"{BASE}/{same}", headers=admin, json={"title": ""})
    assert r.status_code == 400 and r.json()["code"] == "field_required"
    r = client.patch(f"{BASE}/{same}", headers=admin, json={"other_layer": "pois"})
    assert r.status_code == 400  # not a field a change may touch
    same_now = next(x for x in client.get(BASE, headers=admin).json()["items"] if x["id"] == same)
    assert same_now["distance_m"] == 30 and same_now["title"] == rules["min_distance_same"]["title"]


def test_only_an_administrator(client, demo_url):
    planner = as_demo(demo_url, PLANNER_LOGIN)
    body = {"layer": "kiosks", "kind": "min_distance_same", "distance_m": 5, "title": "x"}
    for method, path, payload in (("GET", BASE, None), ("GET", f"{BASE}/layers", None),
                                  ("POST", BASE, body), ("PATCH", f"{BASE}/1", {"enabled": False}),
                                  ("DELETE", f"{BASE}/1", None)):  # fmt: skip
        assert client.request(method, path, json=payload).status_code == 401
        r = client.request(method, path, headers=planner, json=payload)
        assert r.status_code == 403, (method, path, r.text)
    with psycopg.connect(demo_url) as conn:
        assert conn.execute("SELECT enabled FROM placement_rules WHERE id = 1").fetchone() in (
            None, (True,))  # fmt: skip


def _checked(url: str, layer: str, lon: float, lat: float) -> dict | None:
    """gis/placement.check of a point: None when accepted, else the refusal's rule."""
    import asyncio

    from gis import placement
    from gis.errors import Conflict

    async def run():
        async with await psycopg.AsyncConnection.connect(url) as conn:
            try:
                await placement.check(conn, layer, {"type": "Point", "coordinates": [lon, lat]})
            except Conflict as exc:
                assert exc.code == "placement_rule_violated"
                return exc.extra["rule"]
            return None

    return asyncio.run(run())


def test_the_demo_rules_are_the_ones_the_checker_applies(client, admin, demo_url):
    """Each demo rule refuses what breaks it (gis/placement.py reads the rules kept here); a
    rule switched off no longer refuses."""
    with psycopg.connect(demo_url) as conn:
        # A point of the zone more than 30 m from every structure, and one outside it.
        inside = conn.execute(
            "SELECT ST_X(p), ST_Y(p) FROM layer_features z,"
            " LATERAL (SELECT (ST_Dump(ST_GeneratePoints(z.geom, 200, 1))).geom AS p) g"
            " WHERE z.layer_name = 'protected_zone' AND NOT EXISTS (SELECT 1 FROM"
            " advertising_structures a WHERE ST_DWithin(a.geom::geography, p::geography, 40))"
            " ORDER BY ST_X(p), ST_Y(p) LIMIT 1"
        ).fetchone()
        ad = conn.execute(
            "SELECT id, ST_X(geom), ST_Y(geom) FROM advertising_structures a WHERE NOT EXISTS"
            " (SELECT 1 FROM layer_features z WHERE z.layer_name = 'protected_zone'"
            " AND ST_DWithin(z.geom::geography, a.geom::geography, 100)) ORDER BY id LIMIT 1"
        ).fetchone()
    rules = {r["kind"]: r for r in client.get(BASE, headers=admin).json()["items"]
             if r["created_by"] is None}  # fmt: skip
    assert inside is not None and ad is not None
    # 10 m east of a structure outside the zone: too close to it (advertising, 30 m) and
    # (kiosks, 15 m).
    near = (ad[1] + 10 / 71_000, ad[2])
    assert (
        _checked(demo_url, "advertising_structures", *near)["id"]
        == (rules["min_distance_same"]["id"])
    )
    assert _checked(demo_url, "kiosks", *near)["id"] == rules["min_distance_layer"]["id"]
    assert (
        _checked(demo_url, "advertising_structures", *inside)["id"]
        == (rules["not_inside_layer"]["id"])
    )
    zone = rules["not_inside_layer"]["id"]
    assert client.patch(f"{BASE}/{zone}", headers=admin, json={"enabled": False}).status_code == 200
    try:
        assert _checked(demo_url, "advertising_structures", *inside) is None
    finally:
        client.patch(f"{BASE}/{zone}", headers=admin, json={"enabled": True})
