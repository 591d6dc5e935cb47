"""A council's public map (issue 17): `council=` on the appeals layer — OGC items, the
queryables, the vector tiles (raw points and the clusters of low zooms, counted of that
council's appeals only; the tile cache keyed by it) and TileJSON — and on the address search
(only the houses and streets inside the council). The region demo's two neighbouring councils
(tests/conftest.py `two_councils`)."""

from __future__ import annotations

import math

import pytest
from conftest import TWO_COUNCILS
from fastapi.testclient import TestClient
from staff import bearer, sql
from test_tiles import _until, decode

from api import create_app
from gis.settings import Settings
from layers.features import Filters
from layers.registry import CORE_LAYERS
from tiles import mvt


@pytest.fixture(scope="module")
def client(two_councils, tmp_path_factory):
    settings = Settings(database_url=two_councils, data_dir=tmp_path_factory.mktemp("council_map"),
                        rate_limits_enabled=False)  # fmt: skip
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture(scope="module")
def councils(two_councils) -> dict[str, tuple[int, str]]:
    """code → (id, slug) of the two councils: A (Запорізька) and B (Кушугумська)."""
    rows = sql(two_councils, "SELECT code, id, slug FROM councils WHERE code = ANY(%s)",
               (list(TWO_COUNCILS),))  # fmt: skip
    return {code: (cid, slug) for code, cid, slug in rows or []}


A, B = TWO_COUNCILS


def _numbers(url: str, council_id: int) -> set[str]:
    rows = sql(url, "SELECT number FROM appeal_features WHERE council_id = %s", (council_id,))
    return {r[0] for r in rows or []}


def test_items_and_queryables_filter_by_council(client, two_councils, councils):
    a_id, a_slug = councils[A]
    b_id, _ = councils[B]
    r = client.get(f"/ogc/collections/appeals/items?council={a_slug}&limit=2000")
    assert r.status_code == 200, r.text
    body = r.json()
    numbers = {f["properties"]["number"] for f in body["features"]}
    expected = _numbers(two_councils, a_id)
    assert numbers == expected and body["numberMatched"] == len(expected)
    assert expected and _numbers(two_councils, b_id), "both councils have appeals"
    # By KATOTTH code in any case, and a list of both: every appeal of the two.
    by_code = client.get(f"/ogc/collections/appeals/items?council={A.lower()}&limit=2000").json()
    assert {f["properties"]["number"] for f in by_code["features"]} == expected
    both = client.get(f"/ogc/collections/appeals/items?council={a_slug},{B}&limit=1").json()
    assert both["numberMatched"] == len(expected | _numbers(two_councils, b_id))
    # Unknown: 404 as on the public feed; the queryables name the parameter.
    r = client.get("/ogc/collections/appeals/items?council=atlantis")
    assert (r.status_code, r.json()["code"]) == (404, "council_not_found")
    queryables = client.get("/ogc/collections/appeals/queryables").json()["properties"]
    assert queryables["council"]["type"] == "string"
    assert "council" in client.get("/openapi.json").text


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def _features(client, z: int, x: int, y: int, query: str = "") -> list[dict]:
    r = client.get(f"/tiles/appeals/{z}/{x}/{y}.mvt{query}")
    assert r.status_code == 200, r.text
    return decode(r.content).get("appeals", {"features": []})["features"] if r.content else []


def test_tiles_hold_the_council_s_appeals_only(client, two_councils, councils):
    url = two_councils
    a_id, a_slug = councils[A]
    # A z14 tile holding appeals of both councils: the one nearest the other council.
    row = sql(url, "SELECT ST_X(a.geom), ST_Y(a.geom) FROM appeal_features a, appeal_features b"
                   " WHERE a.council_id = %s AND b.council_id = %s"
                   " ORDER BY a.geom_3857 <-> b.geom_3857 LIMIT 1",
              (a_id, councils[B][0]))  # fmt: skip
    assert row
    x, y = _tile_of(row[0][0], row[0][1], 14)
    expected = {
        r[0]
        for r in sql(
            url,
            "SELECT id FROM appeal_features WHERE council_id = %s AND geom_3857"
            " && ST_TileEnvelope(14, %s, %s, margin => 256 / 4096.0)",
            (a_id, x, y),
        )
        or []  # fmt: skip
    }
    ids = {f["id"] for f in _features(client, 14, x, y, f"?council={a_slug}")}
    assert ids == expected and ids
    # The same tile spelt by code is the same tile (the cache key holds the council's id).
    r1 = client.get(f"/tiles/appeals/14/{x}/{y}.mvt?council={a_slug}")
    r2 = client.get(f"/tiles/appeals/14/{x}/{y}.mvt?council={A}")
    assert r1.headers["etag"] == r2.headers["etag"]
    r = client.get(f"/tiles/appeals/14/{x}/{y}.mvt?council=atlantis")
    assert (r.status_code, r.json()["code"]) == (404, "council_not_found")
    tj = client.get(f"/tiles/appeals/tilejson.json?council={a_slug}")
    assert tj.status_code == 200 and tj.json()["tiles"][0].endswith(f"?council={a_slug}")
    assert client.get("/tiles/appeals/tilejson.json?council=atlantis").status_code == 404


