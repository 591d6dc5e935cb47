"""Editing advertising structures and kiosks through OGC API – Features Part 4 (issue 16),
with a planner's real bearer token on a small demo city: create, ETags, stale edits (412 with
the current feature), If-Match required (428), retire, every kind of placement rule, who is
refused, the audit trail (hash chain verified) and the layer's freshness."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools

import psycopg
import pytest

from gis import accounts
from gis.audit import verify
from gis.db import libpq_url

DEMO = {"prefix": "structedit", "seed": 16, "appeals": 200}
ITEMS = "/ogc/collections/{}/items"
GEOJSON = {"Content-Type": "application/geo+json"}
MERGE = {"Content-Type": "application/merge-patch+json"}
_counter = itertools.count(1)
# Far from the demo city's structures (and its demo rules): only this module's own features.
LON, LAT = 30.0, 49.0


def sql(url: str, query: str, params=None):
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else None


def _run(coro_fn, url):
    async def main():
        async with await psycopg.AsyncConnection.connect(libpq_url(url), autocommit=True) as c:
            return await coro_fn(c)

    return asyncio.run(main())


def bearer(url: str, role: str) -> dict:
    n = next(_counter)

    async def make(conn):
        user_id = await accounts.create_user(
            conn, email=f"{role}-{n}@structures.test", password=None,
            full_name=f"Планувальник {n}", role=role, confirmed=True,
        )  # fmt: skip
        s = await accounts.create_session(
            conn, user_id=user_id, kind="bearer", ip=None, user_agent="pytest",
            ttl=dt.timedelta(hours=1),
        )  # fmt: skip
        return s.token

    return {"Authorization": f"Bearer {_run(make, url)}"}


@pytest.fixture(scope="module")
def planner(demo_url):
    sql(demo_url, "DELETE FROM placement_rules")  # the demo's own rules: not these tests'
    return bearer(demo_url, "planner")


def point(dx: float = 0.0, dy: float = 0.0) -> dict:
    return {"type": "Point", "coordinates": [LON + dx, LAT + dy]}


def structure(code: str, geometry: dict | None = None, /, **props) -> dict:
    properties = {
        "code": code, "kind": "billboard", "size": "6x3", "sides": 2,
        "owner": "ТОВ «Реклама»", "permit_number": f"P-{code}", "permit_type": "дозвіл",
        "permit_valid_from": "2026-01-01", "permit_valid_until": "2027-01-01",
        "address": "вул. Тестова, 1", **props,
    }  # fmt: skip
    return {"type": "Feature", "geometry": geometry or point(), "properties": properties}


def create(client, headers, feature, layer="advertising_structures"):
    return client.post(ITEMS.format(layer), headers={**headers, **GEOJSON}, json=feature)


def test_create_read_update_stale_and_retire(client, demo_url, planner):
    before = sql(demo_url, "SELECT last_updated FROM layers WHERE name = 'advertising_structures'")
    r = create(client, planner, structure("T-1", point(0.001)))
    assert r.status_code == 201, r.text
    fid = r.json()["id"]
    assert r.headers["etag"] == '"1"'
    assert r.headers["location"].endswith(f"/ogc/collections/advertising_structures/items/{fid}")
    assert r.json()["properties"]["sides"] == 2 and r.json()["properties"]["version"] == 1

    # GET item: the ETag an edit names
    item = client.get(r.headers["location"])
    assert item.status_code == 200 and item.headers["etag"] == '"1"'
    assert item.json()["properties"]["permit_type"] == "дозвіл"

    url = f"{ITEMS.format('advertising_structures')}/{fid}"
    # no If-Match: 428
    r = client.patch(url, headers={**planner, **MERGE}, json={"properties": {"size": "3x2"}})
    assert r.status_code == 428 and r.json()["code"] == "precondition_required"
    # the right ETag: accepted, version + 1
    r = client.patch(
        url, headers={**planner, **MERGE, "If-Match": '"1"'},
        json={"properties": {"size": "3x2"}, "geometry": point(0.002)},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"' and r.json()["properties"]["size"] == "3x2"
    assert r.json()["geometry"]["coordinates"] == [LON + 0.002, LAT]
    # a stale ETag (another planner's change came first): 412 with the current feature
    other = bearer(demo_url, "planner")
    r = client.patch(
        url, headers={**other, **MERGE, "If-Match": '"1"', "Accept-Language": "en"},
        json={"properties": {"size": "1x1"}},
    )  # fmt: skip
    assert r.status_code == 412, r.text
    body = r.json()
    assert body["code"] == "precondition_failed" and "changed after you opened it" in body["detail"]
    assert body["current"]["properties"]["size"] == "3x2"
    assert body["current"]["properties"]["version"] == 2
    assert body["current"]["properties"]["last_change"]["action"] == "update"
    assert body["etag"] == '"2"'
    # PUT replaces the whole feature
    r = client.put(
        url, headers={**planner, **GEOJSON, "If-Match": '"2"'},
        json=structure("T-1", point(0.002), sides=1, holder_is_person=True, owner="Іваненко І. І."),
    )  # fmt: skip
    assert r.status_code == 200 and r.headers["etag"] == '"3"', r.text
    # a private holder never reaches the public layer; the planner sees it
    public = client.get(url).json()["properties"]
    assert public["owner"] is None and "holder_is_person" not in public
    assert client.get(url, headers=planner).json()["properties"]["owner"] == "Іваненко І. І."
    # DELETE retires: gone from items (and the item), kept in the table and the trail
    r = client.delete(url, headers={**planner, "If-Match": '"2"'})
    assert r.status_code == 412
    r = client.delete(url, headers={**planner, "If-Match": '"3"'})
    assert r.status_code == 204, r.text
    assert client.get(url).status_code == 404
    ids = [f["id"] for f in client.get(ITEMS.format("advertising_structures"),
                                       params={"limit": 10000}).json()["features"]]  # fmt: skip
    assert fid not in ids
    assert sql(demo_url, "SELECT retired_at IS NOT NULL FROM advertising_structures"
                         " WHERE id = %s", (fid,)) == [(True,)]  # fmt: skip

    # the audit trail: each change with its old and new values, the chain intact
    events = sql(
        demo_url,
        "SELECT action, old, new, actor_user_id IS NOT NULL FROM feature_events"
        " WHERE layer = 'advertising_structures' AND feature_id = %s ORDER BY id",
        (str(fid),),
    )
    assert [e[0] for e in events] == ["create", "update", "update", "retire"]
    assert events[0][1] is None and events[0][2]["code"] == "T-1"
    assert events[1][1] == {"size": "6x3", "geometry": point(0.001)}
    assert events[1][2] == {"size": "3x2", "geometry": point(0.002)}
    assert events[3][2] is None and all(e[3] for e in events)
    with psycopg.connect(demo_url) as conn:
        assert verify(conn)["ok"]
    # freshness: the layer's last update moved
    after = sql(demo_url, "SELECT last_updated FROM layers WHERE name = 'advertising_structures'")
    assert after and after[0][0] is not None and (before[0][0] is None or after > before)


def test_placement_rules_refuse_with_the_rule_and_what_is_in_the_way(client, demo_url, planner):
    layer = "advertising_structures"
    base = create(client, planner, structure("R-1", point(0.01)))
    assert base.status_code == 201, base.text
    (rule_id,) = sql(
        demo_url,
        "INSERT INTO placement_rules (layer, kind, distance_m, title, title_en)"
        " VALUES ('advertising_structures', 'min_distance_same', 30,"
        " 'Не ближче 30 м між конструкціями', 'At least 30 m apart') RETURNING id",
    )[0]
    try:
        # ~11 m from R-1: refused, naming the rule and R-1
        r = create(client, planner, structure("R-2", point(0.01, 0.0001)))
        assert r.status_code == 409, r.text
        body = r.json()
        assert body["code"] == "placement_rule_violated"
        assert "Не ближче 30 м" in body["detail"]
        assert body["rule"]["id"] == rule_id and body["rule"]["kind"] == "min_distance_same"
        assert body["rule"]["distance_m"] == 30
        conflicts = body["conflicts"]["features"]
        assert [f["id"] for f in conflicts] == [base.json()["id"]]
        assert conflicts[0]["properties"]["label"] == "R-1"
        assert client.post(ITEMS.format(layer), headers={**planner, **GEOJSON, "Accept-Language": "en"},
                           json=structure("R-2", point(0.01, 0.0001))).json()["detail"].count(
            "At least 30 m apart") == 1  # fmt: skip
        # ~110 m away: accepted; moving it back next to R-1 refused, R-1 itself may move
        far = create(client, planner, structure("R-2", point(0.01, 0.001)))
        assert far.status_code == 201, far.text
        far_url = f"{ITEMS.format(layer)}/{far.json()['id']}"
        r = client.patch(far_url, headers={**planner, **MERGE, "If-Match": '"1"'},
                         json={"geometry": point(0.01, 0.0001)})  # fmt: skip
        assert r.status_code == 409 and r.json()["code"] == "placement_rule_violated"
        base_url = f"{ITEMS.format(layer)}/{base.json()['id']}"
        r = client.patch(base_url, headers={**planner, **MERGE, "If-Match": '"1"'},
                         json={"geometry": point(0.01, -0.00005)})  # fmt: skip
        assert r.status_code == 200, r.text  # not in conflict with itself
        # a disabled rule is not checked
        sql(demo_url, "UPDATE placement_rules SET enabled = false WHERE id = %s", (rule_id,))
        r = client.patch(far_url, headers={**planner, **MERGE, "If-Match": '"1"'},
                         json={"geometry": point(0.01, 0.0001)})  # fmt: skip
        assert r.status_code == 200, r.text
    finally:
        sql(demo_url, "DELETE FROM placement_rules")

    # min_distance_layer: kiosks not within 15 m of the features of a thematic layer
    sql(demo_url, "INSERT INTO layers (name, title, geometry_type, kind)"
                  " VALUES ('test_stops', 'Зупинки (тест)', 'Point', 'thematic')"
                  " ON CONFLICT DO NOTHING")  # fmt: skip
    sql(
        demo_url,
        "INSERT INTO layer_features (layer_name, feature_key, properties, content_hash, geom)"
        " VALUES ('test_stops', 's1', '{\"name\": \"Зупинка 1\"}', 'x',"
        " ST_SetSRID(ST_MakePoint(%s, %s), 4326))",
        (LON + 0.02, LAT),
    )
    sql(demo_url, "INSERT INTO layers (name, title, geometry_type, kind)"
                  " VALUES ('test_zone', 'Охоронна зона (тест)', 'Polygon', 'thematic')"
                  " ON CONFLICT DO NOTHING")  # fmt: skip
    sql(
        demo_url,
        "INSERT INTO layer_features (layer_name, feature_key, properties, content_hash, geom)"
        " VALUES ('test_zone', 'z1', '{\"name\": \"Охоронна зона\"}', 'y',"
        " ST_MakeEnvelope(%s, %s, %s, %s, 4326))",
        (LON + 0.03, LAT - 0.001, LON + 0.032, LAT + 0.001),
    )
    sql(
        demo_url,
        "INSERT INTO placement_rules (layer, kind, distance_m, other_layer, title) VALUES"
        " ('kiosks', 'min_distance_layer', 15, 'test_stops', 'МАФ не ближче 15 м до зупинок'),"
        " ('advertising_structures', 'not_inside_layer', NULL, 'test_zone',"
        "  'Без реклами в охоронній зоні')",
    )
    try:
        kiosk = structure("K-1", point(0.02, 0.00005), specialization="кава", sides=None)
        del kiosk["properties"]["sides"], kiosk["properties"]["size"]
        r = create(client, planner, kiosk, "kiosks")
        assert r.status_code == 409, r.text
        assert r.json()["rule"]["kind"] == "min_distance_layer"
        assert r.json()["rule"]["other_layer"] == "test_stops"
        (stop,) = r.json()["conflicts"]["features"]
        assert stop["properties"]["label"] == "Зупинка 1" and stop["properties"]["distance_m"] < 15
        kiosk["geometry"] = {"type": "Polygon", "coordinates": [[
            [LON + 0.021, LAT], [LON + 0.0212, LAT], [LON + 0.0212, LAT + 0.0002],
            [LON + 0.021, LAT],
        ]]}  # fmt: skip
        r = create(client, planner, kiosk, "kiosks")
        assert r.status_code == 201, r.text  # ~70 m away: a polygon kiosk is accepted

        r = create(client, planner, structure("Z-1", point(0.031)))
        assert r.status_code == 409, r.text
        assert r.json()["rule"]["kind"] == "not_inside_layer"
        (zone,) = r.json()["conflicts"]["features"]
        assert zone["geometry"]["type"] == "Polygon"
        assert zone["properties"]["label"] == "Охоронна зона"
        assert create(client, planner, structure("Z-1", point(0.035))).status_code == 201
    finally:
        sql(demo_url, "DELETE FROM placement_rules")


def test_bad_input_is_a_400_naming_the_property(client, planner):
    layer = "advertising_structures"
    cases = [
        (structure("B-1", sides=0), "invalid_property", "sides"),
        (structure("B-1", permit_valid_until="31.12.2026"), "invalid_property", "permit_valid_until"),
        (structure("B-1", colour="red"), "unknown_property", "colour"),
        (structure("B-1", code=""), "property_required", "code"),
        (structure("B-1", {"type": "Point", "coordinates": [200, 50]}), "invalid_geometry", "geometry"),
        (structure("B-1", {"type": "Polygon", "coordinates": [[[30, 50], [30.1, 50], [30, 50.1], [30, 50]]]}),
         "invalid_geometry", "geometry"),
        (structure("B-1", {"type": "Point", "coordinates": ["x"]}), "invalid_geometry", "geometry"),
    ]  # fmt: skip
    for feature, code, parameter in cases:
        r = create(client, planner, feature)
        assert r.status_code == 400, (feature, r.text)
        assert r.json()["code"] == code and r.json()["parameter"] == parameter, r.text
    r = client.post(ITEMS.format(layer), headers={**planner, "Content-Type": "text/plain"},
                    content=b"{}")  # fmt: skip
    assert r.status_code == 400 and r.json()["code"] == "edit_content_type"
    r = client.post(ITEMS.format(layer), headers={**planner, **GEOJSON}, content=b"{not json")
    assert r.status_code == 400 and r.json()["code"] == "invalid_feature_json"
    r = create(client, planner, structure("B-1"), "districts")
    assert r.status_code == 409 and r.json()["code"] == "collection_not_editable"
    # a code already taken
    assert create(client, planner, structure("DUP", point(0.05))).status_code == 201
    r = create(client, planner, structure("DUP", point(0.06)))
    assert r.status_code == 409 and r.json()["code"] == "code_taken"
    r = client.patch(f"{ITEMS.format(layer)}/999999999", headers={**planner, **MERGE, "If-Match": '"1"'},
                     json={"properties": {}})  # fmt: skip
    assert r.status_code == 404


def test_citizens_and_anonymous_are_refused(client, demo_url):
    feature = structure("X-1", point(0.07))
    r = client.post(ITEMS.format("advertising_structures"), headers=GEOJSON, json=feature)
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"
    for role in ("citizen", "operator"):
        r = create(client, bearer(demo_url, role), feature)
        assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert create(client, bearer(demo_url, "admin"), feature).status_code == 201


def test_conformance_declares_part_4(client):
    classes = client.get("/ogc/conformance").json()["conformsTo"]
    for name in ("create-replace-delete", "update", "features"):
        assert f"http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/{name}" in classes


def test_the_portal_edits_with_its_cookie_and_csrf_token(demo_url):
    """The /planner page's cookie session: an edit without its CSRF token is refused (another
    site's form cannot move a structure); with it, accepted."""
    from fastapi.testclient import TestClient

    from api import create_app
    from gis.settings import Settings

    email, password = "cookie-planner@structures.test", "планувальник-16-пароль"

    async def make(conn):
        await accounts.create_user(
            conn, email=email, password=password, full_name="Планувальник Кукі",
            role="planner", confirmed=True,
        )  # fmt: skip

    _run(make, demo_url)
    settings = Settings(database_url=demo_url, rate_limits_enabled=False)
    with TestClient(create_app(settings), base_url="https://testserver") as c:
        r = c.post("/api/v1/auth/login",
                   json={"email": email, "password": password, "session": "cookie"})  # fmt: skip
        assert r.status_code == 200, r.text
        csrf = r.json()["csrf_token"]
        feature = structure("C-1", point(0.08))
        r = c.post(ITEMS.format("advertising_structures"), headers=GEOJSON, json=feature)
        assert r.status_code == 403 and r.json()["code"] == "csrf_failed"
        r = c.post(ITEMS.format("advertising_structures"),
                   headers={**GEOJSON, "X-CSRF-Token": csrf}, json=feature)  # fmt: skip
        assert r.status_code == 201, r.text
