"""Vector tiles (issue 5, item 3): tile contents against the items endpoint for the same area
and filters, clusters that add up, the aggregate table kept exact by its triggers, 400s and
404s, ETag and 304, the cache forgetting a tile when an appeal is filed in it, and no personal
data in any tile.

Runs on a small demo city (seed 7, 2,000 appeals) shared by the module. Tiles are decoded by
the small protobuf reader below (no dependency).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import time

import psycopg
import pytest
from conftest import demo_city
from fastapi.testclient import TestClient

from api import create_app
from gis import accounts
from gis.db import libpq_url
from gis.settings import Settings
from tiles.cache import tile_bounds
from tiles.mvt import CELL_KEY, tile_sql_text

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
CENTRE = (30.5234, 50.4501)  # Майдан Незалежності
MVT = "application/vnd.mapbox-vector-tile"
BASE = "https://gis.hromada.test"  # the service's public base URL (settings.public_base_url)
_counter = itertools.count()


# --- a minimal Mapbox Vector Tile reader ---------------------------------------------------


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, i
        shift += 7


def _fields(buf: bytes):
    """(field number, wire type, value) of a protobuf message; values of length-delimited
    fields as bytes, varints as ints, fixed ones as raw bytes."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 2:
            n, i = _varint(buf, i)
            value, i = buf[i : i + n], i + n
        elif wire == 1:
            value, i = buf[i : i + 8], i + 8
        elif wire == 5:
            value, i = buf[i : i + 4], i + 4
        else:
            raise ValueError(f"wire type {wire}")
        yield number, wire, value


def _packed(buf: bytes) -> list[int]:
    out, i = [], 0
    while i < len(buf):
        v, i = _varint(buf, i)
        out.append(v)
    return out


def _zigzag(n: int) -> int:
    return (n >> 1) ^ -(n & 1)


def _value(buf: bytes):
    import struct

    for number, _wire, v in _fields(buf):
        if number == 1:
            return v.decode()
        if number == 2:
            return struct.unpack("<f", v)[0]
        if number == 3:
            return struct.unpack("<d", v)[0]
        if number in (4, 5):
            return v if number == 5 or v < 2**63 else v - 2**64
        if number == 6:
            return _zigzag(v)
        if number == 7:
            return bool(v)
    return None


def decode(data: bytes) -> dict[str, dict]:
    """{layer name: {"extent": …, "features": [{"id", "type", "properties", "points"}]}};
    `points`: the first coordinate of each point feature, in tile units."""
    layers = {}
    for number, _w, layer_buf in _fields(data):
        if number != 3:
            continue
        name, extent, keys, values, raw_features = None, 4096, [], [], []
        for n, _w2, v in _fields(layer_buf):
            if n == 1:
                name = v.decode()
            elif n == 2:
                raw_features.append(v)
            elif n == 3:
                keys.append(v.decode())
            elif n == 4:
                values.append(_value(v))
            elif n == 5:
                extent = v
        features = []
        for fbuf in raw_features:
            feature = {"id": None, "type": None, "properties": {}, "point": None}
            for n, _w3, v in _fields(fbuf):
                if n == 1:
                    feature["id"] = v
                elif n == 2:
                    tags = _packed(v)
                    feature["properties"] = {
                        keys[tags[k]]: values[tags[k + 1]] for k in range(0, len(tags), 2)
                    }
                elif n == 3:
                    feature["type"] = v
                elif n == 4:
                    geometry = _packed(v)
                    if len(geometry) >= 3:
                        feature["point"] = (_zigzag(geometry[1]), _zigzag(geometry[2]))
            features.append(feature)
        layers[name] = {"extent": extent, "features": features}
    return layers


# --- fixtures and helpers ------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_url(server_url, template_url, shared_data):
    with demo_city(
        server_url, template_url, shared_data, "tiles", seed=7, appeals=2000, now=NOW
    ) as url:
        yield url


@pytest.fixture(scope="module")
def client(demo_url, tmp_path_factory):
    settings = Settings(
        database_url=demo_url,
        rate_limits_enabled=False,
        data_dir=tmp_path_factory.mktemp("tiles-data"),
        public_base_url=BASE,
    )
    with TestClient(create_app(settings)) as c:
        yield c


def sql(url: str, query: str, params=None) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return z, x, y


def get_tile(client, layer: str, z: int, x: int, y: int, query: str = "", **kw):
    r = client.get(f"/tiles/{layer}/{z}/{x}/{y}.mvt{query}", **kw)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == MVT
    features = decode(r.content).get(layer, {"features": []})["features"]
    return r, features


def inside(feature: dict, extent: int = 4096) -> bool:
    """The point lies in the tile proper, not in its buffer."""
    px, py = feature["point"]
    return 0 <= px < extent and 0 <= py < extent