@pytest.mark.parametrize("z", [8, 11])
def test_clusters_count_the_council_s_appeals_only(client, two_councils, councils, z):
    """The clusters of a low zoom: the cells of a tile (those within it, not its ring of
    neighbours' cells) sum to the council's appeals in the tile, by status too; unfiltered
    (appeal_cells) they count both councils'."""
    url = two_councils
    (a_id, a_slug), (b_id, _) = councils[A], councils[B]
    row = sql(url, "SELECT ST_X(ST_Centroid(ST_Collect(geom))), ST_Y(ST_Centroid(ST_Collect(geom)))"
                   " FROM appeal_features WHERE council_id = %s", (b_id,))  # fmt: skip
    assert row
    x, y = _tile_of(row[0][0], row[0][1], z)
    n = 2 ** (z + 3)

    def own_cells(features: list[dict]) -> list[dict]:
        return [f for f in features
                if x * 8 <= f["id"] // n < x * 8 + 8 and y * 8 <= f["id"] % n < y * 8 + 8]  # fmt: skip

    def in_sql(councils_: list[int]) -> dict[str, int]:
        rows = sql(url, "SELECT status, count(*) FROM appeal_features WHERE council_id = ANY(%s)"
                        " AND geom_3857 && ST_TileEnvelope(%s, %s, %s) GROUP BY status",
                   (councils_, z, x, y)) or []  # fmt: skip
        return dict(rows)

    filtered = own_cells(_features(client, z, x, y, f"?council={a_slug}"))
    expected = in_sql([a_id])
    assert z > 8 or sum(expected.values()) > 0, "the z8 tile holds both councils"
    assert sum(f["properties"]["count"] for f in filtered) == sum(expected.values())
    for status, count in expected.items():
        assert sum(f["properties"].get(status) or 0 for f in filtered) == count, status
    everything = own_cells(_features(client, z, x, y))
    assert sum(f["properties"]["count"] for f in everything) == sum(in_sql([a_id, b_id]).values())
    other = own_cells(_features(client, z, x, y, f"?council={B}"))
    assert sum(f["properties"]["count"] for f in other) == sum(in_sql([b_id]).values()) > 0


def test_the_address_search_of_a_council_proposes_none_of_another_s(client, two_councils, councils):
    url = two_councils
    sql(url, "INSERT INTO layers (name, title, geometry_type) VALUES ('pois', 'POI', 'Point')"
             " ON CONFLICT DO NOTHING")  # fmt: skip
    sql(url, "INSERT INTO streets (code, name, kind, content_hash) VALUES"
             " ('t-sob', 'Тестова Соборна', 'вулиця', 'h')")  # fmt: skip
    # One house of the street in each council, at a point inside its hromada.
    for code, house in ((A, "1"), (B, "5")):
        sql(url, "INSERT INTO layer_features (layer_name, feature_key, properties, content_hash, geom)"
                 " SELECT 'pois', %s, jsonb_build_object('addr:street', 'вулиця Тестова Соборна',"
                 " 'addr:housenumber', %s::text), 'h', ST_PointOnSurface(h.geom) FROM hromadas h"
                 " WHERE h.code = %s AND h.valid_to IS NULL",
            (f"t-{code}", house, code))  # fmt: skip

    def council_of(item: dict) -> list[str]:
        rows = sql(url, "SELECT code FROM hromadas WHERE valid_to IS NULL AND code = ANY(%s)"
                        " AND ST_Covers(geom, ST_Point(%s, %s, 4326))",
                   (list(TWO_COUNCILS), item["lon"], item["lat"])) or []  # fmt: skip
        return [r[0] for r in rows]

    everywhere = client.get("/api/v1/geocode/search", params={"q": "Тестова Соборна"}).json()
    assert everywhere["items"], everywhere
    for q in ("Тестова Соборна", "Тестова Соборна, 5", "Тестова Соборна, 1"):
        r = client.get("/api/v1/geocode/search", params={"q": q, "council": councils[A][1]})
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        assert items and all(council_of(i) == [A] for i in items), (q, items)
    houses = client.get("/api/v1/geocode/search", params={"q": "Тестова Соборна, 5"}).json()
    assert any(council_of(i) == [B] for i in houses["items"]), "unrestricted: B's house too"
    b_only = client.get("/api/v1/geocode/search", params={"q": "Тестова Соборна", "council": B})
    assert all(council_of(i) == [B] for i in b_only.json()["items"])
    r = client.get("/api/v1/geocode/search", params={"q": "Соборна", "council": "atlantis"})
    assert (r.status_code, r.json()["code"]) == (404, "council_not_found")


def test_council_clusters_come_from_the_cells_and_follow_a_transfer(client, two_councils, councils):
    """The cells (tiles.appeal_cells, migration 0019) count per council: their sums are each
    council's located appeals, a council's cluster tile is summed from them, and an appeal
    transferred to the other council (POST …/transfer) moves one from the first council's
    clusters to the other's — the tile cache forgets both."""
    url = two_councils
    (a_id, a_slug), (b_id, b_slug) = councils[A], councils[B]
    in_cells = dict(sql(url, "SELECT council_id, sum(n) FROM tiles.appeal_cells GROUP BY 1") or [])
    in_appeals = dict(sql(url, "SELECT council_id, count(*) FROM appeals WHERE geom IS NOT NULL"
                               " GROUP BY 1") or [])  # fmt: skip
    assert in_cells == in_appeals and in_appeals.get(a_id) and in_appeals.get(b_id)
    layer = CORE_LAYERS["appeals"]
    by_id = Filters(properties=(("council", (a_id,)),))
    assert mvt.uses_aggregate(layer, by_id)
    assert "appeal_cells" in mvt.tile_sql_text("appeals", 10, 600, 350, {"council": a_slug})
    # An open appeal of A, the one nearest B (its z10 tile holds both councils' clusters).
    row = sql(url, "SELECT a.number, ST_X(a.geom), ST_Y(a.geom) FROM appeals a, appeals b"
                   " WHERE a.council_id = %s AND b.council_id = %s"
                   " AND a.status IN ('registered', 'in_work', 'rework')"
                   " ORDER BY a.geom_3857 <-> b.geom_3857 LIMIT 1", (a_id, b_id))  # fmt: skip
    assert row
    number, lon, lat = row[0]
    z = 10
    x, y = _tile_of(lon, lat, z)

    def clusters(slug: str) -> int:  # the tile's own cells (not its neighbours' ring)
        n = 2 ** (z + 3)
        return sum(f["properties"]["count"] for f in _features(client, z, x, y, f"?council={slug}")
                   if x * 8 <= f["id"] // n < x * 8 + 8 and y * 8 <= f["id"] % n < y * 8 + 8)  # fmt: skip

    def in_sql(council_id: int) -> int:
        rows = sql(url, "SELECT count(*) FROM appeals WHERE council_id = %s"
                        " AND geom_3857 && ST_TileEnvelope(%s, %s, %s)", (council_id, z, x, y))  # fmt: skip
        return rows[0][0] if rows else -1

    before = {a_slug: clusters(a_slug), b_slug: clusters(b_slug)}
    assert before == {a_slug: in_sql(a_id), b_slug: in_sql(b_id)} and before[a_slug] > 0
    # tile_sql_text (psql, bench) looks the council's code up in the cells' query itself.
    text = sql(url, mvt.tile_sql_text("appeals", z, x, y, {"council": B.lower()}))
    assert text
    found = decode(bytes(text[0][0])) if text[0][0] else {}
    by_text = [
        (f["id"], f["properties"]["count"]) for f in found.get("appeals", {}).get("features", [])
    ]
    served = [
        (f["id"], f["properties"]["count"])
        for f in _features(client, z, x, y, f"?council={b_slug}")
    ]
    assert sorted(by_text) == sorted(served)
    r = client.post(f"/api/v1/appeals/{number}/transfer", headers=bearer(url, "operator"),
                    json={"council": b_slug, "reason": "Місце на території Кушугума"})  # fmt: skip
    assert r.status_code == 200, r.text
    after = {a_slug: before[a_slug] - 1, b_slug: before[b_slug] + 1}
    assert _until(lambda: {a_slug: clusters(a_slug), b_slug: clusters(b_slug)} == after), after
    assert after == {a_slug: in_sql(a_id), b_slug: in_sql(b_id)}
    moved = dict(sql(url, "SELECT council_id, sum(n) FROM tiles.appeal_cells GROUP BY 1") or [])
    assert moved == {**in_cells, a_id: in_cells[a_id] - 1, b_id: in_cells[b_id] + 1}
