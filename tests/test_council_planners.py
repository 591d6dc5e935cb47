"""Councils as tenants (issue 17), the planners' half: a planner (or administrator) bound to
a council keeps that council's advertising structures and kiosks only. Two real neighbouring
hromadas of Zaporizhzhia oblast (the Minregion ATU polygons, as tests/test_tenancy_roles.py
builds them), each a council with a structure whose permit expires within the month, a
document, and appeals about structures; planners of each, an oblast planner (no council).
Council A's planner gets 404 for every reach into council B (reading, editing, retiring,
documents, creating at a point of B), lists only A's permits and complaints, imports only
into A; the oblast planner sees and edits both; the permits' digest tells each council's
planners of their own council's permits, the oblast planner of all.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os

import psycopg
import pytest
from conftest import _counter, create_database, drop_database
from fastapi.testclient import TestClient
from staff import sql
from test_tenancy_roles import COUNCILS, _polygons

from api import create_app
from gis import accounts, clock, dispatch, jobs
from gis.db import libpq_url
from gis.settings import Settings

ITEMS = "/ogc/collections/{}/items"
DOCS = "/api/v1/planner/{}/{}/documents"
PERMITS = "/api/v1/planner/permits"
COMPLAINTS = "/api/v1/planner/complaints"
IMPORT = "/api/v1/planner/import"
RULES = "/api/v1/admin/placement-rules"
PDF = b"%PDF-1.4\n% a permit\n"
ANY = {"If-Match": "*"}


def _build(url: str, shared) -> dict:
    polygons = _polygons(shared)
    today = clock.kyiv_today()
    world: dict = {"councils": {}}
    with psycopg.connect(libpq_url(url), autocommit=True) as c:

        def one(query, params=()):
            return c.execute(query, params).fetchone()[0]

        for layer, geometry in (("advertising_structures", "Point"), ("kiosks", "Polygon")):
            c.execute("INSERT INTO layers (name, title, geometry_type, kind) VALUES"
                      " (%s, %s, %s, 'core')", (layer, layer, geometry))  # fmt: skip
        category = one("INSERT INTO categories (code, name, deadline_days) VALUES"
                       " ('t-ads', 'Реклама', 10) RETURNING id")  # fmt: skip
        for code, (slug, name, prefix, letter) in COUNCILS.items():
            one("INSERT INTO hromadas (code, name, geom) VALUES (%s, %s,"
                " ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(%s), 4326))) RETURNING id",
                (code, name, polygons[code]))  # fmt: skip
            k = one("INSERT INTO councils (code, slug, name, number_prefix) VALUES"
                    " (%s, %s, %s, %s) RETURNING id", (code, slug, name, prefix))  # fmt: skip
            # Points well inside the council, far apart (no placement rule is in the way).
            points = c.execute(
                "SELECT ST_X(g.geom), ST_Y(g.geom) FROM hromadas h,"
                " ST_Dump(ST_GeneratePoints(ST_Buffer(h.geom::geography, -300)::geometry, 4, 17))"
                " AS g WHERE h.code = %s", (code,),
            ).fetchall()  # fmt: skip
            fid = one(
                "INSERT INTO advertising_structures (code, kind, owner, permit_number,"
                " permit_valid_until, address, geom, council_id) VALUES (%s, 'billboard', %s,"
                " %s, %s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s) RETURNING id",
                (f"S-{letter}", f"ТОВ «Власник {letter}»", f"Д-{letter}",
                 today + dt.timedelta(days=10), f"Адреса {letter}", *points[0], k),
            )  # fmt: skip
            kiosk = one(
                "INSERT INTO kiosks (code, kind, permit_valid_until, geom, council_id) VALUES"
                " (%s, 'kiosk', %s, ST_Multi(ST_Buffer(ST_SetSRID(ST_MakePoint(%s, %s), 4326),"
                " 0.00005)), %s) RETURNING id",
                (f"K-{letter}", today - dt.timedelta(days=3), *points[1], k),
            )  # fmt: skip
            appeals = []
            for n, feature in enumerate((fid, fid, None), start=1):
                appeal = one(
                    "INSERT INTO appeals (number, category_id, text, channel, status, geom,"
                    " deadline_at, council_id) VALUES (%s, %s, 'Реклама', 'phone_1551',"
                    " 'registered', ST_SetSRID(ST_MakePoint(%s, %s), 4326),"
                    " now() + interval '10 days', %s) RETURNING id",
                    (f"{prefix}-П-{n}", category, *points[0], k),
                )  # fmt: skip
                c.execute("INSERT INTO appeal_structures (appeal_id, layer, feature_id)"
                          " VALUES (%s, 'advertising_structures', %s)", (appeal, feature))  # fmt: skip
                appeals.append(f"{prefix}-П-{n}")
            world["councils"][letter] = {
                "id": k, "structure": fid, "kiosk": kiosk, "points": points, "appeals": appeals,
            }  # fmt: skip

    async def staff() -> dict:
        out: dict = {}
        async with await psycopg.AsyncConnection.connect(libpq_url(url), autocommit=True) as c:
            for key, role, council in (
                ("A", "planner", "A"), ("B", "planner", "B"), ("oblast", "planner", None),
                ("A-admin", "admin", "A"), ("oblast-admin", "admin", None),
            ):  # fmt: skip
                email = f"{role}-{key.lower()}@council-planners.test"
                kw = {"council_id": world["councils"][council]["id"]} if council else {}
                user_id = await accounts.create_user(
                    c, email=email, password=None, full_name=f"Планувальник {key}", role=role,
                    confirmed=True, **kw,
                )  # fmt: skip
                s = await accounts.create_session(
                    c, user_id=user_id, kind="bearer", ip=None, user_agent="pytest",
                    ttl=dt.timedelta(hours=2),
                )  # fmt: skip
                out[key] = (email, {"Authorization": f"Bearer {s.token}"})
        return out

    world["staff"] = asyncio.run(staff())
    return world


@pytest.fixture(scope="module")
def world(server_url, template_url, shared_data):
    name = f"t_council_planners_{os.getpid()}_{next(_counter)}"
    url = create_database(server_url, name, template=template_url.rpartition("/")[2])
    try:
        data = _build(url, shared_data)
        data["url"] = url
        yield data
    finally:
        drop_database(server_url, name)


@pytest.fixture(scope="module")
def api(world, tmp_path_factory):
    settings = Settings(database_url=world["url"], rate_limits_enabled=False,
                        data_dir=tmp_path_factory.mktemp("council-planners"))  # fmt: skip
    with TestClient(create_app(settings)) as c:
        yield c


def _h(world, key: str) -> dict:
    return world["staff"][key][1]


def _feature(point, code: str) -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": list(point)},
            "properties": {"code": code, "kind": "billboard"}}  # fmt: skip


def _structures(world, letter: str) -> list:
    k = world["councils"][letter]["id"]
    return sql(world["url"], "SELECT id, code, version, retired_at, ST_AsText(geom), council_id"
               " FROM advertising_structures WHERE council_id = %s ORDER BY id", (k,))  # fmt: skip


def test_a_planner_reaches_nothing_of_another_council(world, api):
    a, b = world["councils"]["A"], world["councils"]["B"]
    # The oblast planner attaches a document to B's structure.
    r = api.post(DOCS.format("advertising_structures", b["structure"]), headers=_h(world, "oblast"),
                 files={"file": ("дозвіл.pdf", PDF, "application/pdf")})  # fmt: skip
    assert r.status_code == 201, r.text
    doc = r.json()["id"]
    before = (_structures(world, "B"), sql(world["url"], "SELECT * FROM permit_documents"))

    h = _h(world, "A")
    item = f"{ITEMS.format('advertising_structures')}/{b['structure']}"
    kiosk = f"{ITEMS.format('kiosks')}/{b['kiosk']}"
    patch = {"properties": {"owner": "Чужий"}}
    for method, url, kw in (
        ("PATCH", item, {"json": patch, "headers": {**h, **ANY}}),
        ("PUT", item, {"json": _feature(b["points"][0], "S-B"), "headers": {**h, **ANY}}),
        ("DELETE", item, {"headers": {**h, **ANY}}),
        ("DELETE", kiosk, {"headers": {**h, **ANY}}),
        ("GET", DOCS.format("advertising_structures", b["structure"]), {"headers": h}),
        ("POST", DOCS.format("advertising_structures", b["structure"]),
         {"headers": h, "files": {"file": ("x.pdf", PDF, "application/pdf")}}),
        ("GET", f"/api/v1/planner/documents/{doc}", {"headers": h}),
        ("DELETE", f"/api/v1/planner/documents/{doc}", {"headers": h}),
    ):  # fmt: skip
        r = api.request(method, url, **kw)
        assert r.status_code == 404, (method, url, r.text)
        assert r.json()["code"] in ("feature_not_found", "document_not_found"), r.text
        assert "Власник B" not in r.text
    # Another council's feature is as the public sees it: no version to edit against.
    r = api.get(item, headers=h)
    assert r.status_code == 200 and "etag" not in r.headers, r.text
    assert r.json()["properties"]["version"] is None
    assert "etag" in api.get(item, headers=_h(world, "oblast")).headers
    # Moving A's own structure into B is refused too, as is creating one there.
    own = f"{ITEMS.format('advertising_structures')}/{a['structure']}"
    r = api.patch(own, json={"geometry": {"type": "Point", "coordinates": list(b["points"][2])}},
                  headers={**h, **ANY})  # fmt: skip
    assert r.status_code == 404 and r.json()["code"] == "place_outside_council", r.text
    r = api.post(ITEMS.format("advertising_structures"), json=_feature(b["points"][2], "N-AB"),
                 headers=h)  # fmt: skip
    assert r.status_code == 404 and r.json()["code"] == "place_outside_council", r.text
    r = api.post(ITEMS.format("advertising_structures"), json=_feature(b["points"][2], "N-AB"),
                 headers={**h, "Accept-Language": "en"})  # fmt: skip
    assert "outside the community" in r.json()["detail"]
    assert before == (_structures(world, "B"), sql(world["url"], "SELECT * FROM permit_documents"))

    # Their own council: all of it works, and a new structure is A's.
    r = api.patch(own, json=patch, headers={**h, **ANY})
    assert r.status_code == 200, r.text
    r = api.post(ITEMS.format("advertising_structures"), json=_feature(a["points"][2], "N-A"),
                 headers=h)  # fmt: skip
    assert r.status_code == 201, r.text
    assert sql(world["url"], "SELECT council_id FROM advertising_structures WHERE code = 'N-A'") \
        == [(a["id"],)]  # fmt: skip
    r = api.get(DOCS.format("advertising_structures", a["structure"]), headers=h)
    assert r.status_code == 200 and r.json()["items"] == []

    # The oblast planner reaches both councils: B's document, a new structure in B.
    o = _h(world, "oblast")
    r = api.get(f"/api/v1/planner/documents/{doc}", headers=o)
    assert r.status_code == 200 and r.content == PDF
    r = api.post(ITEMS.format("advertising_structures"), json=_feature(b["points"][3], "N-OB"),
                 headers=o)  # fmt: skip
    assert r.status_code == 201, r.text
    assert sql(world["url"], "SELECT council_id FROM advertising_structures WHERE code = 'N-OB'") \
        == [(b["id"],)]  # fmt: skip
    r = api.patch(f"{ITEMS.format('kiosks')}/{b['kiosk']}",
                  json={"properties": {"owner": "ФОП Обласний"}}, headers={**o, **ANY})  # fmt: skip
    assert r.status_code == 200, r.text


def test_permits_and_complaints_are_the_councils_own(world, api):
    def codes(key: str, status: str) -> set[str]:
        r = api.get(PERMITS, params={"status": status}, headers=_h(world, key))
        assert r.status_code == 200, r.text
        return {i["code"] for i in r.json()["items"]}

    assert codes("A", "expiring") == {"S-A"} and codes("A", "expired") == {"K-A"}
    assert codes("B", "expiring") == {"S-B"}
    assert codes("oblast", "expiring") == {"S-A", "S-B"}
    assert codes("oblast", "expired") == {"K-A", "K-B"}
    r = api.get(PERMITS, headers=_h(world, "A"))
    assert r.json()["counts"] == {"expiring": 1, "expired": 1}
    r = api.get(PERMITS, headers=_h(world, "oblast"))
    assert r.json()["counts"] == {"expiring": 2, "expired": 2}

    def complaints(key: str) -> tuple[set, set]:
        r = api.get(COMPLAINTS, headers=_h(world, key))
        assert r.status_code == 200, r.text
        body = r.json()
        return ({f["properties"]["code"] for f in body["structures"]["features"]},
                {f["id"] for f in body["unmatched"]["features"]})  # fmt: skip

    a, b = world["councils"]["A"], world["councils"]["B"]
    assert complaints("A") == ({"S-A"}, {a["appeals"][2]})
    assert complaints("B") == ({"S-B"}, {b["appeals"][2]})
    assert complaints("oblast") == ({"S-A", "S-B"}, {a["appeals"][2], b["appeals"][2]})


def test_a_register_imports_into_the_planners_council_only(world, api):
    a, b = world["councils"]["A"], world["councils"]["B"]
    (ax, ay), (bx, by) = a["points"][3], b["points"][2]
    csv = ("код;вид;довгота;широта\n"
           f"R-A;білборд;{ax};{ay}\n"
           f"R-B;білборд;{bx};{by}\n"
           f"S-B;сітілайт;{bx};{by}\n").encode()  # fmt: skip
    before = _structures(world, "B")
    r = api.post(IMPORT, headers=_h(world, "A"), files={"file": ("r.csv", csv)},
                 data={"layer": "advertising_structures", "mode": "apply",
                       "retire_missing": "true"})  # fmt: skip
    assert r.status_code == 200, r.text
    body = r.json()
    assert [x["code"] for x in body["added"]] == ["R-A"]
    assert {u["code"]: u["reason"] for u in body["unplaced"]} == {
        "R-B": "place_outside_council", "S-B": "place_outside_council"}  # fmt: skip
    assert all("S-B" != x["code"] and "N-OB" != x["code"] for x in body["removed"])
    assert before == _structures(world, "B")
    assert sql(world["url"], "SELECT council_id FROM advertising_structures WHERE code = 'R-A'") \
        == [(a["id"],)]  # fmt: skip
    # The oblast planner's preview places R-B in B.
    r = api.post(IMPORT, headers=_h(world, "oblast"), files={"file": ("r.csv", csv)},
                 data={"layer": "advertising_structures", "mode": "preview"})  # fmt: skip
    assert r.status_code == 200, r.text
    assert "R-B" in [x["code"] for x in r.json()["added"]]


def test_placement_rules_are_changed_by_the_oblast_administrator(world, api):
    rule = {"layer": "advertising_structures", "kind": "min_distance_same", "distance_m": 5,
            "title": "Не ближче 5 м"}  # fmt: skip
    r = api.post(RULES, json=rule, headers=_h(world, "A-admin"))
    assert r.status_code == 403 and r.json()["code"] == "placement_rules_shared", r.text
    r = api.post(RULES, json=rule, headers=_h(world, "oblast-admin"))
    assert r.status_code == 201, r.text
    rule_id = r.json()["id"]
    r = api.get(RULES, headers=_h(world, "A-admin"))
    assert r.status_code == 200 and [x["id"] for x in r.json()["items"]] == [rule_id]
    for method in ("PATCH", "DELETE"):
        r = api.request(method, f"{RULES}/{rule_id}", headers=_h(world, "A-admin"),
                        **({"json": {"enabled": False}} if method == "PATCH" else {}))  # fmt: skip
        assert r.status_code == 403, r.text
    assert api.delete(f"{RULES}/{rule_id}", headers=_h(world, "oblast-admin")).status_code == 204


def test_the_digest_tells_each_councils_planners_of_their_own(world, smtp_server):
    url = world["url"]
    jobs.make_app(
        Settings(database_url=url, smtp_host="127.0.0.1", smtp_port=smtp_server.port), url
    )

    async def run():
        async with await psycopg.AsyncConnection.connect(libpq_url(url), autocommit=True) as c:
            return await dispatch.notify_permits(c, today=clock.kyiv_today(), now=clock.now())

    assert asyncio.run(run()) == 2  # S-A and S-B, newly within 30 days
    staff = world["staff"]
    own_a = smtp_server.wait_for(staff["A"][0]).get_content()
    own_b = smtp_server.wait_for(staff["B"][0]).get_content()
    oblast = smtp_server.wait_for(staff["oblast"][0]).get_content()
    assert "S-A" in own_a and "S-B" not in own_a
    assert "S-B" in own_b and "S-A" not in own_b
    assert "S-A" in oblast and "S-B" in oblast
    assert len(smtp_server.messages) == 3  # none to the administrators


def test_planner_page_shows_another_councils_feature_read_only(world, new_context, browser_log,
                                                               tmp_path_factory):  # fmt: skip
    """/planner in Chromium as A's planner, editing on, centred on B's structure: Enter opens
    its attribute card naming B, not the editing form (no save, move, retire or documents);
    «Новий об'єкт у центрі мапи» there is refused before anything is sent."""
    from browser import DESKTOP, run_async
    from live import serve
    from playwright.sync_api import expect

    from gis.embedded import free_port

    b = world["councils"]["B"]
    b_name = next(v[1] for v in COUNCILS.values() if v[3] == "B")
    email = world["staff"]["A"][0]

    async def cookie() -> str:
        async with await psycopg.AsyncConnection.connect(libpq_url(world["url"])) as c:
            user_id = (await (await c.execute("SELECT id FROM users WHERE email = %s",
                                              (email,))).fetchone())[0]  # fmt: skip
            s = await accounts.create_session(c, user_id=user_id, kind="cookie", ip=None,
                                              user_agent="pytest", ttl=dt.timedelta(hours=1))  # fmt: skip
            await c.commit()
            return s.token

    token = run_async(cookie)
    port = free_port()
    settings = Settings(database_url=world["url"], rate_limits_enabled=False,
                        data_dir=tmp_path_factory.mktemp("council-planners-page"),
                        public_base_url=f"http://127.0.0.1:{port}")  # fmt: skip
    with serve(create_app(settings), port) as base:
        context = new_context(viewport=DESKTOP)
        context.add_cookies([{"name": settings.session_cookie_name, "value": token, "url": base}])
        page = context.new_page()
        lon, lat = b["points"][0]
        page.goto(f"{base}/planner#18/{lat:.7f}/{lon:.7f}")
        page.wait_for_selector('#map[data-state="ready"]', timeout=15_000)
        expect(page.locator("#edit")).to_be_visible(timeout=10_000)
        page.select_option("#edit-layer", "advertising_structures")
        page.click("#edit-toggle")
        page.wait_for_selector('li[data-layer="advertising_structures"][data-state="on"]',
                               timeout=20_000)  # fmt: skip
        expect(page.locator("#legend-foreign")).to_be_visible()
        page.focus("#map")
        page.keyboard.press("Enter")
        expect(page.locator("#attrs")).to_have_attribute("data-foreign", "true")
        expect(page.locator("#attrs-council")).to_contain_text(f"громаді {b_name}")
        expect(page.locator("#attrs-table")).to_contain_text("S-B")
        expect(page.locator("#edit-form")).to_be_hidden()
        expect(page.locator("#attrs-documents")).to_have_count(0)
        page.click("#edit-new")
        expect(page.locator("#edit")).to_have_attribute("data-refused", "outside_council")
        expect(page.locator("#edit-status")).to_contain_text(b_name)
        expect(page.locator("#edit-form")).to_be_hidden()
        assert not browser_log.errors, browser_log.errors
        # Nothing was sent to be refused: no 404 of the OGC items or the documents.
        assert not [f for f in browser_log.failed if "/ogc/" in f or "/planner/" in f]
