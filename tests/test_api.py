"""The HTTP API on a real PostGIS: /healthz and OGC API – Features under /ogc.

The read-only tests share one database with Kyiv's 10 districts imported from the real OSM
file; tests that change data get their own (`db_url`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from urllib.parse import urlsplit

import psycopg
import pytest
from conftest import create_database, drop_database
from fastapi.testclient import TestClient

from api import create_app
from gis.settings import Settings
from importers import run_import
from layers import InvalidParameter, Layer
from layers.features import fetch_items, parse_datetime, parse_items_query

DISTRICTS_FILE = "kyiv_districts_osm_overpass_2026-01-29.geojson"
GEOJSON = "application/geo+json"
PECHERSK = "Печерський район"
# A box around the Pechersk Lavra: inside Pechersk, not far from its neighbours' borders.
LAVRA_BBOX = "30.550,50.430,30.565,50.440"


def load_districts(url: str, shared_data) -> None:
    """Put Kyiv's districts in the database the way a city does: with the project's importer."""
    run_import(url, shared_data / DISTRICTS_FILE, "districts")


def make_client(url: str, **settings) -> TestClient:
    return TestClient(create_app(Settings(database_url=url, **settings)))


def path_of(href: str) -> str:
    """A link's path and query, to follow it with the test client."""
    parts = urlsplit(href)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.fixture(scope="module")
def kyiv_url(server_url, template_url, shared_data):
    name = "t_api_kyiv"
    url = create_database(server_url, name, template=urlsplit(template_url).path[1:])
    load_districts(url, shared_data)
    yield url
    drop_database(server_url, name)


@pytest.fixture(scope="module")
def client(kyiv_url):
    with make_client(kyiv_url) as c:
        yield c


# --- /healthz -----------------------------------------------------------------------------