def items_in(client, layer: str, z: int, x: int, y: int, query: str = "") -> list[dict]:
    west, south, east, north = tile_bounds(z, x, y)
    sep = "&" if query else "?"
    r = client.get(
        f"/ogc/collections/{layer}/items{query}{sep}bbox={west},{south},{east},{north}&limit=10000"
    )
    assert r.status_code == 200, r.text
    return r.json()["features"]


def staff_headers(url: str) -> dict:
    async def make(conn):
        user = await accounts.create_user(
            conn, email=f"operator-{next(_counter)}@tiles.test", password=None,
            full_name="Оператор Плиток", role="operator", confirmed=True,
        )  # fmt: skip
        session = await accounts.create_session(
            conn, user_id=user, kind="bearer", ip=None, user_agent="pytest",
            ttl=dt.timedelta(hours=1),
        )  # fmt: skip
        return session.token

    import asyncio

    async def main():
        async with await psycopg.AsyncConnection.connect(libpq_url(url), autocommit=True) as c:
            return await make(c)

    return {"Authorization": f"Bearer {asyncio.run(main())}"}


# --- raw tiles -----------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "?status=registered,in_work", "?kind=complaint"])
def test_a_z14_tile_holds_exactly_the_items_of_its_area(client, query):
    z, x, y = tile_of(*CENTRE, 14)
    _r, features = get_tile(client, "appeals", z, x, y, query)
    tile_ids = {f["id"] for f in features if inside(f)}
    item_ids = {f["id"] for f in items_in(client, "appeals", z, x, y, query)}
    assert item_ids, "the demo city has appeals in the centre"
    assert tile_ids == item_ids
    for f in features:
        assert f["type"] == 1  # points
        assert set(f["properties"]) <= {"number", "status", "kind", "category_id", "overdue"}
        assert "number" in f["properties"] and "status" in f["properties"]


def test_a_filtered_tile_holds_only_what_the_filter_keeps(client, demo_url):
    (category,) = sql(demo_url, "SELECT category_id FROM appeals GROUP BY 1 ORDER BY count(*) DESC"
                                " LIMIT 1")[0]  # fmt: skip
    since = "2026-08-01T00:00:00Z"
    query = f"?category={category}&datetime={since}/.."
    z, x, y = tile_of(*CENTRE, 14)
    _r, features = get_tile(client, "appeals", z, x, y, query)
    ids = [f["id"] for f in features]
    assert ids
    rows = sql(demo_url, "SELECT id, category_id, created_at FROM appeals WHERE id = ANY(%s)",
               (ids,))  # fmt: skip
    assert len(rows) == len(ids)
    assert all(c == category and t >= dt.datetime(2026, 8, 1, tzinfo=dt.UTC) for _, c, t in rows)
    assert {f["id"] for f in features if inside(f)} == {
        f["id"] for f in items_in(client, "appeals", z, x, y, query)
    }


def test_area_layers_draw_their_polygons(client):
    for layer in ("districts", "hromadas", "wards"):
        z, x, y = tile_of(*CENTRE, 11)
        _r, features = get_tile(client, layer, z, x, y)
        assert features, layer
        assert all(f["type"] == 3 for f in features), layer  # polygons
    _r, districts = get_tile(client, "districts", *tile_of(*CENTRE, 11))
    assert {"name", "code"} <= set(districts[0]["properties"])


def test_point_layers_of_structures_and_kiosks(client):
    for layer in ("advertising_structures", "kiosks"):
        seen = 0
        for z, x, y in (tile_of(*CENTRE, 12), tile_of(*CENTRE, 11), tile_of(*CENTRE, 10)):
            _r, features = get_tile(client, layer, z, x, y)
            seen += len(features)
        assert seen, layer


def test_the_feature_cap_keeps_the_newest(demo_url, tmp_path):
    settings = Settings(database_url=demo_url, tile_max_features=5, data_dir=tmp_path)
    z, x, y = tile_of(*CENTRE, 14)
    with TestClient(create_app(settings)) as capped:
        _r, features = get_tile(capped, "appeals", z, x, y)
    ids = sorted(f["id"] for f in features)
    assert len(ids) == 5
    west, south, east, north = tile_bounds(z, x, y, 256 / 4096)
    newest = sql(demo_url, "SELECT id FROM appeals WHERE ST_Intersects(geom, ST_MakeEnvelope("
                           "%s, %s, %s, %s, 4326)) ORDER BY id DESC LIMIT 5",
                 (west, south, east, north))  # fmt: skip
    assert ids == sorted(r[0] for r in newest)


