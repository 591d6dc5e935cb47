"""Councils as tenants, the map's side (issue 17, slice C): a council's own staff read the
appeals layer as the public does plus the internal properties of their council's appeals
only (another council's are null), the executor territories of their council only (OGC items,
one feature, vector tiles), and such tiles are keyed by the council and private. Two real
councils of Zaporizhzhia oblast built by SQL (tests/test_council_reports.build)."""

from __future__ import annotations

import math
import os

import psycopg
import pytest
from conftest import create_database, drop_database
from fastapi.testclient import TestClient
from test_council_reports import A_CODE, B_CODE, bearer, build, sql
from test_tiles import decode

from api import create_app
from gis.db import libpq_url
from gis.settings import Settings


@pytest.fixture(scope="module")
def two(server_url, template_url, shared_data):
    name = f"t_council_layers_{os.getpid()}"
    url = create_database(server_url, name, template=template_url.rpartition("/")[2])
    try:
        ids = build(url, shared_data)
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            for code in (A_CODE, B_CODE):
                conn.execute(
                    "INSERT INTO executor_territories (executor_id, code, name, geom)"
                    " SELECT e.id, %s, %s, h.geom FROM executors e, hromadas h"
                    " WHERE e.code = %s AND h.code = %s",
                    (f"t-{code}", f"Територія {code}", f"e-{code}", code),
                )
        yield url, ids
    finally:
        drop_database(server_url, name)


@pytest.fixture(scope="module")
def client(two, tmp_path_factory):
    settings = Settings(database_url=two[0], data_dir=tmp_path_factory.mktemp("council_layers"),
                        rate_limits_enabled=False)  # fmt: skip
    with TestClient(create_app(settings)) as c:
        yield c


def _executor(url: str, code: str) -> int:
    return sql(url, "SELECT id FROM executors WHERE code = %s", (f"e-{code}",))[0][0]


def _executor_bearer(url: str, code: str) -> dict:
    """An executor of the council's organisation (bound to its council)."""
    return bearer(url, "executor", None, executor_id=_executor(url, code))


def _items(client, collection: str, headers: dict) -> dict[str, dict]:
    r = client.get(f"/ogc/collections/{collection}/items?limit=100", headers=headers)
    assert r.status_code == 200, r.text
    return {
        f["properties"].get("number") or f["properties"]["code"]: f for f in r.json()["features"]
    }


def test_a_council_s_staff_see_internal_properties_of_their_council_s_appeals_only(client, two):
    url, ids = two
    own = bearer(url, "operator", ids[A_CODE])
    features = _items(client, "appeals", own)
    assert len(features) == 6  # every council's public appeals, as the public sees them
    for number, f in features.items():
        executor = f["properties"]["executor_id"]
        if number.startswith("ЗП"):
            assert executor == _executor(url, A_CODE) and f["properties"]["channel"] == "site"
        else:
            assert executor is None and f["properties"]["channel"] is None
    oblast = _items(client, "appeals", bearer(url, "operator", None))
    assert {f["properties"]["executor_id"] for f in oblast.values()} == {
        _executor(url, A_CODE),
        _executor(url, B_CODE),
    }
    public = _items(client, "appeals", {})
    assert "executor_id" not in next(iter(public.values()))["properties"]
    b_id = next(f["id"] for n, f in features.items() if n.startswith("КШ"))
    one = client.get(f"/ogc/collections/appeals/items/{b_id}", headers=own).json()
    assert one["properties"]["executor_id"] is None


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def test_executor_territories_are_a_council_s_own(client, two):
    url, ids = two
    territory = {
        code: sql(url, "SELECT id FROM executor_territories WHERE code = %s", (f"t-{code}",))[0][0]
        for code in (A_CODE, B_CODE)
    }
    a, b = _executor_bearer(url, A_CODE), _executor_bearer(url, B_CODE)
    assert set(_items(client, "executor_territories", a)) == {f"t-{A_CODE}"}
    assert set(_items(client, "executor_territories", b)) == {f"t-{B_CODE}"}
    oblast = bearer(url, "curator", None)
    assert set(_items(client, "executor_territories", oblast)) == {f"t-{A_CODE}", f"t-{B_CODE}"}
    r = client.get(f"/ogc/collections/executor_territories/items/{territory[B_CODE]}", headers=a)
    assert r.status_code == 404

    lon, lat = sql(url, "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p"
                        " FROM hromadas WHERE code = %s) x", (A_CODE,))[0]  # fmt: skip
    z, x, y = _tile_of(lon, lat, 7)
    path = f"/tiles/executor_territories/{z}/{x}/{y}.mvt"
    seen = {}
    for name, headers in (("a", a), ("b", b), ("oblast", oblast)):
        r = client.get(path, headers=headers)
        assert r.status_code == 200, r.text
        assert r.headers["cache-control"].startswith("private")
        layer = decode(r.content).get("executor_territories", {"features": []})
        seen[name] = {f["id"] for f in layer["features"]}
    assert seen == {
        "a": {territory[A_CODE]},
        "b": {territory[B_CODE]},
        "oblast": {territory[A_CODE], territory[B_CODE]},
    }
