"""The contact centre's operator (issue 12, item 1): the intake page /operator drives a
typical call by keyboard alone (its keystrokes and seconds printed), on a desktop and a tablet;
the appeal form works for a signed-in operator (its CSRF token is sent); a house that holds no
point of interest is found by its number (interpolated along its registered street,
gis/geocode.py); categories are found by the words callers use (categories.keywords); a
caller is found by phone or e-mail, each read logged."""

from __future__ import annotations

import time

import psycopg
import pytest
from browser import run_async
from fastapi.testclient import TestClient
from playwright.sync_api import expect
from test_portal import NOW
from test_portal_appeal import AUTHOR, pin

from api import create_app
from gis import geocode, intake
from gis.settings import Settings

PORTAL = {"seed": 11, "appeals": 300, "now": NOW, "rate_limits_enabled": False}


@pytest.fixture(scope="module")
def client(portal, tmp_path_factory):
    settings = Settings(database_url=portal.db, data_dir=tmp_path_factory.mktemp("photos"),
                        rate_limits_enabled=False, demo_mode=True)  # fmt: skip
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


def _bearer(client, portal, role: str) -> dict[str, str]:
    account = portal.account(role)
    r = client.post(
        "/api/v1/auth/login", json={"email": account.login, "password": account.password}
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_categories_are_found_by_the_callers_words(client):
    """ "яма" (and its forms, and a whole phrase around it) finds the road surface; "батареї"
    heating; the matched keyword is named; too short a query is a 400 naming q."""
    for q in ("яма", "ями на дорозі", "вибоїна"):
        r = client.get("/api/v1/categories/search", params={"q": q})
        assert r.status_code == 200, r.text
        first = r.json()["items"][0]
        assert first["kind"] == "Ремонт та укладання асфальтного покриття", (q, first)
        assert first["parent_id"] is not None and first["deadline_days"] == 30
    for q, kind in (("батареї", "Опалення"), ("сміття", "Сміття"), ("ліфт", "Ліфт"),
                    ("не горить ліхтар", "Освітлення територій"), ("опал", "Опалення")):  # fmt: skip
        first = client.get("/api/v1/categories/search", params={"q": q}).json()["items"][0]
        assert kind in (first["kind"], first["name"]), (q, first)
    assert (
        client.get("/api/v1/categories/search", params={"q": "яма"}).json()["items"][0]["matched"]
        == "яма"
    )
    r = client.get("/api/v1/categories/search", params={"q": "я"})
    assert r.status_code == 400 and r.json()["parameter"] == "q"
    r = client.get("/api/v1/categories/search", params={"q": "я"},
                   headers={"Accept-Language": "en"})  # fmt: skip
    assert "at least 2 letters" in r.json()["detail"]


def test_the_administrator_edits_a_categorys_keywords(portal, client):
    """PATCH keywords replaces the list (cleaned: lower case, single spaces, no repeats); the
    new word finds the category at once; the change is audited; a non-list is a 400."""
    admin = _bearer(client, portal, "admin")
    with psycopg.connect(portal.db) as conn:
        kind_id, old = conn.execute(
            "SELECT id, keywords FROM categories WHERE name = 'Утримання зелених насаджень'"
            " AND parent_id IS NULL"
        ).fetchone()
    assert client.get("/api/v1/categories/search", params={"q": "омела"}).json()["items"] == []
    new = [*old, "  Омела ", "омела", "Сухостій  на дереві"]
    r = client.patch(f"/api/v1/categories/{kind_id}", json={"keywords": new}, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["keywords"] == [*old, "омела", "сухостій на дереві"]
    first = client.get("/api/v1/categories/search", params={"q": "омела"}).json()["items"][0]
    assert first["kind"] == "Утримання зелених насаджень" and first["matched"] == "омела"
    listed = client.get("/api/v1/directory/categories", headers=admin).json()["items"]
    assert next(c for c in listed if c["id"] == kind_id)["keywords"][-1] == "сухостій на дереві"
    with psycopg.connect(portal.db) as conn:
        audited = conn.execute(
            "SELECT count(*) FROM feature_events WHERE layer = 'categories'"
            " AND feature_id = %s::text AND new ? 'keywords'",
            (kind_id,),
        ).fetchone()[0]
    assert audited >= 1
    r = client.patch(f"/api/v1/categories/{kind_id}", json={"keywords": ["x" * 61]},
                     headers=admin)  # fmt: skip
    assert r.status_code == 400 and r.json()["code"] == "invalid_keywords"
    r = client.patch(f"/api/v1/categories/{kind_id}", json={"keywords": old}, headers=admin)
    assert r.status_code == 200
    operator = _bearer(client, portal, "operator")
    r = client.patch(f"/api/v1/categories/{kind_id}", json={"keywords": []}, headers=operator)
    assert r.status_code == 403


def test_a_caller_is_found_by_phone_or_e_mail_and_the_read_is_logged(portal, client):
    with psycopg.connect(portal.db) as conn:
        phone, email, count = conn.execute(
            "SELECT phone, min(email), count(*) FROM appeal_authors WHERE phone IS NOT NULL"
            " GROUP BY phone ORDER BY count(*) DESC, phone LIMIT 1"
        ).fetchone()
        logged = conn.execute("SELECT count(*) FROM personal_data_access").fetchone()[0]
    operator = _bearer(client, portal, "operator")
    digits = "".join(ch for ch in phone if ch.isdigit())
    # Typed another way: only its digits count (the last nine).
    r = client.get("/api/v1/callers", params={"phone": f"0{digits[-9:]}"}, headers=operator)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["returned"] == min(count, 20) and body["caller"]["phone"] == phone
    with psycopg.connect(portal.db) as conn:
        now_logged = conn.execute(
            "SELECT count(*) FROM personal_data_access WHERE purpose = 'caller:intake'"
        ).fetchone()[0]
        total = conn.execute("SELECT count(*) FROM personal_data_access").fetchone()[0]
    assert total == logged + body["returned"] and now_logged >= body["returned"]
    r = client.get("/api/v1/callers", params={"phone": "12"}, headers=operator)
    assert r.status_code == 400 and r.json()["code"] == "caller_query_required"
    r = client.get("/api/v1/callers", params={"email": "nobody@example.org"}, headers=operator)
    assert r.json() == {"caller": None, "appeals": [], "returned": 0}
    executor = _bearer(client, portal, "executor")
    assert (
        client.get("/api/v1/callers", params={"phone": phone}, headers=executor).status_code == 403
    )


class Keys:
    """The keyboard of a person: every key pressed is counted, each typed character at
    `delay` ms (an operator's ~400 characters a minute)."""

    def __init__(self, page, delay: float = 150):
        self.page, self.delay, self.count = page, delay, 0

    def type(self, value: str) -> None:
        self.page.keyboard.type(value, delay=self.delay)
        self.count += len(value)

    def press(self, key: str, times: int = 1) -> None:
        for _ in range(times):
            self.page.keyboard.press(key)
            self.page.wait_for_timeout(self.delay)  # the same pace as typing
        self.count += times


CALLER = {
    "phone": "0671112233",
    "full_name": "Приходько Оксана Петрівна",
    "postal_address": "вул. Січових Стрільців, 10, кв. 5",
}


@pytest.mark.parametrize(
    ("viewport", "name"),
    [({"width": 1280, "height": 800}, "desktop"), ({"width": 1024, "height": 768}, "tablet")],
)
def test_a_phone_call_is_registered_by_keyboard_alone(
    portal, signed_in, screenshot, browser_log, viewport, name
):
    """A new caller reports a pothole at «Хрещатик, 22» (a house with no point of interest):
    the caller's phone, name and postal address, the address found and picked, the category
    found by «яма», the text, Ctrl+Enter; the number and deadline are shown large and focused.
    Only the keyboard is used after the page opens; the keystrokes and seconds are printed."""
    page = signed_in("operator", viewport=viewport)
    expect(page.locator("#link-operator")).to_be_visible()
    page.goto(portal.base + "/operator")
    page.wait_for_selector('#operator[data-state="ready"]', timeout=15_000)
    expect(page.locator("#caller-q")).to_be_focused()
    keys = Keys(page)
    suffix = "1" if name == "desktop" else "2"  # a caller of its own per viewport
    started = time.monotonic()

    keys.type(CALLER["phone"] + suffix)
    keys.press("Enter")
    page.wait_for_selector('#operator[data-caller="new"]')
    expect(page.locator("#full_name")).to_be_focused()
    expect(page.locator("#phone")).to_have_value(CALLER["phone"] + suffix)
    # A phone and no e-mail: the channel shown follows at once (it said e-mail until submit).
    expect(page.locator("#notify_channel")).not_to_have_value("email")
    keys.type(CALLER["full_name"])
    keys.press("Tab", 3)  # phone (filled from the search), e-mail, postal address
    keys.type(CALLER["postal_address"])
    keys.press("Tab", 2)  # privilege (none), the address
    keys.type("Хрещатик, 22")
    keys.press("Enter")
    expect(page.locator("#address-results button").first).to_be_focused()
    expect(page.locator("#address-results button").first).to_have_text(
        "вулиця Хрещатик, 22 (приблизно)"
    )
    keys.press("Enter")
    page.wait_for_selector('#operator[data-place="set"]')
    expect(page.locator("#category-q")).to_be_focused()
    keys.type("яма")
    keys.press("Enter")
    first = page.locator("#category-results button").first
    expect(first).to_be_focused()
    expect(first).to_contain_text("Ремонт та укладання асфальтного покриття")
    keys.press("Enter")
    expect(page.locator("#text")).to_be_focused()
    keys.type("Глибока яма на проїжджій частині біля будинку.")
    screenshot(page, f"operator-call-{name}", full_page=True)
    keys.press("Control+Enter")
    page.wait_for_selector('#operator[data-state="done"]', timeout=15_000)
    seconds = time.monotonic() - started
    expect(page.locator("#done")).to_be_focused()
    number = page.locator("#done-number").inner_text()
    deadline = page.locator("#done-deadline").inner_text()
    screenshot(page, f"operator-done-{name}", full_page=True)
    print(f"\noperator intake ({name}): {keys.count} keystrokes, {seconds:.1f} s"
          f" (typing at {keys.delay:.0f} ms a key); number {number}, deadline {deadline}")  # fmt: skip
    assert seconds < 60 and keys.count < 200
    # The number is large: at least twice the body's text.
    size = page.evaluate(
        "() => parseFloat(getComputedStyle(document.getElementById('done-number')).fontSize)"
    )
    assert size >= 30

    with psycopg.connect(portal.db) as conn:
        row = conn.execute(
            "SELECT a.channel, a.address, p.name, x.full_name, x.phone, x.postal_address,"
            " ST_Y(a.geom) FROM appeals a JOIN appeal_authors x ON x.appeal_id = a.id"
            " JOIN categories c ON c.id = a.category_id JOIN categories p ON p.id = c.parent_id"
            " WHERE a.number = %s",
            (number,),
        ).fetchone()
    assert row[:6] == ("phone_1551", "вулиця Хрещатик, 22",
                       "Ремонт та укладання асфальтного покриття", CALLER["full_name"],
                       CALLER["phone"] + suffix, CALLER["postal_address"])  # fmt: skip
    assert 50.44 < row[6] < 50.46
    assert number[0] == "П" and deadline
    # How the caller hears of it, with no keystroke: a phone alone and no SMS gateway here —
    # nothing reaches them ('none'); in Ukrainian.
    with psycopg.connect(portal.db) as conn:
        notify = conn.execute(
            "SELECT x.notify_channel, x.language FROM appeal_authors x JOIN appeals a"
            " ON a.id = x.appeal_id WHERE a.number = %s",
            (number,),
        ).fetchone()
    assert notify == ("none", "uk")

    # The next call starts empty, on the caller's field; this caller is now known.
    keys.press("Tab")
    keys.press("Enter")
    expect(page.locator("#caller-q")).to_be_focused()
    keys.type(CALLER["phone"] + suffix)
    keys.press("Enter")
    page.wait_for_selector('#operator[data-caller="known"]')
    expect(page.locator("#history-list")).to_contain_text(number)
    expect(page.locator("#full_name")).to_have_value(CALLER["full_name"])
    expect(page.locator("#address-q")).to_be_focused()
    assert not browser_log.errors


def test_the_appeal_form_offers_categories_for_a_citizens_words(portal, page):
    """/appeal/new: «яма» (its placeholder's own example) is no category's name; the
    categories it names are offered under the field, and picking one chooses it."""
    page.goto(portal.base + "/appeal/new")
    page.wait_for_selector('#appeal[data-state="ready"]', timeout=15_000)
    page.get_by_label("Категорія", exact=True).fill("яма")
    first = page.locator("#category-suggest button").first
    expect(first).to_contain_text("Ремонт та укладання асфальтного покриття")
    first.click()
    expect(page.locator("#category-kind")).to_contain_text("Ремонт та укладання асфальтного")
    expect(page.locator("#category-suggest button")).to_have_count(0)
    expect(page.locator("#error-category")).to_be_empty()


def test_a_privileged_letter_with_no_location_from_a_known_caller(portal, signed_in, screenshot):
    """A known caller (found by e-mail: their data filled in, their appeals listed) sends a
    written letter about something with no place; a privilege is recorded: the appeal is
    privileged, its channel is "letter", it has no point."""
    with psycopg.connect(portal.db) as conn:
        email, full_name, known = conn.execute(
            "SELECT x.email, min(x.full_name), count(*) FROM appeal_authors x"
            " WHERE x.email IS NOT NULL AND x.postal_address IS NOT NULL"
            " GROUP BY x.email ORDER BY count(*) DESC, x.email LIMIT 1"
        ).fetchone()
    page = signed_in("operator", viewport={"width": 1024, "height": 768})
    page.goto(portal.base + "/operator?lang=en")
    page.wait_for_selector('#operator[data-state="ready"]', timeout=15_000)
    expect(page.locator("h1")).to_have_text("Taking a call")
    page.locator("#caller-q").fill(email)
    page.keyboard.press("Enter")
    page.wait_for_selector('#operator[data-caller="known"]')
    expect(page.locator("#history-list li")).to_have_count(min(known, 20))
    expect(page.locator("#email")).to_have_value(email)
    # The caller's appeals are listed with their categories in English where the data has it.
    with psycopg.connect(portal.db) as conn:
        names = conn.execute(
            "SELECT DISTINCT c.name_en FROM appeal_authors x JOIN appeals a ON a.id = x.appeal_id"
            " JOIN categories c ON c.id = a.category_id WHERE x.email = %s"
            " AND c.name_en IS NOT NULL", (email,)).fetchall()  # fmt: skip
    history = page.inner_text("#history-list")
    assert names and all(n in history for (n,) in names), (names, history)
    page.get_by_label("Channel").select_option("letter")
    page.get_by_label("Privilege (its legal ground), if any").fill("Учасник бойових дій")
    page.get_by_label("No location (the problem is not tied to an address)").check()
    expect(page.locator("#address-q")).to_be_disabled()
    page.get_by_label("Category — in the caller's words").fill("квитанції")
    page.keyboard.press("Enter")
    expect(page.locator("#category-results button").first).to_be_focused()
    page.keyboard.press("Enter")
    chosen = int(page.get_attribute("#operator", "data-category"))
    with psycopg.connect(portal.db) as conn:
        (name_en,) = conn.execute("SELECT name_en FROM categories WHERE id = %s", (chosen,)
                                  ).fetchone()  # fmt: skip
    expect(page.locator("#category-status")).to_contain_text(f"{name_en} (term")
    page.get_by_label("Text of the appeal").fill("Прошу пояснити нарахування у квитанції.")
    page.get_by_role("button", name="Register the appeal").click()
    page.wait_for_selector('#operator[data-state="done"], #operator[data-state="error"]')
    errors = [e.inner_text() for e in page.locator(".error").all() if e.inner_text()]
    assert page.get_attribute("#operator", "data-state") == "done", errors
    expect(page.locator("#done-note")).to_have_text("Privileged: considered first.")
    number = page.locator("#done-number").inner_text()
    screenshot(page, "operator-letter-done-en", full_page=True)
    with psycopg.connect(portal.db) as conn:
        row = conn.execute(
            "SELECT a.channel, a.privileged, a.geom IS NULL, x.privilege, x.email FROM appeals a"
            " JOIN appeal_authors x ON x.appeal_id = a.id WHERE a.number = %s",
            (number,),
        ).fetchone()
    assert row == ("letter", True, True, "Учасник бойових дій", email)
    # A caller with an e-mail hears by e-mail, in Ukrainian though the operator's page is English.
    with psycopg.connect(portal.db) as conn:
        notify = conn.execute(
            "SELECT x.notify_channel, x.language FROM appeal_authors x JOIN appeals a"
            " ON a.id = x.appeal_id WHERE a.number = %s",
            (number,),
        ).fetchone()
    assert notify == ("email", "uk")


def test_an_open_duplicate_nearby_is_named_instead_of_a_new_appeal(portal, client, signed_in):
    """An open pothole appeal at «Хрещатик, 23»: the operator taking a call about the same
    place and category sees it listed, and by keyboard names its number to the caller; no new
    appeal is registered."""
    operator = _bearer(client, portal, "operator")
    category = client.get("/api/v1/categories/search", params={"q": "яма"}).json()["items"][0]
    r = client.post(
        "/api/v1/appeals",
        json={"category": category["id"], "text": "Яма на дорозі біля будинку.",
              "location": {"address": "Хрещатик, 23"}, "channel": "phone_1551",
              "author": {"full_name": "Коваль Іван", "phone": "+380501234567",
                         "postal_address": "Київ, вул. Хрещатик, 23, кв. 1"}},
        headers={**operator, "Idempotency-Key": "duplicate-nearby-1"},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    existing = r.json()["number"]
    before = _count(portal.db)

    page = signed_in("operator")
    page.goto(portal.base + "/operator")
    page.wait_for_selector('#operator[data-state="ready"]', timeout=15_000)
    page.locator("#address-q").focus()
    page.keyboard.type("Хрещатик, 23")
    page.keyboard.press("Enter")
    expect(page.locator("#address-results button").first).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#category-q")).to_be_focused()
    page.keyboard.type("яма")
    page.keyboard.press("Enter")
    expect(page.locator("#category-results button").first).to_be_focused()
    page.keyboard.press("Enter")
    name = f"Назвати цей номер заявникові: № {existing} замість нового"
    button = page.get_by_role("button", name=name)
    expect(button).to_be_visible()
    expect(page.locator("#text")).to_be_focused()
    # Back from the text to the list (its last entry first: other tests' appeals may be near).
    for _ in range(6):
        page.keyboard.press("Shift+Tab")
        if button.evaluate("b => b === document.activeElement"):
            break
    expect(button).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_selector('#operator[data-state="done"]')
    expect(page.locator("#done-number")).to_have_text(existing)
    expect(page.locator("#done-note")).to_contain_text("Нове звернення не зареєстровано")
    assert _count(portal.db) == before


def _count(db: str) -> int:
    with psycopg.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM appeals").fetchone()[0]


def test_a_place_clicked_on_the_operators_map(portal, signed_in):
    """A street with no known house: the operator clicks the place on the map; the appeal is
    registered at that point."""
    page = signed_in("operator")
    page.goto(portal.base + "/operator")
    page.wait_for_selector('#operator[data-state="ready"]', timeout=15_000)
    # The districts are drawn, so the map shows the city without the online background.
    with psycopg.connect(portal.db) as conn:
        (districts,) = conn.execute(
            "SELECT count(*) FROM districts WHERE valid_to IS NULL"
        ).fetchone()
    expect(page.locator("#map")).to_have_attribute("data-districts", str(districts))
    assert page.locator("#map .leaflet-overlay-pane path").count() >= districts
    page.evaluate(
        "() => window.hromadaOperatorMap.setView([50.4501, 30.5234], 16, {animate: false})"
    )
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector('#operator[data-place="set"]')
    expect(page.locator("#place-info")).to_have_text("Точка на мапі")
    page.locator("#category-q").fill("сміття")
    page.keyboard.press("Enter")
    expect(page.locator("#category-results button").first).to_be_focused()
    page.keyboard.press("Enter")
    page.locator("#full_name").fill(CALLER["full_name"])
    page.locator("#phone").fill("+380501112299")
    page.locator("#postal_address").fill(CALLER["postal_address"])
    page.locator("#text").fill("Не вивозять сміття з контейнерів.")
    page.locator("#submit").click()
    page.wait_for_selector('#operator[data-state="done"]', timeout=15_000)
    number = page.locator("#done-number").inner_text()
    with psycopg.connect(portal.db) as conn:
        lon, lat = conn.execute(
            "SELECT ST_X(geom), ST_Y(geom) FROM appeals WHERE number = %s", (number,)
        ).fetchone()
    assert abs(lon - 30.5234) < 0.002 and abs(lat - 50.4501) < 0.002


def test_the_caller_supports_an_open_duplicate_nearby_by_keyboard(
    portal, client, signed_in, screenshot, browser_log
):
    """An open pothole appeal at «Хрещатик, 25»: a caller about the same pothole supports it
    instead of filing a duplicate. By keyboard: the caller's phone and name, the address, the
    category, then back to the appeal's "support on the caller's behalf"; the page reads back
    «Ваш голос додано до звернення № … (підтримали N)», large; no appeal is registered; the
    supporter's row holds the phone, the operator and the channel; N is SQL's support_count;
    the next call starts empty. The same caller again: 409, said beside the list."""
    operator = _bearer(client, portal, "operator")
    category = client.get("/api/v1/categories/search", params={"q": "яма"}).json()["items"][0]
    r = client.post(
        "/api/v1/appeals",
        json={"category": category["id"], "text": "Яма на дорозі біля будинку 25.",
              "location": {"address": "Хрещатик, 25"}, "channel": "phone_1551",
              "author": {"full_name": "Коваль Іван", "phone": "+380501234560",
                         "postal_address": "Київ, вул. Хрещатик, 25, кв. 1"}},
        headers={**operator, "Idempotency-Key": "support-nearby-1"},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    existing = r.json()["number"]
    before = _count(portal.db)
    phone, full_name = "067 555-44-33", "Мельник Андрій Олегович"

    page = signed_in("operator")
    page.goto(portal.base + "/operator")
    page.wait_for_selector('#operator[data-state="ready"]', timeout=15_000)
    keys = Keys(page, delay=20)
    keys.type(phone)
    keys.press("Enter")
    page.wait_for_selector('#operator[data-caller="new"]')
    expect(page.locator("#full_name")).to_be_focused()
    keys.type(full_name)
    page.locator("#address-q").focus()  # as Tab ×5 would: phone, e-mail, address, privilege
    keys.type("Хрещатик, 25")
    keys.press("Enter")
    expect(page.locator("#address-results button").first).to_be_focused()
    keys.press("Enter")
    expect(page.locator("#category-q")).to_be_focused()
    keys.type("яма")
    keys.press("Enter")
    expect(page.locator("#category-results button").first).to_be_focused()
    keys.press("Enter")
    button = page.get_by_role(
        "button", name=f"Підтримати від імені абонента звернення № {existing}"
    )
    expect(button).to_be_visible()
    expect(page.locator("#text")).to_be_focused()
    for _ in range(12):  # back from the text to the list; other tests' appeals may be near
        keys.press("Shift+Tab")
        if button.evaluate("b => b === document.activeElement"):
            break
    expect(button).to_be_focused()
    keys.press("Enter")
    page.wait_for_selector('#operator[data-state="done"]', timeout=15_000)
    expect(page.locator("#done")).to_be_focused()
    with psycopg.connect(portal.db) as conn:
        (count,) = conn.execute(
            "SELECT support_count FROM appeals WHERE number = %s", (existing,)
        ).fetchone()
        rows = conn.execute(
            "SELECT s.phone, s.full_name, u.email, s.channel, s.user_id FROM appeal_supporters s"
            " JOIN appeals a ON a.id = s.appeal_id LEFT JOIN users u ON u.id = s.recorded_by"
            " WHERE a.number = %s",
            (existing,),
        ).fetchall()
    assert rows == [("+380675554433", full_name, portal.account("operator").login, "phone_1551",
                     None)]  # fmt: skip
    said = f"Ваш голос додано до звернення № {existing} (підтримали {count})"
    expect(page.locator("#done-supported")).to_have_text(said)
    expect(page.locator("#done-number")).to_be_hidden()
    assert page.get_attribute("#operator", "data-supported") == str(count) == "1"
    size = page.evaluate(
        "() => parseFloat(getComputedStyle(document.getElementById('done-supported')).fontSize)"
    )
    assert size >= 24
    assert _count(portal.db) == before  # no new appeal
    screenshot(page, "operator-supported", full_page=True)

    # The next call: an empty form, on the caller's field.
    keys.press("Tab")
    expect(page.locator("#next-call")).to_be_focused()
    keys.press("Enter")
    expect(page.locator("#caller-q")).to_be_focused()
    expect(page.locator("#phone")).to_have_value("")
    expect(page.locator("#full_name")).to_have_value("")
    expect(page.locator("#done")).to_be_hidden()

    # The same caller calls again about it: told it is supported already; nothing changes.
    page.locator("#phone").fill("+380 67 555 44 33")
    page.locator("#address-q").fill("Хрещатик, 25")
    page.locator("#address-q").press("Enter")
    expect(page.locator("#address-results button").first).to_be_focused()
    page.keyboard.press("Enter")
    page.locator("#category-q").fill("яма")
    page.locator("#category-q").press("Enter")
    expect(page.locator("#category-results button").first).to_be_focused()
    page.keyboard.press("Enter")
    expect(button).to_be_visible()
    button.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#error-nearby")).to_contain_text(f"звернення № {existing}")
    expect(button).to_be_focused()
    assert page.get_attribute("#operator", "data-state") == "error"
    with psycopg.connect(portal.db) as conn:
        assert conn.execute(
            "SELECT support_count FROM appeals WHERE number = %s", (existing,)
        ).fetchone() == (1,)
    assert not browser_log.errors


def test_the_nearby_list_and_the_support_read_back_pass_axe(portal, client, signed_in):
    """axe-core (WCAG 2.1 AA, tests/test_portal_a11y.py) over the intake with the nearby list
    and its support buttons shown, and over the read-back of a caller's support."""
    from test_portal_a11y import AXE, axe_violations

    if not AXE.exists():
        pytest.fail("axe-core is missing from webmap/node_modules: run `make assets`")
    operator = _bearer(client, portal, "operator")
    category = client.get("/api/v1/categories/search", params={"q": "яма"}).json()["items"][0]
    r = client.post(
        "/api/v1/appeals",
        json={"category": category["id"], "text": "Яма на дорозі біля будинку 27.",
              "location": {"address": "Хрещатик, 27"}, "channel": "phone_1551",
              "author": {"full_name": "Коваль Іван", "phone": "+380501234561",
                         "postal_address": "Київ, вул. Хрещатик, 27, кв. 1"}},
        headers={**operator, "Idempotency-Key": "support-nearby-axe"},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    existing = r.json()["number"]
    page = signed_in("operator", bypass_csp=True)  # axe is injected as an inline script
    page.goto(portal.base + "/operator")
    page.wait_for_selector('#operator[data-state="ready"]', timeout=15_000)
    page.locator("#email").fill("axe.caller@example.org")
    page.locator("#address-q").fill("Хрещатик, 27")
    page.locator("#address-q").press("Enter")
    expect(page.locator("#address-results button").first).to_be_focused()
    page.keyboard.press("Enter")
    page.locator("#category-q").fill("яма")
    page.locator("#category-q").press("Enter")
    expect(page.locator("#category-results button").first).to_be_focused()
    page.keyboard.press("Enter")
    button = page.get_by_role(
        "button", name=f"Підтримати від імені абонента звернення № {existing}"
    )
    expect(button).to_be_visible()
    assert axe_violations(page) == []
    button.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector('#operator[data-state="done"]', timeout=15_000)
    expect(page.locator("#done-supported")).to_contain_text(f"№ {existing}")
    assert axe_violations(page) == []