def test_an_empty_tile_is_an_empty_200(client):
    r = client.get("/tiles/appeals/14/0/0.mvt")
    assert r.status_code == 200 and r.content == b""
    assert r.headers["content-type"] == MVT and r.headers["etag"]


# --- clusters ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["", "?status=closed", "?kind=complaint&status=registered,in_work", "?datetime=2026-06-01/..",
     "?category=__TOP__", "?district=__DNAME__", "?district=__DISTRICT__&status=closed"],
)  # fmt: skip
@pytest.mark.parametrize("z", [10, 12, 13])
def test_clusters_add_up_to_the_items_of_their_tile(client, demo_url, z, query):
    if "__TOP__" in query:
        (top,) = sql(demo_url, "SELECT category_id FROM appeals GROUP BY 1"
                               " ORDER BY count(*) DESC LIMIT 1")[0]  # fmt: skip
        query = query.replace("__TOP__", str(top))
    if "__D" in query:  # the district of the centre, by id or by name
        district, name = sql(demo_url, "SELECT id, name FROM districts WHERE valid_to IS NULL"
                                       " AND ST_Contains(geom, ST_SetSRID(ST_MakePoint(%s, %s),"
                                       " 4326))", CENTRE)[0]  # fmt: skip
        query = query.replace("__DISTRICT__", str(district)).replace("__DNAME__", name)
    z, x, y = tile_of(*CENTRE, z)
    _r, in_buffer = get_tile(client, "appeals", z, x, y, query)
    clusters = [c for c in in_buffer if inside(c)]  # the others are the neighbours', drawn
    assert clusters  # in the buffer so that their symbols are not cut at the edge
    total = sum(c["properties"]["count"] for c in clusters)
    items = items_in(client, "appeals", z, x, y, query)
    assert total == len(items)
    for c in clusters:
        props = c["properties"]
        statuses = ("registered", "in_work", "on_check", "rework", "closed")
        assert sum(props.get(s, 0) for s in statuses) == props["count"]
    by_status = {}
    for item in items:
        by_status[item["properties"]["status"]] = by_status.get(item["properties"]["status"], 0) + 1
    for status, n in by_status.items():
        assert sum(c["properties"].get(status, 0) for c in clusters) == n


@pytest.mark.parametrize("query", ["", "?category=__TOP__"])
def test_clusters_near_an_edge_are_drawn_by_both_tiles(client, demo_url, query):
    if "__TOP__" in query:
        (top,) = sql(demo_url, "SELECT category_id FROM appeals GROUP BY 1"
                               " ORDER BY count(*) DESC LIMIT 1")[0]  # fmt: skip
        query = query.replace("__TOP__", str(top))
    z, x, y = tile_of(*CENTRE, 12)
    _r, features = get_tile(client, "appeals", z, x, y, query)
    borrowed = {f["id"]: f["properties"]["count"] for f in features if not inside(f)}
    assert borrowed, "the centre's tiles have clusters near their edges"
    owned = {}
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            if dx or dy:
                _r, theirs = get_tile(client, "appeals", z, x + dx, y + dy, query)
                owned.update({f["id"]: f["properties"]["count"] for f in theirs if inside(f)})
    assert {i: owned.get(i) for i in borrowed} == borrowed


# tiles.appeal_category_cells (migration 0022) as the triggers keep it, against a recount.
CATEGORY_CELLS_DIFF = """
WITH recount AS (
  SELECT category_id, (created_at AT TIME ZONE 'UTC')::date AS day,
         floor((ST_X(geom_3857) + 20037508.342789244) / 4891.96981025128)::integer AS cx,
         floor((20037508.342789244 - ST_Y(geom_3857)) / 4891.96981025128)::integer AS cy,
         council_id, count(*) AS n, count(*) FILTER (WHERE status = 'registered') AS r,
         count(*) FILTER (WHERE status = 'closed') AS c
    FROM appeals WHERE geom_3857 IS NOT NULL GROUP BY 1, 2, 3, 4, 5),
kept AS (SELECT category_id, day, cx, cy, council_id, n, registered, closed
           FROM tiles.appeal_category_cells WHERE n <> 0)
SELECT count(*) FROM ((SELECT * FROM recount EXCEPT SELECT * FROM kept)
                      UNION ALL (SELECT * FROM kept EXCEPT SELECT * FROM recount)) d
"""
# Whole days from the cells (zoom ≤ 10), the partial ones at both edges from the points.
PERIOD = "2026-03-10T12:00:00Z/2026-09-20T06:00:00Z"


