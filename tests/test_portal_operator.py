"""The contact centre's operator (issue 12, item 1): the appeal form works for a signed-in
operator (its CSRF token is sent), a house that holds no point of interest is found by its
number (interpolated along its registered street, gis/geocode.py), and categories are found by
the words callers use (categories.keywords)."""

from __future__ import annotations

import psycopg
import pytest
from browser import run_async
from fastapi.testclient import TestClient
from test_portal import NOW
from test_portal_appeal import AUTHOR, pin

from api import create_app
from gis import geocode, intake
from gis.settings import Settings

PORTAL = {"seed": 11, "appeals": 300, "now": NOW, "rate_limits_enabled": False}


@pytest.fixture(scope="module")
def client(portal, tmp_path_factory):
    settings = Settings(database_url=portal.db, data_dir=tmp_path_factory.mktemp("photos"),
                        rate_limits_enabled=False)  # fmt: skip
    with TestClient(create_app(settings)) as c:
        yield c


def _houses(db: str, street: str) -> dict[str, tuple[float, float]]:
    with psycopg.connect(db) as conn:
        rows = conn.execute(
            "SELECT properties->>'addr:housenumber', ST_X(ST_PointOnSurface(geom)),"
            " ST_Y(ST_PointOnSurface(geom)) FROM layer_features WHERE layer_name = 'pois'"
            " AND properties->>'addr:street' = %s AND properties ? 'addr:housenumber'",
            (street,),
        ).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def test_an_operator_files_a_call_on_the_appeal_form(portal, signed_in, screenshot):
    """Signed in as the operator, /appeal/new sends the session's CSRF token: the appeal is
    registered (it was 403 «бракує CSRF-токена» before), with the caller's data."""
    with psycopg.connect(portal.db) as conn:
        lon, lat, label = conn.execute(
            "SELECT ST_X(a.geom), ST_Y(a.geom), c.name || ' — ' || p.name FROM appeals a"
            " JOIN categories c ON c.id = a.category_id JOIN categories p ON p.id = c.parent_id"
            " WHERE a.geom IS NOT NULL AND c.is_active ORDER BY a.id LIMIT 1"
        ).fetchone()
    page = signed_in("operator")
    page.goto(portal.base + "/appeal/new")
    page.wait_for_selector('#appeal[data-state="ready"]', timeout=15_000)
    pin(page, lon + 0.0003, lat)
    page.get_by_label("Категорія").fill(label)
    page.get_by_label("Текст звернення").fill("Дзвінок на 1551: не працює ліхтар біля під'їзду.")
    page.get_by_label("Прізвище, ім’я, по батькові").fill(AUTHOR["full_name"])
    page.get_by_label("Телефон").fill(AUTHOR["phone"])
    page.get_by_label("Поштова адреса").fill(AUTHOR["postal_address"])
    page.get_by_role("button", name="Надіслати звернення").click()
    page.wait_for_selector('#appeal[data-state="done"]', timeout=15_000)
    number = page.locator("#done-number").inner_text()
    screenshot(page, "operator-appeal-form-done", full_page=True)
    with psycopg.connect(portal.db) as conn:
        row = conn.execute(
            "SELECT x.full_name, x.phone FROM appeals a JOIN appeal_authors x"
            " ON x.appeal_id = a.id WHERE a.number = %s",
            (number,),
        ).fetchone()
    assert row == (AUTHOR["full_name"], AUTHOR["phone"])


def _between(value: float, a: float, b: float) -> bool:
    return min(a, b) < value < max(a, b)


def test_a_house_with_no_point_of_interest_is_interpolated_along_its_street(portal, client):
    """«Хрещатик, 22» holds no point of interest: it lies between 18/2 and 30/1 (the even
    side); «Велика Васильківська, 1» a step before its lowest known house, 8, towards
    Бессарабська площа (north). A house that holds one is that point, not approximate."""
    khreshchatyk = _houses(portal.db, "вулиця Хрещатик")
    assert "22" not in khreshchatyk and {"18/2", "30/1"} <= set(khreshchatyk)
    r = client.get("/api/v1/geocode/search", params={"q": "Хрещатик, 22"})
    assert r.status_code == 200, r.text
    hit = r.json()["items"][0]
    assert hit["label"] == "вулиця Хрещатик, 22" and hit["approximate"] is True
    (lon_a, lat_a), (lon_b, lat_b) = khreshchatyk["18/2"], khreshchatyk["30/1"]
    assert _between(hit["lat"], lat_a, lat_b) and _between(hit["lon"], lon_a, lon_b)

    vasylkivska = _houses(portal.db, "Велика Васильківська вулиця")
    assert "1" not in vasylkivska and "8" in vasylkivska
    r = client.get("/api/v1/geocode/search", params={"q": "Велика Васильківська, 1"})
    hit = r.json()["items"][0]
    assert hit["label"] == "Велика Васильківська вулиця, 1" and hit["approximate"] is True
    assert vasylkivska["8"][1] < hit["lat"] < vasylkivska["8"][1] + 0.005  # north, < 550 m

    r = client.get("/api/v1/geocode/search", params={"q": "Хрещатик 21"})
    hit = r.json()["items"][0]
    assert hit["label"] == "вулиця Хрещатик, 21" and hit["approximate"] is False
    # A street not in the register gets no invented house.
    r = client.get("/api/v1/geocode/search", params={"q": "Неіснуюча вулиця, 5"})
    assert r.status_code == 200 and r.json()["items"] == []

    async def locate():
        async with await psycopg.AsyncConnection.connect(portal.db) as conn:
            return await intake.locate_address(conn, "Хрещатик", "22")

    lon, lat, address = run_async(locate)
    assert address == "вулиця Хрещатик, 22" and _between(lat, lat_a, lat_b)


def test_house_numbers_are_read_as_numbers():
    assert geocode.house_number("18/2") == 18
    assert geocode.house_number("27-А") == 27
    assert geocode.house_number("корпус 2") is None
    assert geocode.house_key("27-А") == geocode.house_key("27 а") == "27а"
