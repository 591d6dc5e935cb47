"""OGC API – Features, Part 1 Core, on the demo city: the abstract test suite's requirements
walked one by one (/req/core/…), the appeals collection with its datetime and property
filters, paging both ways, per-role layers and properties, and GDAL's OAPIF driver (what
QGIS uses) reading every collection from a live server.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import os
import re
import shutil
import subprocess
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
from conftest import demo_city
from fastapi.testclient import TestClient
from live import serve

from api import create_app
from gis import accounts
from gis.db import libpq_url
from gis.embedded import free_port
from gis.settings import Settings
from layers.changes import EVERY_LAYER, LayerChange, LayerChanges
from layers.features import CountCache

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
GEOJSON = "application/geo+json"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
_counter = itertools.count()


@pytest.fixture(scope="module")
def demo_url(server_url, template_url, shared_data):
    with demo_city(
        server_url, template_url, shared_data, "ogc", seed=11, appeals=1500, now=NOW
    ) as url:
        yield url


@pytest.fixture(scope="module")
def client(demo_url):
    with TestClient(create_app(Settings(database_url=demo_url))) as c:
        yield c


def sql_one(url: str, query: str, *args):
    with psycopg.connect(url) as conn:
        return conn.execute(query, args).fetchone()[0]


def path_of(href: str) -> str:
    parts = urlsplit(href)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def rels(doc: dict) -> dict[str, dict]:
    return {link["rel"]: link for link in doc["links"]}


def staff_token(url: str, role: str = "operator") -> str:
    async def make():
        async with await psycopg.AsyncConnection.connect(libpq_url(url), autocommit=True) as c:
            user_id = await accounts.create_user(
                c, email=f"{role}-{next(_counter)}@ogc.test", password=None,
                full_name="Тест", role=role, confirmed=True,
            )  # fmt: skip
            session = await accounts.create_session(
                c, user_id=user_id, kind="bearer", ip=None, user_agent="pytest",
                ttl=dt.timedelta(hours=1),
            )  # fmt: skip
            return session.token

    return asyncio.run(make())


# --- /req/core: landing page, conformance, collections ------------------------------------


def test_root_links_self_service_desc_conformance_and_data(client):
    r = client.get("/ogc")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    links = rels(r.json())
    assert {"self", "service-desc", "conformance", "data"} <= set(links)
    assert links["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    api = client.get(path_of(links["service-desc"]["href"]))
    assert api.status_code == 200 and api.json()["openapi"].startswith("3.0")
    paths = api.json()["paths"]
    assert "/collections/{collectionId}/queryables" in paths
    names = {p["name"] for p in paths["/collections/{collectionId}/items"]["get"]["parameters"]}
    assert {"bbox", "datetime", "limit", "status", "category", "district", "executor"} <= names
    assert client.get(path_of(links["conformance"]["href"])).status_code == 200


def test_the_landing_page_answers_with_and_without_the_slash(client):
    plain = client.get("/ogc", follow_redirects=False)
    slash = client.get("/ogc/", follow_redirects=False)
    assert plain.status_code == slash.status_code == 200
    assert plain.json() == slash.json()


def test_links_are_built_on_the_public_base_url_never_on_the_host_header(demo_url):
    base = "https://gis.hromada.test"
    settings = Settings(database_url=demo_url, public_base_url=base + "/")
    with TestClient(create_app(settings)) as c:
        evil = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
        hrefs = [link["href"] for link in c.get("/ogc", headers=evil).json()["links"]]
        hrefs += [link["href"] for link in c.get("/ogc/collections", headers=evil).json()["links"]]
        for collection in c.get("/ogc/collections", headers=evil).json()["collections"]:
            hrefs += [link["href"] for link in collection["links"]]
        page = c.get("/ogc/collections/appeals/items?limit=2&status=closed", headers=evil).json()
        hrefs += [link["href"] for link in page["links"]]
        one = c.get(f"/ogc/collections/appeals/items/{page['features'][0]['id']}", headers=evil)
        hrefs += [link["href"] for link in one.json()["links"]]
        hrefs.append(c.get("/ogc/collections/appeals/queryables", headers=evil).json()["$id"])
        hrefs += [s["url"] for s in c.get("/ogc/api", headers=evil).json()["servers"]]
        feed = c.get("/api/v1/appeals/public?limit=1", headers=evil).json()["links"]
        hrefs += [h for h in feed.values() if h]
        tilejson = c.get("/tiles/appeals/tilejson.json", headers=evil).json()
        hrefs += tilejson["tiles"]
        page_html = c.get("/", headers=evil).text
    assert len(hrefs) > 20
    assert all(h.startswith(base + "/") for h in hrefs), [h for h in hrefs if "evil" in h]
    links = rels(page)
    assert links["self"]["href"] == f"{base}/ogc/collections/appeals/items?limit=2&status=closed"
    assert links["next"]["href"].startswith(f"{base}/ogc/collections/appeals/items?")
    assert "evil.example" not in page_html  # the portal's own links are root-relative


def test_every_collection_has_an_id_links_and_an_extent(client):
    collections = client.get("/ogc/collections").json()["collections"]
    assert [c["id"] for c in collections][:1] == ["appeals"]
    for c in collections:
        links = rels(c)
        assert {"self", "items", "http://www.opengis.net/def/rel/ogc/1.0/queryables"} <= set(
            links
        ), c["id"]
        assert links["items"]["type"] == GEOJSON
        minx, miny, maxx, maxy = c["extent"]["spatial"]["bbox"][0]
        assert 29 < minx <= maxx < 32 and 49 < miny <= maxy < 52, c["id"]
        single = client.get(f"/ogc/collections/{c['id']}")
        assert single.status_code == 200 and single.json()["id"] == c["id"]
    appeals = next(c for c in collections if c["id"] == "appeals")
    start, end = appeals["extent"]["temporal"]["interval"][0]
    assert start < end  # the first and the latest appeal


def test_items_response_carries_the_counts_timestamp_and_links(client, demo_url):
    r = client.get("/ogc/collections/appeals/items?limit=7")
    assert r.status_code == 200 and r.headers["content-type"] == GEOJSON
    page = r.json()
    assert page["type"] == "FeatureCollection"
    assert page["numberReturned"] == len(page["features"]) == 7
    assert page["numberMatched"] == sql_one(demo_url, "SELECT count(*) FROM appeals")
    assert RFC3339.match(page["timeStamp"])
    links = rels(page)
    assert links["self"]["type"] == GEOJSON and "next" in links and "prev" not in links
    feature = page["features"][0]
    assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Point"
    one = client.get(f"/ogc/collections/appeals/items/{feature['id']}")
    assert one.status_code == 200 and one.headers["content-type"] == GEOJSON
    assert one.json()["properties"]["number"] == feature["properties"]["number"]
    assert {"self", "collection"} <= set(rels(one.json()))


def test_limit_has_a_default_and_a_maximum(client):
    assert client.get("/ogc/collections/appeals/items").json()["numberReturned"] == 100
    for bad in ("0", "10001", "-1", "ten"):
        r = client.get(f"/ogc/collections/appeals/items?limit={bad}")
        assert r.status_code == 400 and r.json()["parameter"] == "limit"


def test_paging_forward_and_back_visits_every_feature_once(client):
    url = "/ogc/collections/appeals/items?limit=40&status=closed&datetime=2026-09-01/.."
    pages, seen = [], []
    while url:
        page = client.get(url).json()
        pages.append(page)
        seen += [f["id"] for f in page["features"]]
        url = path_of(rels(page)["next"]["href"]) if "next" in rels(page) else None
    assert len(seen) == len(set(seen)) == pages[0]["numberMatched"] > 80
    # appeals are paged in time order (then by id), so a period is read along its index
    times = [f["properties"]["created_at"] for page in pages for f in page["features"]]
    order = list(zip(times, seen, strict=True))
    assert order == sorted(order)
    # and back from the last page to the first, page by page
    back = pages[-1]
    for expected in reversed(pages[:-1]):
        back = client.get(path_of(rels(back)["prev"]["href"])).json()
        assert [f["id"] for f in back["features"]] == [f["id"] for f in expected["features"]]
    assert "prev" not in rels(back) or back["features"][0]["id"] == seen[0]


def test_bbox_keeps_only_features_inside(client, demo_url):
    bbox = (30.50, 50.43, 30.54, 50.46)
    r = client.get("/ogc/collections/appeals/items?limit=10000&bbox=" + ",".join(map(str, bbox)))
    features = r.json()["features"]
    assert features
    for f in features:
        lon, lat = f["geometry"]["coordinates"]
        assert bbox[0] <= lon <= bbox[2] and bbox[1] <= lat <= bbox[3]
    expected = sql_one(
        demo_url,
        "SELECT count(*) FROM appeals WHERE ST_Intersects(geom, ST_MakeEnvelope(%s,%s,%s,%s,4326))",
        *bbox,
    )
    assert r.json()["numberMatched"] == len(features) == expected


@pytest.mark.parametrize(
    "value, where",
    [
        ("2026-10-15", "created_at >= '2026-10-15' AND created_at < '2026-10-16'"),
        ("2026-10-01/2026-10-07", "created_at >= '2026-10-01' AND created_at < '2026-10-08'"),
        ("../2026-06-30T12:00:00Z", "created_at <= '2026-06-30T12:00:00Z'"),
        ("2026-10-20T00:00:00+03:00/..", "created_at >= '2026-10-20T00:00:00+03:00'"),
        ("2026-10-20/", "created_at >= '2026-10-20'"),
    ],
)
def test_datetime_instants_and_intervals_filter_appeals(client, demo_url, value, where):
    expected = sql_one(demo_url, f"SELECT count(*) FROM appeals WHERE {where}")
    r = client.get(f"/ogc/collections/appeals/items?limit=1&datetime={value.replace('+', '%2B')}")
    assert r.status_code == 200, r.text
    assert r.json()["numberMatched"] == expected > 0


def test_property_filters_by_id_name_and_several_values(client, demo_url):
    category_id, category = sql_one(
        demo_url,
        "SELECT ARRAY[c.id::text, c.name] FROM appeals a JOIN categories c ON c.id = a.category_id"
        " GROUP BY c.id ORDER BY count(*) DESC LIMIT 1",
    )
    district_id, district = sql_one(
        demo_url, "SELECT ARRAY[id::text, name] FROM districts WHERE name LIKE 'Печерськ%%'"
    )
    count = "SELECT count(*) FROM appeals WHERE "

    def matched(query: str) -> int:
        r = client.get(f"/ogc/collections/appeals/items?limit=1&{query}")
        assert r.status_code == 200, r.text
        return r.json()["numberMatched"]

    by_category = sql_one(demo_url, count + "category_id = %s", int(category_id))
    assert matched(f"category={category_id}") == matched(f"category={category}") == by_category
    assert matched(f"district={district}") == sql_one(
        demo_url, count + "district_id = %s", int(district_id)
    )
    assert matched("status=registered,in_work") == sql_one(
        demo_url, count + "status IN ('registered', 'in_work')"
    )
    both = sql_one(
        demo_url,
        count + "category_id = %s AND status = 'closed' AND created_at >= '2026-10-01'",
        int(category_id),
    )
    assert matched(f"category={category_id}&status=closed&datetime=2026-10-01/..") == both
    executor = sql_one(
        demo_url, "SELECT executor_id FROM appeals GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    )
    assert matched(f"executor={executor}") == sql_one(
        demo_url, count + "executor_id = %s", executor
    )
    page = client.get(
        f"/ogc/collections/appeals/items?limit=50&status=closed&category={category_id}"
    )
    for f in page.json()["features"]:
        assert f["properties"]["status"] == "closed"
        assert f["properties"]["category_id"] == int(category_id)


@pytest.mark.parametrize(
    "query, parameter",
    [
        ("status=lost", "status"),
        ("ward=first", "ward"),
        ("kind=complaints,", "kind"),
        ("colour=red", "colour"),
        ("datetime=2026-13-01", "datetime"),
        ("bbox=30,50,31", "bbox"),
        ("after=2026-10-01T00:00:00Z~1&before=2026-10-02T00:00:00Z~9", "before"),
        ("after=17", "after"),
        ("before=x", "before"),
        ("limit=1&limit=2", "limit"),
    ],
)
def test_bad_parameters_are_400_with_a_message_in_the_callers_language(client, query, parameter):
    r = client.get(f"/ogc/collections/appeals/items?{query}")
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["parameter"] == parameter
    assert re.search("[а-яіїє]", body["detail"])  # Ukrainian by default
    en = client.get(f"/ogc/collections/appeals/items?{query}", headers={"Accept-Language": "en"})
    assert en.status_code == 400 and not re.search("[а-яіїє]", en.json()["detail"])


def test_datetime_on_a_layer_without_time_is_400(client):
    r = client.get("/ogc/collections/districts/items?datetime=2026-01-01")
    assert r.status_code == 400 and r.json()["parameter"] == "datetime"


def test_queryables_describe_the_filters(client):
    r = client.get("/ogc/collections/appeals/queryables")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/schema+json")
    schema = r.json()
    assert schema["type"] == "object" and schema["$id"].endswith("/appeals/queryables")
    props = schema["properties"]
    assert {"status", "kind", "category", "district", "ward", "executor", "datetime"} <= set(props)
    assert props["status"]["enum"] == ["registered", "in_work", "on_check", "rework", "closed"]
    assert set(client.get("/ogc/collections/districts/queryables").json()["properties"]) == {
        "geometry"
    }


# --- roles: which layers, which properties ------------------------------------------------


def test_staff_see_internal_layers_and_properties_anonymous_callers_do_not(client, demo_url):
    anonymous = client.get("/ogc/collections/appeals/items?limit=5").json()["features"]
    assert "routing_reason" not in anonymous[0]["properties"]
    assert "executor_id" not in anonymous[0]["properties"]
    assert client.get("/ogc/collections/executor_territories").status_code == 404
    assert client.get("/ogc/collections/executor_territories/items").status_code == 404

    headers = {"Authorization": f"Bearer {staff_token(demo_url)}"}
    staff = client.get("/ogc/collections/appeals/items?limit=5", headers=headers).json()
    assert staff["features"][0]["properties"]["routing_reason"]
    territories = client.get("/ogc/collections/executor_territories/items", headers=headers)
    assert territories.status_code == 200 and territories.json()["numberMatched"] > 0
    ids = {c["id"] for c in client.get("/ogc/collections", headers=headers).json()["collections"]}
    assert "executor_territories" in ids

    planner = {"Authorization": f"Bearer {staff_token(demo_url, 'planner')}"}
    seen = client.get("/ogc/collections/appeals/items?limit=5", headers=planner).json()
    assert "routing_reason" not in seen["features"][0]["properties"]


def test_appeal_text_is_served_only_when_its_author_consented(client, demo_url):
    with psycopg.connect(demo_url, autocommit=True) as conn:
        conn.execute("UPDATE appeals SET is_public = (id % 2 = 0) WHERE id <= 20")
    features = client.get("/ogc/collections/appeals/items?limit=20").json()["features"]
    for f in features:
        if f["id"] % 2:
            assert f["properties"]["text"] is None
        else:
            assert f["properties"]["text"]


# --- change notices and caches --------------------------------------------------------------


def test_a_change_notice_bumps_the_layer_generation_and_reaches_subscribers():
    changes, heard = LayerChanges(), []
    changes.subscribe(heard.append)
    before = changes.generation("appeals")
    changes.changed_payload('{"layer": "appeals", "bbox": [30.5, 50.4, 30.6, 50.5]}')
    assert changes.generation("appeals") != before
    assert heard == [LayerChange("appeals", (30.5, 50.4, 30.6, 50.5))]
    changes.changed_payload("not json")
    assert heard[-1] == LayerChange(EVERY_LAYER, None)
    assert changes.generation("kiosks")[0] == 1  # 'everything' moved every layer on


def test_the_database_announces_writes_to_the_server(demo_url, client):
    changes = client.app.state.layer_changes
    before = changes.generation("kiosks")
    with psycopg.connect(demo_url, autocommit=True) as conn:
        conn.execute("UPDATE kiosks SET owner = owner WHERE id = (SELECT min(id) FROM kiosks)")
    deadline = dt.datetime.now() + dt.timedelta(seconds=5)
    while changes.generation("kiosks") == before and dt.datetime.now() < deadline:
        client.get("/healthz")  # lets the app's event loop run its listener
    assert changes.generation("kiosks") != before


def test_large_counts_are_kept_until_the_layer_changes():
    cache = CountCache(size=2)
    cache.put(("appeals", (0, 1), "", None), 3_000_000)
    assert cache.get(("appeals", (0, 1), "", None)) == 3_000_000
    assert cache.get(("appeals", (0, 2), "", None)) is None  # a new generation misses
    cache.put(("a",), 1)
    cache.put(("b",), 2)
    assert cache.get(("appeals", (0, 1), "", None)) is None  # evicted, least recently used


# --- GDAL's OAPIF driver (QGIS) -------------------------------------------------------------

OGRINFO = shutil.which("ogrinfo") or "ogrinfo"  # installed by `make test` (gdal-bin)


def _ogrinfo(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [OGRINFO, "-ro", *args], capture_output=True, text=True, timeout=120,
        env={**os.environ, "GDAL_HTTP_TIMEOUT": "60", **(env or {})},
    )  # fmt: skip


def test_gdal_lists_and_reads_every_collection_and_lets_the_server_apply_datetime(demo_url):
    port = free_port()  # GDAL follows the links, which are built on public_base_url
    app = create_app(Settings(database_url=demo_url, public_base_url=f"http://127.0.0.1:{port}"))
    with serve(app, port) as base:
        ids = [x["id"] for x in httpx.get(f"{base}/ogc/collections").json()["collections"]]
        listing = _ogrinfo(f"OAPIF:{base}/ogc")
        assert listing.returncode == 0, listing.stderr
        for collection_id in ids:
            assert re.search(rf"^\d+: {collection_id} ", listing.stdout, re.M), collection_id
            read = _ogrinfo(f"OAPIF:{base}/ogc", collection_id, "-fid", "1", "-oo", "PAGE_SIZE=5")
            assert read.returncode == 0, read.stderr
            counted = _ogrinfo("-so", f"OAPIF:{base}/ogc", collection_id)
            assert "Feature Count:" in counted.stdout, counted.stdout

        since = "2026-10-25T00:00:00Z"
        expected = sql_one(demo_url, "SELECT count(*) FROM appeals WHERE created_at >= %s", since)
        filtered = _ogrinfo(
            "-so", "-oo", "PAGE_SIZE=1000", f"OAPIF:{base}/ogc", "appeals",
            "-where", f"created_at >= '{since}'",
            env={"CPL_DEBUG": "ON"},
        )  # fmt: skip
        assert filtered.returncode == 0, filtered.stderr
        assert "datetime=2026-10-25T00" in filtered.stderr  # asked of the server, not done by GDAL
        assert f"Feature Count: {expected}" in filtered.stdout


def test_a_count_that_takes_too_long_is_left_out_not_waited_for(demo_url, monkeypatch):
    from psycopg import sql

    from layers import features

    monkeypatch.setattr(features, "COUNT_BUDGET_MS", 50)

    async def count(seconds: float):
        async with await psycopg.AsyncConnection.connect(libpq_url(demo_url), autocommit=True) as c:
            query = sql.SQL("SELECT count(*) FROM pg_sleep(%(s)s)")
            found = await features._count_within_budget(c, query, {"s": seconds})
            still_usable = (await (await c.execute("SELECT 1")).fetchone())[0]
            return found, still_usable

    assert asyncio.run(count(0)) == (1, 1)
    assert asyncio.run(count(0.5)) == (None, 1)


def test_a_count_past_the_budget_is_not_waited_for_again_until_the_layer_changes(
    client, monkeypatch
):
    """At 10 million appeals counting a page's numberMatched runs past COUNT_BUDGET_MS: the
    first page goes without it, and so do the next pages of the same generation, at once.
    (The count's own cancellation is the test above; here the count answers as cancelled.)"""
    from layers import features

    asked = []

    async def past_the_budget(conn, query, args):
        asked.append(args)
        return None  # what _count_within_budget answers when the timeout cancels the count

    monkeypatch.setattr(features, "_count_within_budget", past_the_budget)
    url = "/ogc/collections/appeals/items?limit=5&bbox=30.2,50.2,30.9,50.7"
    first = client.get(url)
    assert first.status_code == 200, first.text
    assert "numberMatched" not in first.json() and asked
    nxt = next(x["href"] for x in first.json()["links"] if x["rel"] == "next")
    second = client.get(nxt)
    assert second.status_code == 200 and "numberMatched" not in second.json()
    assert len(asked) == 1  # the second page did not count again
    client.get("/ogc/collections/appeals/items?limit=5&bbox=30.2,50.2,30.9,50.6")
    assert len(asked) == 2  # another bbox is another count