def _clusters_match_items(client, z: int, query: str) -> int:
    """The clusters inside the centre's tile count what the items of its area hold, in all
    and per status; that count."""
    z, x, y = tile_of(*CENTRE, z)
    _r, features = get_tile(client, "appeals", z, x, y, query)
    clusters = [c for c in features if inside(c)]
    items = items_in(client, "appeals", z, x, y, query)
    assert sum(c["properties"]["count"] for c in clusters) == len(items)
    for status in ("registered", "in_work", "on_check", "rework", "closed"):
        assert sum(c["properties"].get(status, 0) for c in clusters) == sum(
            1 for i in items if i["properties"]["status"] == status
        ), status
    return len(items)


def test_category_cells_follow_every_write_and_a_detached_month(client, demo_url):
    from gis import partitions

    (top,) = sql(demo_url, "SELECT category_id FROM appeals GROUP BY 1"
                           " ORDER BY count(*) DESC LIMIT 1")[0]  # fmt: skip
    (other,) = sql(demo_url, "SELECT category_id FROM appeals WHERE category_id <> %s"
                             " GROUP BY 1 ORDER BY count(*) DESC LIMIT 1", (top,))[0]  # fmt: skip
    queries = [f"?category={top}&datetime={PERIOD}", f"?category={top},{other}",
               f"?category={top}&status=closed,registered&datetime=2026-04-01/..",
               f"?category={other}&datetime=../2026-07-31"]  # fmt: skip
    text = tile_sql_text("appeals", *tile_of(*CENTRE, 10), {"category": str(top),
                                                              "datetime": PERIOD})  # fmt: skip
    assert '"tiles"."appeal_category_cells"' in text and 'FROM "appeals" AS t' in text

    def check() -> list[int]:
        assert sql(demo_url, CATEGORY_CELLS_DIFF)[0][0] == 0
        return [_clusters_match_items(client, z, q) for z in (10, 8, 13) for q in queries]

    before = check()
    assert all(before)
    lon, lat = CENTRE
    with psycopg.connect(demo_url) as conn:
        ids = [r[0] for r in conn.execute(
            "INSERT INTO appeals (number, category_id, kind, text, is_public, channel, status,"
            " geom, address, district_id, created_at, deadline_at, generated, council_id)"
            " SELECT 'C-' || g, %s, 'complaint', 'x', true, a.channel, 'registered',"
            " ST_SetSRID(ST_MakePoint(%s + g * 0.001, %s), 4326), 'a', district_id,"
            " d::timestamptz, d::timestamptz + interval '15 days', false, council_id"
            " FROM (SELECT district_id, council_id, channel FROM appeals"
            "       WHERE district_id IS NOT NULL"
            "       LIMIT 1) a, generate_series(1, 6) g,"
            " unnest(ARRAY['2026-03-20T10:00:00Z', '2026-05-15T10:00:00Z',"
            "              '2026-09-19T10:00:00Z', '2026-03-05T10:00:00Z',"
            "              '2026-03-10T15:00:00Z', '2026-09-20T05:00:00Z']) WITH ORDINALITY"
            "   AS u(d, k) WHERE u.k = g RETURNING id", (top, lon, lat))]  # fmt: skip
        conn.commit()
    after_insert = check()
    assert after_insert[0] == before[0] + 5  # all but 5 March's, two in the partial days
    with psycopg.connect(demo_url) as conn:
        in_tile = [r[0] for r in conn.execute(
            "SELECT id FROM appeals WHERE category_id = %s AND created_at >= '2026-04-01'"
            " AND created_at < '2026-09-01' AND geom_3857 && ST_TileEnvelope(12, %s, %s)"
            " ORDER BY id LIMIT 12", (top, *tile_of(*CENTRE, 12)[1:]))]  # fmt: skip
        assert len(in_tile) == 12
        conn.execute("UPDATE appeals SET status = CASE status WHEN 'closed' THEN 'in_work'"
                     " ELSE 'closed' END WHERE id = ANY(%s)", (in_tile[:4],))  # fmt: skip
        conn.execute("UPDATE appeals SET category_id = %s WHERE id = ANY(%s)",
                     (other, in_tile[4:8]))  # fmt: skip
        conn.execute("UPDATE appeals SET geom = ST_SetSRID(ST_MakePoint(30.3, 50.6), 4326)"
                     " WHERE id = ANY(%s)", (in_tile[8:10],))  # fmt: skip
        conn.execute("UPDATE appeals SET created_at = created_at + interval '3 months'"
                     " WHERE id = ANY(%s)", (in_tile[10:],))  # fmt: skip
        conn.execute("DELETE FROM appeals WHERE id = ANY(%s)", (ids[:1],))
        conn.commit()
    check()
    month = dt.date(2026, 5, 1)
    with psycopg.connect(demo_url) as conn:
        partitions.detach(conn, month)
    detached = check()
    assert detached[0] < after_insert[0]
    with psycopg.connect(demo_url) as conn:
        partitions.attach(conn, month)
    check()


