"""No citizen's personal data in any public response.

Appeals are filed with distinctive names, e-mails, phones and postal addresses (and a text
whose author did not consent to publish it); then every public endpoint that could carry an
appeal — OGC collections and items, vector tiles at every zoom over the appeal, TileJSON, the
public feed and its statistics, the public card and history, nearby appeals, the layer
catalogue — is read as an anonymous caller and searched for those strings, in the raw bytes.
"""

from __future__ import annotations

import datetime as dt
import math

import psycopg
import pytest
from conftest import demo_city
from fastapi.testclient import TestClient

from api import create_app
from gis.settings import Settings

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
POINT = {"lon": 30.5167, "lat": 50.4481}
AUTHORS = [
    {
        "full_name": "Приватенко Мирослава Іванівна",
        "email": "myroslava.pryvatenko.7731@example.test",
        "phone": "+380 67 773 12 34",
        "postal_address": "м. Київ, вул. Таємнича, 77, кв. 113",
    },
    {
        "full_name": "Конфіденційний Остап Петрович",
        "email": "ostap.konfidentsiinyi.4420@example.test",
        "phone": "+380 50 442 00 99",
        "postal_address": "м. Київ, просп. Закритий, 5, кв. 42",
    },
]
HIDDEN_TEXT = "ЗАКРИТИЙ-ТЕКСТ-9931 у під’їзді не працює ліфт"


def needles() -> list[str]:
    """Every form a person's data could take in a response."""
    out = [HIDDEN_TEXT.split()[0]]
    for a in AUTHORS:
        out += [a["full_name"], a["full_name"].split()[0], a["email"], a["email"].split("@")[0]]
        out += [a["phone"], a["phone"].replace(" ", ""), a["phone"].replace(" ", "")[-9:]]
        out += [a["postal_address"], a["postal_address"].split(", ")[1]]
    return out


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


@pytest.fixture(scope="module")
def filed(server_url, template_url, shared_data, tmp_path_factory):
    with demo_city(server_url, template_url, shared_data, "privacy", seed=5, appeals=300,
                   now=NOW) as url:  # fmt: skip
        yield from _file_appeals(url, tmp_path_factory)


def _file_appeals(url, tmp_path_factory):
    settings = Settings(
        database_url=url, data_dir=tmp_path_factory.mktemp("privacy"), rate_limits_enabled=False
    )
    with TestClient(create_app(settings)) as client:
        with psycopg.connect(url) as conn:
            category = conn.execute(
                "SELECT id FROM categories WHERE parent_id IS NOT NULL AND is_active"
                " ORDER BY id LIMIT 1"
            ).fetchone()[0]
        numbers = []
        for i, author in enumerate(AUTHORS):
            r = client.post(
                "/api/v1/appeals",
                json={
                    "category": category,
                    "text": HIDDEN_TEXT if i == 0 else "Яма на тротуарі біля зупинки, глибока.",
                    "location": {"lon": POINT["lon"] + i * 0.0004, "lat": POINT["lat"]},
                    "author": author,
                    "consent_to_publish": i == 1,
                },
            )
            assert r.status_code == 201, r.text
            numbers.append(r.json()["number"])
        yield client, numbers


def public_paths(client: TestClient, numbers: list[str]) -> list[str]:
    lon, lat = POINT["lon"], POINT["lat"]
    bbox = f"{lon - 0.01},{lat - 0.01},{lon + 0.01},{lat + 0.01}"
    paths = [
        "/ogc/collections",
        "/ogc/collections/appeals",
        "/ogc/collections/appeals/queryables",
        f"/ogc/collections/appeals/items?bbox={bbox}&limit=1000",
        "/ogc/collections/appeals/items?limit=10000",
        "/tiles/appeals/tilejson.json",
        "/api/v1/layers",
        "/api/v1/appeals/public?period=all&limit=500",
        f"/api/v1/appeals/public?period=all&bbox={bbox}",
        "/api/v1/appeals/public/statistics?period=all",
        f"/api/v1/appeals/nearby?lon={lon}&lat={lat}&category=1",
    ]
    for number in numbers:
        paths += [f"/api/v1/appeals/{number}", f"/api/v1/appeals/{number}/history"]
    items = client.get(f"/ogc/collections/appeals/items?bbox={bbox}&limit=1000").json()
    paths += [f"/ogc/collections/appeals/items/{f['id']}" for f in items["features"]]
    for z in range(8, 18):
        x, y = tile_of(lon, lat, z)
        paths.append(f"/tiles/appeals/{z}/{x}/{y}.mvt")
    return paths


def test_no_public_response_carries_an_authors_personal_data(filed):
    client, numbers = filed
    leaks = []
    read = 0
    for path in public_paths(client, numbers):
        r = client.get(path)
        if r.status_code == 204:
            continue
        assert r.status_code == 200, f"{path}: {r.status_code} {r.text[:200]}"
        read += 1
        body = r.content.decode("utf-8", errors="replace").lower()
        leaks += [(path, n) for n in needles() if n.lower() in body]
    assert read > 20
    assert not leaks, leaks


def test_the_public_appeal_is_found_so_the_search_above_looks_in_the_right_place(filed):
    client, numbers = filed
    card = client.get(f"/api/v1/appeals/{numbers[1]}").json()
    assert card["text"].startswith("Яма на тротуарі")  # consented: the text is public
    hidden = client.get(f"/api/v1/appeals/{numbers[0]}").json()
    assert hidden["text"] is None
    lon, lat = POINT["lon"], POINT["lat"]
    bbox = f"{lon - 0.01},{lat - 0.01},{lon + 0.01},{lat + 0.01}"
    items = client.get(f"/ogc/collections/appeals/items?bbox={bbox}&limit=1000").json()
    served = {f["properties"]["number"] for f in items["features"]}
    assert set(numbers) <= served
    x, y = tile_of(lon, lat, 16)
    tile = client.get(f"/tiles/appeals/16/{x}/{y}.mvt")
    assert tile.status_code == 200 and len(tile.content) > 0