def test_healthz_reports_database_and_postgis_versions(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["database"]["server_version"][:2].isdigit()
    assert body["database"]["postgis_version"].startswith("3.")


def test_healthz_is_503_quickly_when_the_database_is_unreachable():
    with make_client("postgresql://postgres@127.0.0.1:1/x", db_connect_timeout=1.0) as c:
        started = time.monotonic()
        r = c.get("/healthz")
        elapsed = time.monotonic() - started
    assert r.status_code == 503
    assert r.json()["code"] == "database_unavailable"
    assert r.json()["status"] == "unavailable"
    assert "База даних недоступна" in r.json()["detail"]
    assert elapsed < 5


def test_the_portal_page_is_served_while_the_database_is_down():
    with make_client("postgresql://postgres@127.0.0.1:1/x", db_connect_timeout=1.0) as c:
        assert c.get("/").status_code == 200


# --- landing page, conformance, collections ----------------------------------------------


def test_landing_page_links_to_api_description_conformance_and_collections(client):
    r = client.get("/ogc")
    assert r.status_code == 200
    links = {link["rel"]: link for link in r.json()["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= set(links)
    assert links["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    for link in links.values():
        followed = client.get(path_of(link["href"]))
        assert followed.status_code == 200, link


def test_api_description_is_openapi_30_and_declares_the_limits(client):
    doc = client.get("/ogc/api").json()
    assert doc["openapi"].startswith("3.0")
    params = doc["paths"]["/collections/{collectionId}/items"]["get"]["parameters"]
    limit = next(p for p in params if p["name"] == "limit")["schema"]
    assert (limit["default"], limit["maximum"]) == (100, 10_000)


def test_api_description_lists_part_4_writes_with_if_match(client):
    """OGC API – Features Part 4 (advertising structures and kiosks): POST items; PUT, PATCH,
    DELETE an item with If-Match; 201/200/204 and 412 (stale), 428 (no If-Match)."""
    doc = client.get("/ogc/api").json()
    items = doc["paths"]["/collections/{collectionId}/items"]
    item = doc["paths"]["/collections/{collectionId}/items/{featureId}"]
    assert {"get", "post"} <= set(items) and {"get", "put", "patch", "delete"} <= set(item)
    post = items["post"]
    created = post["responses"]["201"]
    assert {"Location", "ETag"} <= set(created["headers"])
    assert "application/geo+json" in post["requestBody"]["content"]
    assert "advertising_structures" in post["parameters"][0]["description"]
    for method, success in (("put", "200"), ("patch", "200"), ("delete", "204")):
        op = item[method]
        assert {success, "400", "401", "403", "404", "409", "412", "428"} <= set(op["responses"])
        if_match = next(p for p in op["parameters"] if p["name"] == "If-Match")
        assert if_match["in"] == "header" and if_match["required"] is True
        assert op["security"] == [{"bearerAuth": []}]
    assert "application/merge-patch+json" in item["patch"]["requestBody"]["content"]
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert len({op["operationId"] for path in doc["paths"].values() for op in path.values()}) == 12


def test_conformance_declares_core_geojson_and_oas30(client):
    classes = client.get("/ogc/conformance").json()["conformsTo"]
    base = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
    assert {base + "core", base + "geojson", base + "oas30"} <= set(classes)


def test_collections_list_every_public_core_layer_with_links(client):
    r = client.get("/ogc/collections")
    assert r.status_code == 200
    collections = {c["id"]: c for c in r.json()["collections"]}
    assert {
        "appeals",
        "districts",
        "hromadas",
        "wards",
        "advertising_structures",
        "kiosks",
    } <= set(collections)
    # The routing's territories are internal: staff see them, anonymous callers do not.
    assert "executor_territories" not in collections
    districts = collections["districts"]
    assert districts["title"] == "Райони"
    items = next(link for link in districts["links"] if link["rel"] == "items")
    assert items["type"] == GEOJSON
    minx, miny, maxx, maxy = districts["extent"]["spatial"]["bbox"][0]
    assert 30.2 < minx < maxx < 30.9 and 50.2 < miny < maxy < 50.6  # Kyiv
    assert "OpenStreetMap" in districts["attribution"]


def test_one_collection_is_described(client):
    r = client.get("/ogc/collections/districts")
    assert r.status_code == 200
    assert r.json()["id"] == "districts"


# --- items --------------------------------------------------------------------------------


def test_districts_are_the_ten_of_kyiv_with_their_public_properties(client):
    r = client.get("/ogc/collections/districts/items")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(GEOJSON)
    fc = r.json()
    assert fc["type"] == "FeatureCollection"
    assert fc["numberReturned"] == fc["numberMatched"] == len(fc["features"]) == 10
    assert fc["timeStamp"].endswith("Z")
    assert not any(link["rel"] == "next" for link in fc["links"])
    names = {f["properties"]["name"] for f in fc["features"]}
    assert PECHERSK in names and "Шевченківський район" in names and "Голосіївський район" in names
    for f in fc["features"]:
        assert set(f["properties"]) == {"id", "code", "name", "name_en"}
        assert f["properties"]["code"].startswith("UA80")
        assert f["geometry"]["type"] == "MultiPolygon"
        assert f["id"] == f["properties"]["id"]


def test_bbox_selects_the_districts_it_touches(client):
    fc = client.get(f"/ogc/collections/districts/items?bbox={LAVRA_BBOX}").json()
    names = {f["properties"]["name"] for f in fc["features"]}
    assert PECHERSK in names
    assert 1 <= len(names) < 10
    assert fc["numberMatched"] == len(names)

    lviv = client.get("/ogc/collections/districts/items?bbox=23.9,49.8,24.1,49.9").json()
    assert lviv["features"] == [] and lviv["numberMatched"] == 0


def test_limit_and_next_links_walk_every_feature_once(client):
    url, pages, ids = "/ogc/collections/districts/items?limit=3", 0, []
    while url:
        r = client.get(url)
        assert r.status_code == 200
        fc = r.json()
        assert fc["numberMatched"] == 10 and fc["numberReturned"] <= 3
        ids += [f["id"] for f in fc["features"]]
        pages += 1
        nxt = [link["href"] for link in fc["links"] if link["rel"] == "next"]
        url = path_of(nxt[0]) if nxt else None
        assert not nxt or "limit=3" in nxt[0]
    assert pages == 4
    assert len(ids) == len(set(ids)) == 10


def test_one_feature_by_id(client):
    first = client.get("/ogc/collections/districts/items?limit=1").json()["features"][0]
    r = client.get(f"/ogc/collections/districts/items/{first['id']}")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(GEOJSON)
    feature = r.json()
    assert feature["type"] == "Feature"
    assert feature["properties"] == first["properties"]
    assert {link["rel"] for link in feature["links"]} == {"self", "collection"}


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("bbox=1,2,3", "invalid_bbox"),
        ("bbox=a,b,c,d", "invalid_bbox"),
        ("bbox=30.8,50.2,30.2,50.6", "invalid_bbox"),
        ("bbox=nan,50.2,30.8,50.6", "invalid_bbox"),
        ("bbox=30.2,-91,30.8,50.6", "invalid_bbox"),
        ("limit=0", "invalid_limit"),
        ("limit=abc", "invalid_limit"),
        ("limit=10001", "invalid_limit"),
        ("limit=1.5", "invalid_limit"),
        ("after=x", "invalid_after"),
        ("datetime=yesterday", "invalid_datetime"),
        ("datetime=2026-01-01", "no_temporal_property"),
        ("colour=red", "unknown_parameter"),
        ("limit=1&limit=2", "repeated_parameter"),
        ("f=xml", "invalid_format"),
    ],
)
def test_invalid_parameters_are_400_with_a_message(client, query, code):
    r = client.get(f"/ogc/collections/districts/items?{query}")
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["code"] == code
    assert body["detail"] and body["parameter"] == query.split("=")[0]


def test_messages_are_ukrainian_unless_english_is_preferred(client):
    url = "/ogc/collections/districts/items?limit=abc"
    uk = client.get(url).json()["detail"]
    en = client.get(url, headers={"Accept-Language": "en-GB,en;q=0.9,uk;q=0.5"}).json()["detail"]
    also_uk = client.get(url, headers={"Accept-Language": "uk,en;q=0.7"}).json()["detail"]
    assert "Параметр limit" in uk and uk == also_uk
    assert en.startswith("Parameter limit must be an integer")


@pytest.mark.parametrize(
    "url",
    [
        "/ogc/collections/nowhere",
        "/ogc/collections/nowhere/items",
        "/ogc/collections/nowhere/items/1",
    ],
)
def test_unknown_collection_is_404(client, url):
    r = client.get(url)
    assert r.status_code == 404
    assert r.json()["code"] == "unknown_collection"
    assert "nowhere" in r.json()["detail"]


@pytest.mark.parametrize("feature_id", ["999999", "abc"])
def test_unknown_feature_is_404(client, feature_id):
    r = client.get(f"/ogc/collections/districts/items/{feature_id}")
    assert r.status_code == 404
    assert r.json()["code"] == "feature_not_found"


def test_unknown_path_is_a_json_404(client):
    r = client.get("/no/such/page")
    assert r.status_code == 404
    assert r.json()["code"] == "not_found"


# --- what is served depends on the data ---------------------------------------------------


def test_only_current_versions_of_districts_are_served(db_url, shared_data):
    load_districts(db_url, shared_data)
    with psycopg.connect(db_url, autocommit=True) as conn:
        closed = conn.execute(
            "UPDATE districts SET valid_to = now() WHERE name = %s RETURNING id", (PECHERSK,)
        ).fetchone()[0]
    with make_client(db_url) as c:
        fc = c.get("/ogc/collections/districts/items").json()
        assert fc["numberMatched"] == 9
        assert PECHERSK not in {f["properties"]["name"] for f in fc["features"]}
        assert c.get(f"/ogc/collections/districts/items/{closed}").status_code == 404


def test_an_imported_thematic_layer_is_served_whole(db_url, shared_data):
    path = shared_data / "kyiv_abandoned_buildings_osm_2016.geojson"
    run_import(db_url, path, "abandoned_buildings", title="Покинуті будівлі")
    with make_client(db_url) as c:
        collections = {col["id"]: col for col in c.get("/ogc/collections").json()["collections"]}
        assert collections["abandoned_buildings"]["title"] == "Покинуті будівлі"
        url, features = "/ogc/collections/abandoned_buildings/items?limit=200", []
        while url:
            fc = c.get(url).json()
            features += fc["features"]
            nxt = [link["href"] for link in fc["links"] if link["rel"] == "next"]
            url = path_of(nxt[0]) if nxt else None
        assert len(features) == fc["numberMatched"] == 310
        assert {f["geometry"]["type"] for f in features} >= {"Polygon", "LineString"}
        assert any("непридатн" in f["properties"].get("note", "") for f in features)


def test_layers_that_are_not_public_are_not_served(db_url):
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO layers (name, title, geometry_type, kind, is_public) "
            "VALUES ('secret', 'Не для всіх', 'Point', 'thematic', false), "
            "       ('kiosks', 'МАФ', 'Point', 'core', false)"
        )
        conn.execute(
            "INSERT INTO layer_features (layer_name, feature_key, content_hash, geom) "
            "VALUES ('secret', 'node/2', 'h', ST_Point(30.5, 50.4, 4326))"
        )
    with make_client(db_url) as c:
        ids = [col["id"] for col in c.get("/ogc/collections").json()["collections"]]
        assert "secret" not in ids and "kiosks" not in ids  # a thematic and a core layer
        assert "districts" in ids
        assert c.get("/ogc/collections/secret/items").status_code == 404
        assert c.get("/ogc/collections/kiosks/items").status_code == 404


# --- datetime (no core layer has a temporal property yet: appeals will) -------------------


def test_datetime_accepts_instants_dates_and_open_intervals():
    utc = dt.UTC
    assert parse_datetime("2026-03-01T10:00:00Z") == (
        dt.datetime(2026, 3, 1, 10, tzinfo=utc),
        dt.datetime(2026, 3, 1, 10, tzinfo=utc),
    )
    start, end = parse_datetime("2026-03-01")
    assert (start, end.date(), end.hour) == (dt.datetime(2026, 3, 1, tzinfo=utc), start.date(), 23)
    assert parse_datetime("../2026-01-01")[0] is None
    assert parse_datetime("2026-01-01T00:00:00+02:00/")[1] is None
    for bad in ("../..", "2026-02-01/2026-01-01", "2026-13-01", "a/b/c"):
        with pytest.raises(InvalidParameter):
            parse_datetime(bad)


def test_datetime_filters_a_layer_on_its_datetime_column(db_url):
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("INSERT INTO layers (name, title, geometry_type) VALUES ('t', 'T', 'Point')")
        conn.execute(
            "INSERT INTO layer_features (layer_name, feature_key, content_hash, geom, updated_at) "
            "SELECT 't', d::text, 'h', ST_Point(30.5, 50.4, 4326), d "
            "FROM generate_series('2026-01-01'::timestamptz, '2026-01-10', '1 day') AS d"
        )
    layer = Layer(
        id="t", title="T", title_en=None, table="layer_features", properties_column="properties",
        layer_name="t", datetime_column="updated_at",
    )  # fmt: skip

    async def matched(value: str) -> int:
        query = parse_items_query([("datetime", value)], layer)
        async with await psycopg.AsyncConnection.connect(db_url) as conn:
            return (await fetch_items(conn, layer, query)).number_matched

    assert asyncio.run(matched("2026-01-03")) == 1
    assert asyncio.run(matched("2026-01-03/2026-01-05")) == 3
    assert asyncio.run(matched("../2026-01-02")) == 2
    assert asyncio.run(matched("2026-01-09T00:00:00Z/..")) == 2