def test_the_aggregate_follows_every_write(demo_url):
    def compare():
        agg = dict(sql(demo_url, "SELECT status, sum(n) FROM tiles.appeal_cells GROUP BY 1"
                                 " HAVING sum(n) <> 0"))  # fmt: skip
        raw = dict(sql(demo_url, "SELECT status, count(*) FROM appeals"
                                 " WHERE geom IS NOT NULL GROUP BY 1"))  # fmt: skip
        assert agg == raw
        cells = sql(demo_url, "SELECT a.cx, a.cy, a.sx / a.n, a.sy / a.n FROM ("
                              " SELECT cx, cy, sum(n) n, sum(sx) sx, sum(sy) sy"
                              " FROM tiles.appeal_cells GROUP BY 1, 2 HAVING sum(n) > 0) a"
                              " ORDER BY a.n DESC LIMIT 3")  # fmt: skip
        cell = 2 * 20037508.342789244 / 2**16
        for cx, cy, mx, my in cells:  # the mean position lies in its cell
            assert cx * cell - 20037508.35 <= mx <= (cx + 1) * cell - 20037508.33
            assert 20037508.33 - (cy + 1) * cell <= my <= 20037508.35 - cy * cell

    compare()
    with psycopg.connect(demo_url) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM appeals ORDER BY id DESC LIMIT 30")]
        conn.execute("UPDATE appeals SET status = 'in_work' WHERE id = ANY(%s)", (ids[:10],))
        conn.execute(
            "UPDATE appeals SET geom = ST_SetSRID(ST_MakePoint(30.6, 50.5), 4326)"
            " WHERE id = ANY(%s)",
            (ids[10:20],),
        )
        conn.execute("UPDATE appeals SET support_count = support_count + 1 WHERE id = ANY(%s)",
                     (ids[20:],))  # fmt: skip
        conn.rollback()  # nothing kept: the demo module is shared
        conn.execute("UPDATE appeals SET status = status WHERE id = ANY(%s)", (ids,))
        conn.commit()
    compare()
    with psycopg.connect(demo_url) as conn:
        conn.execute("UPDATE appeals SET status = 'in_work' WHERE id = ANY(%s)", (ids[:10],))
        conn.execute(
            "UPDATE appeals SET geom = ST_SetSRID(ST_MakePoint(30.6, 50.5), 4326)"
            " WHERE id = ANY(%s)",
            (ids[10:20],),
        )
        conn.commit()
    compare()


# --- the address, the filters, the layers --------------------------------------------------


@pytest.mark.parametrize(
    "path, parameter",
    [
        ("/tiles/appeals/23/0/0.mvt", "z"),
        ("/tiles/appeals/-1/0/0.mvt", "z"),
        ("/tiles/appeals/a/0/0.mvt", "z"),
        ("/tiles/appeals/1.5/0/0.mvt", "z"),
        ("/tiles/appeals/3/8/0.mvt", "x"),
        ("/tiles/appeals/3/0/8.mvt", "y"),
        ("/tiles/appeals/3/x/0.mvt", "x"),
        ("/tiles/appeals/0/0/99999999999999999999.mvt", "y"),
        ("/tiles/appeals/14/9576/5538.mvt?status=lost", "status"),
        ("/tiles/appeals/14/9576/5538.mvt?category=12,", "category"),
        ("/tiles/appeals/14/9576/5538.mvt?datetime=yesterday", "datetime"),
        ("/tiles/appeals/14/9576/5538.mvt?colour=red", "colour"),
        ("/tiles/appeals/14/9576/5538.mvt?status=closed&status=closed", "status"),
        ("/tiles/districts/10/598/345.mvt?datetime=2026-01-01", "datetime"),
        ("/tiles/appeals/tilejson.json?kind=other", "kind"),
    ],
)
def test_bad_addresses_and_filters_are_400_with_a_message(client, path, parameter):
    r = client.get(path, headers={"Accept-Language": "en"})
    assert r.status_code == 400, r.text
    assert r.json()["parameter"] == parameter
    assert r.json()["detail"]
    uk = client.get(path)
    assert uk.status_code == 400 and uk.json()["detail"] != r.json()["detail"]


def test_unknown_and_staff_only_layers_are_404_to_anonymous(client, demo_url):
    z, x, y = tile_of(*CENTRE, 11)
    for path in (f"/tiles/nowhere/{z}/{x}/{y}.mvt", "/tiles/nowhere/tilejson.json",
                 f"/tiles/executor_territories/{z}/{x}/{y}.mvt",
                 "/tiles/executor_territories/tilejson.json"):  # fmt: skip
        r = client.get(path)
        assert r.status_code == 404, path
        assert r.json()["code"] == "unknown_collection"
    headers = staff_headers(demo_url)
    r, features = get_tile(client, "executor_territories", z, x, y, headers=headers)
    assert features
    assert r.headers["cache-control"].startswith("private")
    # The anonymous caller is still refused after a staff member's tile was cached.
    assert client.get(f"/tiles/executor_territories/{z}/{x}/{y}.mvt").status_code == 404


