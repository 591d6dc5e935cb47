"""Councils as tenants, the public and reporting side (issue 17, slice C): the report `councils`
(JSON and the oblast's choropleth GeoJSON), `?council=` on the reports, the public feed, its
statistics and open data, and Open311's `jurisdiction_id` — on two real neighbouring councils
of Zaporizhzhia oblast (Запорізька and Кушугумська, their polygons from the Minregion file)
built here by SQL, with appeals in each."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import itertools
import json
import os
import time

import psycopg
import pytest
import staff
from conftest import create_database, drop_database
from fastapi.testclient import TestClient

from api import create_app
from gis import open311_clients
from gis.db import libpq_url
from gis.settings import Settings

FILE = "zaporizka_hromadas_minregion_atu_simplified_2024-04-28.geojson"
A_CODE, B_CODE = "UA23060070000082704", "UA23060110000049870"  # Запорізька, Кушугумська
A_SLUG, B_SLUG = "zaporizka", "kushuhumska"
_counter = itertools.count()

# Per council: (number, status, days since registration, due in days from registration,
# answered after days or None, public).
APPEALS = {
    A_CODE: [
        ("ЗП-П-1", "registered", 2, 15, None, True),
        ("ЗП-П-2", "in_work", 30, 15, None, True),  # overdue now
        ("ЗП-П-3", "closed", 20, 15, 5, True),  # on time
        ("ЗП-П-4", "closed", 40, 15, 25, False),  # late
    ],
    B_CODE: [
        ("КШ-П-5", "registered", 1, 15, None, True),
        ("КШ-П-6", "closed", 10, 15, 3, True),
    ],
}


def sql(url: str, query: str, params=None) -> list[tuple]:
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else []


def build(url: str, shared_data) -> dict[str, int]:
    """Two hromadas of the oblast's file, their councils, a category, an executor each and
    the appeals of APPEALS located in each (a point on the polygon's surface)."""
    features = {
        f["properties"]["katottg"]: f
        for f in json.loads((shared_data / FILE).read_text())["features"]
    }
    ids: dict[str, int] = {}
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        for code, slug, name, prefix in ((A_CODE, A_SLUG, "Запорізька", "ЗП"),
                                         (B_CODE, B_SLUG, "Кушугумська", "КШ")):  # fmt: skip
            conn.execute(
                "INSERT INTO hromadas (code, name, geom) VALUES (%s, %s,"
                " ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(%s), 4326)))",
                (code, name, json.dumps(features[code]["geometry"])),
            )
            ids[code] = conn.execute(
                "INSERT INTO councils (code, slug, name, number_prefix) VALUES (%s, %s, %s, %s)"
                " RETURNING id",
                (code, slug, name, prefix),
            ).fetchone()[0]
        category = conn.execute(
            "INSERT INTO categories (code, name) VALUES ('k', 'Благоустрій') RETURNING id"
        ).fetchone()[0]
        now = dt.datetime.now(dt.UTC)
        for code, rows in APPEALS.items():
            executor = conn.execute(
                "INSERT INTO executors (code, name, kind, council_id) VALUES (%s, %s, 'utility',"
                " %s) RETURNING id",
                (f"e-{code}", f"Виконавець {code}", ids[code]),
            ).fetchone()[0]
            for number, status, age, due, answered, public in rows:
                created = now - dt.timedelta(days=age)
                answered_at = created + dt.timedelta(days=answered) if answered else None
                conn.execute(
                    "INSERT INTO appeals (number, category_id, text, channel, status, created_at,"
                    " deadline_at, answered_at, closed_at, is_public, executor_id, council_id,"
                    " geom) VALUES (%s, %s, 'Текст', 'site', %s, %s, %s, %s, %s, %s, %s, %s,"
                    " (SELECT ST_PointOnSurface(geom) FROM hromadas WHERE code = %s))",
                    (number, category, status, created, created + dt.timedelta(days=due),
                     answered_at, answered_at, public, executor, ids[code], code),
                )  # fmt: skip
    return ids


@pytest.fixture(scope="module")
def two(server_url, template_url, shared_data):
    name = f"t_council_reports_{os.getpid()}_{next(_counter)}"
    url = create_database(server_url, name, template=template_url.rpartition("/")[2])
    try:
        yield url, build(url, shared_data)
    finally:
        drop_database(server_url, name)


@pytest.fixture(scope="module")
def client(two, tmp_path_factory):
    settings = Settings(database_url=two[0], data_dir=tmp_path_factory.mktemp("council_reports"),
                        rate_limits_enabled=False)  # fmt: skip
    with TestClient(create_app(settings)) as c:
        yield c


def bearer(url: str, role: str, council_id: int | None, executor_id: int | None = None) -> dict:
    """A new confirmed account of `role` in the council (None: oblast staff; an executor:
    its organisation's)."""
    return staff.bearer(url, role, label="council", council_id=council_id, executor_id=executor_id)


def expected(code: str) -> dict:
    rows = APPEALS[code]
    answered = [r for r in rows if r[4] is not None]
    on_time = [r for r in answered if r[4] <= r[3]]
    return {
        "council_code": code,
        "received": len(rows),
        "in_work": sum(r[1] != "closed" for r in rows),
        "overdue": sum(r[1] != "closed" and r[2] > r[3] for r in rows),
        "answered": len(answered),
        "answered_on_time": len(on_time),
        "on_time_share": round(len(on_time) / len(answered), 3) if answered else None,
    }


def _figures(row: dict) -> dict:
    return {k: row[k] for k in expected(A_CODE)}


def test_the_councils_report_for_the_public_json_and_geojson(client):
    r = client.get("/api/v1/reports/councils")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["scope"] == "public"
    assert r.headers["cache-control"] == "public, max-age=300"
    rows = {row["council_code"]: row for row in body["rows"]}
    assert set(rows) == {A_CODE, B_CODE}
    for code in (A_CODE, B_CODE):
        assert _figures(rows[code]) == expected(code)
    assert rows[A_CODE]["council"] == "Запорізька" and rows[A_CODE]["occupied"] is False
    # The median of 5 and 25 days.
    assert rows[A_CODE]["median_days"] == pytest.approx(15.0, abs=0.1)
    assert body["totals"]["received"] == 6 and body["totals"]["on_time_share"] == 0.667

    r = client.get("/api/v1/reports/councils?format=geojson", headers={"Accept-Language": "en"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/geo+json")
    geo = r.json()
    assert geo["type"] == "FeatureCollection" and geo["scope"] == "public"
    features = {f["id"]: f for f in geo["features"]}
    assert set(features) == {A_CODE, B_CODE}
    for code, feature in features.items():
        assert feature["geometry"]["type"] == "MultiPolygon"
        assert _figures(feature["properties"]) == expected(code)
    # The JSON carries no polygons.
    assert "geometries" not in body


def test_a_council_is_a_filter_of_every_public_report(client):
    r = client.get(f"/api/v1/reports/councils?council={B_SLUG}")
    assert [row["council_code"] for row in r.json()["rows"]] == [B_CODE]
    r = client.get(f"/api/v1/reports/channels?council={A_CODE.lower()}")
    assert r.json()["totals"]["received"] == 4
    both = client.get(f"/api/v1/reports/channels?council={A_SLUG},{B_CODE}").json()
    assert both["totals"]["received"] == 6
    hexagons = client.get(f"/api/v1/reports/hexagons?council={B_SLUG}&size=5000").json()
    assert hexagons["totals"]["received"] == 2
    # Ward numbers are a council's: none in these councils.
    r = client.get(f"/api/v1/reports/channels?council={B_SLUG}&ward=1")
    assert r.status_code == 400 and r.json()["code"] == "unknown_ward"
    r = client.get("/api/v1/reports/channels?council=no-such-council")
    assert r.status_code == 404 and r.json()["code"] == "council_not_found"


def test_oblast_staff_read_every_council_and_a_council_admin_its_own(client, two):
    url, ids = two
    oblast = bearer(url, "admin", None)
    body = client.get("/api/v1/reports/councils", headers=oblast).json()
    assert body["scope"] == "oblast"
    assert {row["council_code"] for row in body["rows"]} == {A_CODE, B_CODE}
    assert (
        client.get("/api/v1/reports/councils", headers=oblast).headers["cache-control"]
        == "private, no-store"
    )

    own = bearer(url, "admin", ids[A_CODE])
    body = client.get("/api/v1/reports/councils", headers=own).json()
    assert body["scope"] == "council"
    assert [_figures(row) for row in body["rows"]] == [expected(A_CODE)]
    geo = client.get("/api/v1/reports/councils?format=geojson", headers=own).json()
    assert [f["id"] for f in geo["features"]] == [A_CODE]
    # Every report of a council's admin holds its council only; the filter cannot widen it.
    assert client.get("/api/v1/reports/channels", headers=own).json()["totals"]["received"] == 4
    r = client.get(f"/api/v1/reports/channels?council={B_SLUG}", headers=own)
    assert r.json()["totals"]["received"] == 0
    overdue = client.get("/api/v1/reports/overdue", headers=own).json()
    assert [row["number"] for row in overdue["rows"]] == ["ЗП-П-2"]


def _total(client, path: str, council: str | None = None) -> int:
    query = "?period=all" + (f"&council={council}" if council else "")
    r = client.get(f"/api/v1/appeals/public{path}{query}")
    assert r.status_code == 200, r.text
    return r.json()["total"]


def test_the_feed_and_its_statistics_by_council(client, two):
    for path in ("", "/statistics"):
        whole, a, b = (_total(client, path, c) for c in (None, A_SLUG, B_CODE))
        assert (whole, a, b) == (6, 4, 2)
        assert _total(client, path, f"{A_SLUG},{B_SLUG}") == whole
    r = client.get(f"/api/v1/appeals/public?period=all&council={B_SLUG}")
    assert {i["number"] for i in r.json()["items"]} == {"КШ-П-5", "КШ-П-6"}
    assert r.json()["filters"]["council"] == B_SLUG
    assert client.get("/api/v1/appeals/public?council=nowhere").status_code == 404
    assert client.get("/api/v1/appeals/public?council=").status_code == 400

    # The caches key the council: a new appeal in A shows in A's and the oblast's totals,
    # not in B's.
    url, ids = two
    sql(url, "INSERT INTO appeals (number, category_id, text, channel, deadline_at, council_id)"
             " SELECT 'ЗП-П-9', id, 'Текст', 'site', now() + interval '15 days', %s"
             " FROM categories LIMIT 1", (ids[A_CODE],))  # fmt: skip
    deadline = time.monotonic() + 10
    while _total(client, "/statistics", A_SLUG) != 5 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _total(client, "/statistics", A_SLUG) == 5
    assert _total(client, "/statistics") == 7
    assert _total(client, "/statistics", B_SLUG) == 2
    sql(url, "DELETE FROM appeals WHERE number = 'ЗП-П-9'")


def test_open_data_by_council_names_the_council_as_the_city(client):
    r = client.get(f"/api/v1/opendata/appeals.csv?council={A_SLUG}")
    assert r.status_code == 200, r.text
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert sorted(row["uid"] for row in rows) == ["ЗП-П-1", "ЗП-П-2", "ЗП-П-3", "ЗП-П-4"]
    assert {row["addressAdminUnitL2"] for row in rows} == {"Запорізька"}
    r = client.get(f"/api/v1/opendata/appeals.geojson?council={B_CODE}")
    features = r.json()["features"]
    assert sorted(f["properties"]["uid"] for f in features) == ["КШ-П-5", "КШ-П-6"]
    assert {f["properties"]["addressPostName"] for f in features} == {"Кушугумська"}
    whole = client.get("/api/v1/opendata/appeals.geojson").json()["features"]
    assert len(whole) == len(rows) + len(features)


def test_open311_jurisdiction_is_a_council(client):
    r = client.get(f"/open311/v2/requests.json?jurisdiction_id={B_CODE}")
    assert r.status_code == 200, r.text
    assert {x["service_request_id"] for x in r.json()} == {"КШ-П-5", "КШ-П-6"}
    r = client.get("/open311/v2/requests.json")
    assert len(r.json()) == 6
    # A's number asked in B's jurisdiction is not found there.
    assert (
        client.get(f"/open311/v2/requests/ЗП-П-1.json?jurisdiction_id={B_CODE}").status_code == 404
    )
    assert (
        client.get(f"/open311/v2/requests/ЗП-П-1.json?jurisdiction_id={A_CODE}").status_code == 200
    )
    assert client.get("/open311/v2/requests.json?jurisdiction_id=UA00").status_code == 404
    services = client.get(f"/open311/v2/services.json?jurisdiction_id={A_CODE}").json()
    assert [s["service_name"] for s in services] == ["Благоустрій"]


def test_open311_post_in_a_jurisdiction_must_lie_in_it(db_url, shared_data, tmp_path):
    """On a database of its own: the appeal it files would change the other tests' counts."""
    url = db_url
    build(url, shared_data)
    settings = Settings(database_url=url, data_dir=tmp_path, rate_limits_enabled=False)
    with TestClient(create_app(settings)) as client:
        _post_in_jurisdiction(client, url)


def _post_in_jurisdiction(client, url: str) -> None:

    async def new_key() -> str:
        async with await psycopg.AsyncConnection.connect(libpq_url(url), autocommit=True) as c:
            return (await open311_clients.create_client(c, "Застосунок області"))["key"]

    key = asyncio.run(new_key())
    (lon, lat), category = (
        sql(url, "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p"
                 " FROM hromadas WHERE code = %s) x", (B_CODE,))[0],
        sql(url, "SELECT id FROM categories LIMIT 1")[0][0],
    )  # fmt: skip
    body = {
        "api_key": key, "jurisdiction_id": A_CODE, "service_code": str(category),
        "lat": str(lat), "long": str(lon), "description": "Яма на дорозі біля зупинки.",
        "last_name": "Приходько", "email": "oksana@example.com",
        "attribute[author_address]": "м. Запоріжжя, вул. Соборна, 1",
    }  # fmt: skip
    before = sql(url, "SELECT count(*) FROM appeals")[0][0]
    r = client.post("/open311/v2/requests.json", data=body)
    assert r.status_code == 400, r.text
    assert B_CODE not in r.text and A_CODE in r.text
    assert sql(url, "SELECT count(*) FROM appeals")[0][0] == before
    # In its own jurisdiction the same point files an appeal of that council.
    r = client.post("/open311/v2/requests.json", data={**body, "jurisdiction_id": B_CODE})
    assert r.status_code == 201, r.text
    number = r.json()[0]["service_request_id"]
    assert number.startswith("КШ-")
    assert sql(url, "SELECT k.code FROM appeals a JOIN councils k ON k.id = a.council_id"
                    " WHERE a.number = %s", (number,)) == [(B_CODE,)]  # fmt: skip