def test_a_thematic_layer_is_tiled_with_its_attributes(client, demo_url):
    rows = sql(demo_url, "SELECT layer_name, ST_X(ST_Centroid(geom)), ST_Y(ST_Centroid(geom))"
                         " FROM layer_features JOIN layers l ON l.name = layer_name"
                         " WHERE l.is_public LIMIT 1")  # fmt: skip
    if not rows:
        pytest.skip("the demo city has no thematic layer")
    name, lon, lat = rows[0]
    _r, features = get_tile(client, name, *tile_of(lon, lat, 12))
    assert features
    assert any(f["properties"] for f in features)


# --- caching -------------------------------------------------------------------------------


def test_etag_and_304(client):
    path = "/tiles/appeals/{}/{}/{}.mvt".format(*tile_of(*CENTRE, 15))
    r = client.get(path)
    assert r.status_code == 200
    etag = r.headers["etag"]
    assert r.headers["cache-control"] == "public, max-age=10"
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
    areas = client.get("/tiles/districts/{}/{}/{}.mvt".format(*tile_of(*CENTRE, 10)))
    assert areas.headers["cache-control"] == "public, max-age=300"


def _filed_appeal(client, demo_url, lon, lat, author):
    (category,) = sql(demo_url, "SELECT id FROM categories WHERE parent_id IS NOT NULL"
                                " AND is_active ORDER BY id LIMIT 1")[0]  # fmt: skip
    r = client.post(
        "/api/v1/appeals",
        json={
            "category": category,
            "text": "Біля під'їзду третій тиждень не вивозять сміття, контейнери переповнені.",
            "location": {"lon": lon, "lat": lat},
            "author": author,
            "consent_to_publish": True,
        },
    )
    assert r.status_code in (200, 201), r.text
    number = r.json()["number"]
    return sql(demo_url, "SELECT id FROM appeals WHERE number = %s", (number,))[0][0]


def _until(predicate, seconds: float = 10.0):
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def test_a_new_appeal_shows_in_its_cached_tiles_within_seconds(client, demo_url):
    assert client.app.state.tile_cache.enabled
    lon, lat = 30.5170, 50.4470
    raw = tile_of(lon, lat, 16)
    cluster = tile_of(lon, lat, 12)
    far = tile_of(30.75, 50.40, 16)
    _r, before = get_tile(client, "appeals", *raw)
    _r, clusters_before = get_tile(client, "appeals", *cluster)
    far_tile = client.get("/tiles/appeals/{}/{}/{}.mvt".format(*far))
    cache = client.app.state.tile_cache
    hits = cache.hits
    get_tile(client, "appeals", *raw)
    assert cache.hits == hits + 1  # served from the cache
    author = {"full_name": "Тестовий Автор", "email": "tile.author@example.com",
              "phone": "+380 50 111 22 33", "postal_address": "м. Київ, вул. Хрещатик, 1"}  # fmt: skip
    new_id = _filed_appeal(client, demo_url, lon, lat, author)
    assert new_id not in {f["id"] for f in before}

    def shown():
        _r, features = get_tile(client, "appeals", *raw)
        return new_id in {f["id"] for f in features}

    assert _until(shown), "the new appeal did not appear in its tile"
    count = sum(c["properties"]["count"] for c in clusters_before)
    assert _until(
        lambda: (
            sum(c["properties"]["count"] for c in get_tile(client, "appeals", *cluster)[1])
            == count + 1
        )
    )
    # A tile far away was not forgotten.
    hits = cache.hits
    assert client.get("/tiles/appeals/{}/{}/{}.mvt".format(*far)).content == far_tile.content
    assert cache.hits == hits + 1


def test_tiles_carry_no_personal_data(client, demo_url):
    author = {
        "full_name": "Ґалаґан-Плиткосвітенко Яромир",
        "email": "yaromyr.plytkosvit@example.org",
        "phone": "+380 93 765 43 21",
        "postal_address": "м. Київ, вул. Плиткова, 404, кв. 7",
    }
    lon, lat = 30.5105, 50.4520
    new_id = _filed_appeal(client, demo_url, lon, lat, author)
    secrets = [author["full_name"], "Плиткосвітенко", author["email"], "plytkosvit",
               "765 43 21", "Плиткова"]  # fmt: skip
    seen = False
    for z in (10, 12, 14, 16, 18):
        z, x, y = tile_of(lon, lat, z)
        for _ in range(50):
            r, features = get_tile(client, "appeals", z, x, y)
            if z < 14 or new_id in {f["id"] for f in features}:
                break
            time.sleep(0.1)
        seen = seen or new_id in {f["id"] for f in features}
        text = r.content.decode("utf-8", errors="replace")
        for secret in secrets:
            assert secret.encode() not in r.content, (z, secret)
            assert secret not in text
        for f in features:
            for value in f["properties"].values():
                assert not any(s in str(value) for s in secrets)
    assert seen


# --- TileJSON and the SQL ------------------------------------------------------------------


def test_tilejson_describes_the_tiles_with_their_filters(client):
    r = client.get("/tiles/appeals/tilejson.json?status=registered")
    assert r.status_code == 200
    doc = r.json()
    assert doc["tilejson"] == "3.0.0"
    assert doc["tiles"] == [f"{BASE}/tiles/appeals/{{z}}/{{x}}/{{y}}.mvt?status=registered"]
    # The template is built on the configured base, never on the Host the client sent.
    forged = client.get("/tiles/appeals/tilejson.json", headers={"Host": "evil.example"}).json()
    assert forged["tiles"] == [f"{BASE}/tiles/appeals/{{z}}/{{x}}/{{y}}.mvt"]
    (layer,) = doc["vector_layers"]
    assert layer["id"] == "appeals"
    assert {"number", "status", "count", "registered"} <= set(layer["fields"])
    assert doc["minzoom"] == 0 and doc["maxzoom"] >= 14
    west, south, east, north = doc["bounds"]
    assert 30 < west < east < 31 and 50 < south < north < 51
    assert west <= doc["center"][0] <= east and south <= doc["center"][1] <= north
    districts = client.get("/tiles/districts/tilejson.json").json()
    assert districts["attribution"]
    assert set(districts["vector_layers"][0]["fields"]) == {"code", "name", "name_en"}


def test_tile_sql_text_is_what_the_server_runs(client, demo_url):
    for z in (11, 14):
        z, x, y = tile_of(*CENTRE, z)
        for query in ({}, {"category": "1,2,3", "datetime": "2026-01-01T00:00:00Z/.."}):
            text = tile_sql_text("appeals", z, x, y, query)
            assert "%(" not in text
            (body,) = sql(demo_url, text)[0]
            qs = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
            r = client.get(f"/tiles/appeals/{z}/{x}/{y}.mvt{qs}")
            assert bytes(body) == r.content


def _as_parents(conn, plan: str) -> str:
    """The plan with each month's index (appeals is partitioned, 0020) named as the
    partitioned index it belongs to."""
    for child, parent in conn.execute(
        "SELECT c.relname, p.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " JOIN pg_class p ON p.oid = i.inhparent WHERE c.relkind = 'i'"
        " ORDER BY length(c.relname) DESC"
    ).fetchall():
        plan = plan.replace(f" {child} ", f" {parent} ").replace(f" {child}\n", f" {parent}\n")
    return plan


def test_tiles_use_the_indexes(demo_url):
    def plan(text: str, without_gist: bool = False) -> str:
        with psycopg.connect(demo_url) as conn:  # rolled back: nothing is dropped for good
            conn.execute("SET LOCAL enable_seqscan = off")
            if without_gist:
                conn.execute("DROP INDEX idx_appeals_geom_3857")
            rows = conn.execute("EXPLAIN " + text).fetchall()
            conn.rollback()
            return _as_parents(conn, "\n".join(r[0] for r in rows) + "\n")

    for z in (16, 18):  # a few points: through the GiST index
        assert CELL_KEY not in tile_sql_text("appeals", *tile_of(*CENTRE, z))
    for z in (14, 15):
        # The newest ids from the cell index alone, then only their rows (on 2,000 appeals
        # the planner rightly prefers the GiST index: here it has none).
        unfiltered = plan(tile_sql_text("appeals", *tile_of(*CENTRE, z)), without_gist=True)
        assert (
            "on ix_appeals_tiles_cell" in unfiltered or "using ix_appeals_tiles_cell" in unfiltered
        ), unfiltered
        filtered = plan(tile_sql_text("appeals", *tile_of(*CENTRE, z), {"status": "closed"}))
        assert "idx_appeals_geom_3857" in filtered, filtered
        for table in ("categories", "districts", "wards", "executors"):
            for text in (unfiltered, filtered):  # the view's joins are not planned
                assert f"on {table}" not in text.lower(), text


def test_cell_keys_cover_the_tile_and_its_buffer():
    from tiles.mvt import TileAddress, cell_keys

    assert len(cell_keys(TileAddress(14, 9580, 5524))) == 36  # 4 × 4 cells and a ring
    assert len(cell_keys(TileAddress(16, 38323, 22098))) == 9
    assert len(cell_keys(TileAddress(18, 153292, 88392))) in (1, 2, 4)
    assert cell_keys(TileAddress(10, 598, 345)) is None  # too many: the GiST index
    assert cell_keys(TileAddress(14, 0, 0)) == [0, 1, 2, 3, 4, 65536, 65537, 65538, 65539, 65540,
                                                131072, 131073, 131074, 131075, 131076,
                                                196608, 196609, 196610, 196611, 196612,
                                                262144, 262145, 262146, 262147, 262148]  # fmt: skip


def test_clusters_of_a_category_and_period_read_the_covering_index(demo_url):
    z, x, y = tile_of(*CENTRE, 10)
    # The whole days from tiles.appeal_category_cells (0022), the half of 10 June from points.
    query = {"category": "1", "datetime": "2026-06-10T12:00:00Z/.."}
    text = tile_sql_text("appeals", z, x, y, query)
    assert 'FROM "appeals" AS t' in text  # the table, not the view
    with psycopg.connect(demo_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE appeals")  # what autovacuum does: index-only scans pay
    with psycopg.connect(demo_url) as conn:
        conn.execute("SET enable_seqscan = off")
        conn.execute("SET enable_bitmapscan = off")
        plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + text).fetchall()) + "\n"
        plan = _as_parents(conn, plan)
    assert "Index Only Scan using ix_appeals_tiles_category" in plan, plan
    assert "appeal_category_cells_pkey" in plan, plan
    with psycopg.connect(demo_url) as conn:
        conn.execute("SET enable_seqscan = off")
        conn.execute("SET enable_bitmapscan = off")
        text = tile_sql_text("appeals", z, x, y, {"datetime": "2026-10-01T00:00:00Z/.."})
        plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + text).fetchall()) + "\n"
        plan = _as_parents(conn, plan)
    assert "Index Only Scan using ix_appeals_tiles_period" in plan, plan
    # A category given by name is looked up in the view.
    assert '"appeal_features"' in tile_sql_text("appeals", z, x, y, {"category": "Ліфти"})


def test_the_cache_forgets_the_tiles_that_draw_a_write_and_no_other():
    from layers.changes import LayerChange
    from tiles.cache import CachedTile, TileCache, TileKey

    cache = TileCache(100)
    z, x, y = tile_of(*CENTRE, 12)
    west, south, east, north = tile_bounds(z, x, y)
    keys = {
        (dx, dy): TileKey("appeals", z, x + dx, y + dy, "|", ()) for dx in (-2, -1, 0, 1, 2)
        for dy in (-2, -1, 0, 1, 2)
    }  # fmt: skip
    for key in keys.values():
        cache.put(key, CachedTile(b"x", '"x"'), cache.token("appeals"))
    other = TileKey("districts", z, x, y, "|", ())
    cache.put(other, CachedTile(b"d", '"d"'), cache.token("districts"))
    # A point just inside the tile's east edge: the tile and its east neighbour (whose buffer
    # and ring of cells reach it) are forgotten; tiles two away and other layers are kept.
    lon = east - (east - west) / 50
    lat = (south + north) / 2
    cache.changed(LayerChange("appeals", (lon, lat, lon, lat)))
    gone = {d for d, key in keys.items() if cache.get(key) is None}
    assert gone == {(0, 0), (1, 0)}
    assert cache.get(other) is not None
    # A tile built while a write was announced is not kept.
    token = cache.token("appeals")
    cache.changed(LayerChange("appeals", None))
    cache.put(keys[(0, 0)], CachedTile(b"stale", '"s"'), token)
    assert cache.get(keys[(0, 0)]) is None and len(cache) == 1
    cache.changed(LayerChange("*", None))
    assert len(cache) == 0


def test_the_cache_is_bounded_by_count_and_by_bytes():
    from tiles.cache import CachedTile, TileCache, TileKey

    cache = TileCache(3, max_bytes=250)
    keys = [TileKey("appeals", 16, i, 0, "|", ()) for i in range(5)]
    for key in keys:
        cache.put(key, CachedTile(b"x" * 100, '"x"'), cache.token("appeals"))
    assert len(cache) == 2 and cache.bytes == 200  # the two newest
    assert cache.get(keys[4]) and cache.get(keys[3]) and cache.get(keys[0]) is None
    cache.put(keys[0], CachedTile(b"x" * 300, '"y"'), cache.token("appeals"))  # too large
    assert cache.get(keys[0]) is None and cache.bytes == 200
    big = TileCache(3)
    for key in keys:
        big.put(key, CachedTile(b"x", '"x"'), big.token("appeals"))
    assert len(big) == 3
