"""The "file an appeal" page (/appeal/new) in Debian's chromium, on a small demo city: a person
pins the problem on the map, sees the pin's district, picks a category from the real list,
writes the text, adds photos (a sixth is refused), gives their data and sends it; the number
and the deadline appear, and the public view finds the appeal in the pinned district. A bad
text shows the API's Ukrainian message next to the field, and nothing is stored. Open appeals
of the same category near the pin are listed with "Підтримати". Switched to English, the page,
its messages and the API's errors next to the fields are English, and the date of the deadline
too. No JavaScript errors; no request leaves 127.0.0.1. Also the address endpoints the page
uses (/api/v1/geocode)."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import psycopg
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import expect
from test_portal import NOW

from api import create_app
from gis.settings import Settings

AUTHOR = {
    "full_name": "Приходько Оксана Петрівна",
    "email": "oksana.prykhodko@example.ua",
    "phone": "+380 67 123 45 67",
    "postal_address": "м. Київ, вул. Січових Стрільців, 10, кв. 5",
}


PORTAL = {"seed": 11, "appeals": 400, "now": NOW, "rate_limits_enabled": False}


@pytest.fixture(scope="module")
def demo_url(portal):
    return portal.db


@pytest.fixture(scope="module")
def base(portal):
    return portal.base


@pytest.fixture(scope="module")
def settings(demo_url, tmp_path_factory):
    return Settings(
        database_url=demo_url, data_dir=tmp_path_factory.mktemp("appeal-photos"),
        rate_limits_enabled=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def open_appeal(demo_url) -> dict:
    """An open appeal with a place, its category (a sub-kind) and its district."""
    with psycopg.connect(demo_url) as conn:
        row = conn.execute(
            "SELECT a.number, ST_X(a.geom), ST_Y(a.geom), c.id, c.name, p.name, d.name"
            "  FROM appeals a JOIN categories c ON c.id = a.category_id"
            "  JOIN categories p ON p.id = c.parent_id JOIN districts d ON d.id = a.district_id"
            " WHERE a.status <> 'closed' AND a.geom IS NOT NULL AND c.is_active"
            " ORDER BY a.id LIMIT 1"
        ).fetchone()
    assert row, "the demo city has open appeals"
    number, lon, lat, cid, name, kind, district = row
    return {"number": number, "lon": lon, "lat": lat, "category_id": cid,
            "label": f"{name} — {kind}", "district": district}  # fmt: skip


def count_appeals(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM appeals").fetchone()[0]


def png(i: int) -> dict:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (40 * i % 255, 90, 160)).save(buf, "PNG")
    return {"name": f"photo-{i}.png", "mimeType": "image/png", "buffer": buf.getvalue()}


def shot(page, screenshot, name: str) -> Path:
    page.evaluate("window.scrollTo(0, 0)")  # the map's panel is sticky on a desktop
    return screenshot(page, name, full_page=True)


def pin(page, lon: float, lat: float, zoom: int = 17) -> None:
    """Centre the map near the place, then click it with the mouse, as a person would."""
    page.evaluate("([lat, lon, z]) => window.hromadaAppealMap.setView([lat, lon], z,"
                  " {animate: false})", [lat, lon, zoom])  # fmt: skip
    # Settled: at that zoom, no zoom animation (of an earlier view) running.
    page.wait_for_function("z => window.hromadaAppealMap.getZoom() === z"
                           " && !window.hromadaAppealMap._animatingZoom", arg=zoom)  # fmt: skip
    point = page.evaluate(
        "([lat, lon]) => { const p = window.hromadaAppealMap.latLngToContainerPoint([lat, lon]);"
        " const r = document.getElementById('map').getBoundingClientRect();"
        " return [r.left + p.x, r.top + p.y]; }",
        [lat, lon],
    )
    page.mouse.click(point[0], point[1])
    page.wait_for_selector('#appeal[data-pin="set"]', timeout=10_000)


@pytest.mark.parametrize(
    ("viewport", "name"),
    [({"width": 1280, "height": 800}, "desktop"), ({"width": 390, "height": 844}, "phone")],
)
def test_pin_pick_write_and_file_an_appeal(
    base, demo_url, open_appeal, screenshot, viewport, name, page
):
    before = count_appeals(demo_url)
    page.set_viewport_size(viewport)
    page.goto(base + "/appeal/new")
    page.wait_for_selector('#appeal[data-state="ready"]', timeout=15_000)
    assert page.locator("h1").inner_text() == "Подати звернення"
    assert page.locator(".leaflet-overlay-pane path").count() == 10  # the districts

    # A place a few metres from an open appeal: the district is shown under the map.
    lon, lat = open_appeal["lon"] + 0.0002, open_appeal["lat"]
    pin(page, lon, lat)
    expect(page.locator("#pin-info")).to_contain_text(open_appeal["district"])
    pinned = [float(page.get_attribute("#appeal", f"data-{k}")) for k in ("lon", "lat")]
    assert abs(pinned[0] - lon) < 1e-4 and abs(pinned[1] - lat) < 1e-4  # within ~10 m

    # The category from the real list (the datalist), by its label.
    options = page.locator("#category-list option")
    assert options.count() > 20
    page.get_by_label("Категорія").fill(open_appeal["label"])
    expect(page.locator("#category-kind")).to_contain_text("Строк розгляду")

    # The open appeal of that category nearby is offered for support.
    nearby = page.locator("#nearby")
    expect(nearby).to_be_visible()
    expect(nearby).to_contain_text(open_appeal["number"])
    support = page.get_by_role("button", name=f"Підтримати звернення № {open_appeal['number']}")
    support.click()  # not signed in: asked to sign in, nothing sent
    expect(page.locator("#nearby-message")).to_contain_text("Увійдіть")

    page.get_by_label("Текст звернення").fill("Не горить ліхтар біля під'їзду вже тиждень.")
    expect(page.locator("#text-counter")).to_have_text(re.compile(r"^43 з 4\s000 символів$"))

    # Six photos: five are kept, the sixth is refused with a message; one removed.
    page.set_input_files("#photos", [png(i) for i in range(6)])
    expect(page.locator("#photo-previews img")).to_have_count(5)
    expect(page.locator("#error-photos")).to_contain_text("не більше 5 фото")
    page.get_by_role("button", name="Прибрати фото 5").click()
    expect(page.locator("#photo-previews img")).to_have_count(4)

    page.get_by_label("Прізвище, ім’я, по батькові").fill(AUTHOR["full_name"])
    page.get_by_label("Електронна пошта").fill(AUTHOR["email"])
    page.get_by_label("Телефон").fill(AUTHOR["phone"])
    page.get_by_label("Поштова адреса").fill(AUTHOR["postal_address"])
    page.get_by_label("Текст і фото можна оприлюднити").check()
    shot(page, screenshot, f"appeal-form-{name}")

    page.get_by_role("button", name="Надіслати звернення").click()
    page.wait_for_selector('#appeal[data-state="done"]', timeout=15_000)
    number = page.locator("#done-number").inner_text()
    assert number.startswith("П-")
    expect(page.locator("#done-deadline")).not_to_be_empty()
    expect(page.locator("#done")).to_be_focused()
    shot(page, screenshot, f"appeal-done-{name}")
    # "check it later" opens the public map with the appeal's card (check by number)
    assert unquote(page.get_attribute("#done-link", "href")).endswith(f"/?number={number}")
    page.click("#done-link")
    expect(page.locator("#card-title")).to_contain_text(number, timeout=15_000)
    assert count_appeals(demo_url) == before + 1

    with TestClient(create_app(Settings(database_url=demo_url))) as c:
        body = c.get(f"/api/v1/appeals/{number}").json()
        assert body["category"]["id"] == open_appeal["category_id"]
        assert body["district"]["name"] == open_appeal["district"]
        assert [body["location"]["lon"], body["location"]["lat"]] == pinned
        assert body["is_public"] is True and len(body["photos"]) == 4
        assert "Приходько" not in str(body)  # never the author's data


CYRILLIC = re.compile("[\u0400-\u04ff]")
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")  # fmt: skip


@pytest.mark.parametrize(
    ("viewport", "name"),
    [({"width": 1280, "height": 800}, "desktop"), ({"width": 390, "height": 844}, "phone")],
)
def test_the_form_in_english_shows_english_errors_and_the_english_result(
    base, demo_url, open_appeal, screenshot, viewport, name, page
):
    """A Ukrainian browser (Accept-Language: uk) switches the page to English: the labels, the
    page's own messages and the API's refusal of a missing name (the fetch asks for the page's
    language) are English, next to their fields; filed, the number and the deadline (an English
    date) appear in English; the switch leads back to Ukrainian."""
    before = count_appeals(demo_url)
    page.set_viewport_size(viewport)
    page.goto(base + "/appeal/new")
    page.wait_for_selector('#appeal[data-state="ready"]', timeout=15_000)
    page.click('a[data-lang="en"]')
    page.wait_for_url(re.compile(r"lang=en"))
    page.wait_for_selector('#appeal[data-state="ready"]', timeout=15_000)
    assert page.get_attribute("html", "lang") == "en"
    assert page.locator("h1").inner_text() == "File an appeal"
    assert page.title().startswith("File an appeal")
    expect(page.locator("#place-title")).to_have_text("1. Where is the problem?")
    expect(page.locator("#pin-info")).to_have_text("No place marked yet.")
    switch = page.locator('a[data-lang="uk"]')
    expect(switch).to_be_visible()
    switch.focus()
    expect(switch).to_be_focused()

    # The page's own check: no place yet, an English message under the map.
    page.get_by_role("button", name="Send the appeal").click()
    expect(page.locator("#error-location")).to_have_text(
        "Mark the place of the problem on the map or find an address."
    )

    pin(page, open_appeal["lon"] + 0.0002, open_appeal["lat"])
    expect(page.locator("#pin-info")).to_contain_text(open_appeal["district"])  # data
    page.get_by_label("Category", exact=True).fill(open_appeal["label"])  # the register's names
    expect(page.locator("#category-kind")).to_contain_text(re.compile(r"Reply within \d+ days?\."))
    # The kind named in English (the catalogue's name_en), the label as the register has it.
    with psycopg.connect(demo_url) as conn:
        (kind_en,) = conn.execute("SELECT p.name_en FROM categories c JOIN categories p"
                                  " ON p.id = c.parent_id WHERE c.id = %s",
                                  (open_appeal["category_id"],)).fetchone()  # fmt: skip
    assert kind_en
    expect(page.locator("#category-kind")).to_contain_text(f"Kind: {kind_en}.")
    expect(page.get_by_role(
        "button", name=f"Support appeal No. {open_appeal['number']}"
    )).to_be_visible()  # fmt: skip
    expect(page.locator("#nearby-title")).to_have_text(
        "There are open appeals of this category nearby"
    )
    page.get_by_role("button", name=f"Support appeal No. {open_appeal['number']}").click()
    expect(page.locator("#nearby-message")).to_have_text(
        "Sign in as a resident to support an appeal."
    )

    page.get_by_label("Text of the appeal").fill("Не горить ліхтар біля під'їзду вже тиждень.")
    expect(page.locator("#text-counter")).to_have_text("43 of 4,000 characters")
    page.set_input_files("#photos", [png(i) for i in range(6)])
    expect(page.locator("#photo-previews img")).to_have_count(5)
    expect(page.locator("#error-photos")).to_have_text(
        "No more than 5 photos can be added; not added: photo-5.png."
    )
    page.get_by_role("button", name="Remove photo 5").click()
    expect(page.locator("#photo-previews img")).to_have_count(4)

    # No name: the API refuses it, in English, under the name field, which gets focus.
    page.get_by_label("E-mail", exact=True).fill(AUTHOR["email"])
    page.get_by_label("Phone", exact=True).fill(AUTHOR["phone"])
    page.get_by_label("Postal address", exact=True).fill(AUTHOR["postal_address"])
    page.get_by_role("button", name="Send the appeal").click()
    error = page.locator('[id="error-author.full_name"]')
    expect(error).to_contain_text("full name", timeout=10_000)
    assert not CYRILLIC.search(error.inner_text()), error.inner_text()
    expect(page.get_by_label("Full name (surname, first name, patronymic)")).to_be_focused()
    assert page.get_attribute("#full_name", "aria-invalid") == "true"
    shot(page, screenshot, f"appeal-error-en-{name}")

    # A bad e-mail: the API's English message under the e-mail field.
    page.get_by_label("Full name (surname, first name, patronymic)").fill(AUTHOR["full_name"])
    page.get_by_label("E-mail", exact=True).fill("oksana.example.ua")
    page.get_by_role("button", name="Send the appeal").click()
    error = page.locator('[id="error-author.email"]')
    expect(error).to_contain_text("e-mail", timeout=10_000)
    assert not CYRILLIC.search(error.inner_text().replace("oksana.example.ua", ""))
    expect(page.locator('[id="error-author.full_name"]')).to_be_empty()
    expect(page.get_by_label("E-mail", exact=True)).to_be_focused()

    page.get_by_label("E-mail", exact=True).fill(AUTHOR["email"])
    expect(page.locator('[id="error-author.email"]')).to_be_empty()  # being corrected
    assert page.get_attribute("#email", "aria-invalid") is None
    page.get_by_label("The text and photos may be published on the map").check()
    shot(page, screenshot, f"appeal-form-en-{name}")
    page.get_by_role("button", name="Send the appeal").click()
    page.wait_for_selector('#appeal[data-state="done"]', timeout=15_000)
    expect(page.locator("#done-title")).to_have_text("Your appeal is registered")
    expect(page.locator("#done")).to_contain_text("Registration number")
    expect(page.locator("#done")).to_contain_text("Reply due by")
    number = page.locator("#done-number").inner_text()
    assert number.startswith("П-")
    deadline = page.locator("#done-deadline").inner_text()
    month = "|".join(MONTHS_EN)
    assert re.fullmatch(rf"\d{{1,2}} ({month}) \d{{4}}", deadline), deadline
    expect(page.get_by_role("link", name="Check the appeal's status")).to_be_visible()
    expect(page.locator("#done")).to_be_focused()
    shot(page, screenshot, f"appeal-done-en-{name}")

    # Back to Ukrainian: the switch keeps the page, the texts are Ukrainian again.
    page.click('a[data-lang="uk"]')
    page.wait_for_url(re.compile(r"lang=uk"))
    page.wait_for_selector('#appeal[data-state="ready"]', timeout=15_000)
    assert page.locator("h1").inner_text() == "Подати звернення"
    expect(page.locator("#pin-info")).to_have_text("Місце ще не позначено.")
    assert count_appeals(demo_url) == before + 1
    with TestClient(create_app(Settings(database_url=demo_url))) as c:
        body = c.get(f"/api/v1/appeals/{number}").json()
    day = dt.datetime.fromisoformat(body["deadline_at"]).astimezone(ZoneInfo("Europe/Kyiv"))
    assert deadline == f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}"


def test_a_bad_text_is_refused_next_to_the_field_and_nothing_is_stored(
    base, demo_url, open_appeal, screenshot, page
):
    before = count_appeals(demo_url)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(base + "/appeal/new")
    page.wait_for_selector('#appeal[data-state="ready"]', timeout=15_000)
    # Nothing pinned yet: the page asks for the place, without a request.
    page.get_by_role("button", name="Надіслати звернення").click()
    expect(page.locator("#error-location")).to_contain_text("Позначте місце")

    pin(page, open_appeal["lon"], open_appeal["lat"])
    page.get_by_label("Категорія").fill(open_appeal["label"])
    page.get_by_label("Текст звернення").fill("Сусід — мудак, знову зламав лавку")
    page.get_by_label("Прізвище, ім’я, по батькові").fill(AUTHOR["full_name"])
    page.get_by_label("Електронна пошта").fill(AUTHOR["email"])
    page.get_by_label("Поштова адреса").fill(AUTHOR["postal_address"])
    page.get_by_role("button", name="Надіслати звернення").click()
    error = page.locator("#error-text")
    expect(error).to_contain_text("нецензурну лексику")
    assert page.get_attribute("#text", "aria-invalid") == "true"
    expect(page.locator("#text")).to_be_focused()

    # A Latin name: the API's message under the name field.
    page.get_by_label("Текст звернення").fill("Зламана лавка у сквері")
    page.get_by_label("Прізвище, ім’я, по батькові").fill("Oksana Prykhodko")
    page.get_by_role("button", name="Надіслати звернення").click()
    expect(page.locator('[id="error-author.full_name"]')).not_to_be_empty()
    expect(page.locator("#error-text")).to_be_empty()
    shot(page, screenshot, "appeal-error-phone")
    assert page.locator("#done").is_hidden()
    assert count_appeals(demo_url) == before


@pytest.fixture(scope="module")
def citizen(portal):
    return portal.account("citizen")


def test_a_signed_in_citizen_supports_one_and_files_another(
    base, demo_url, open_appeal, citizen, screenshot, page
):
    """Signed in: the name and e-mail come from the account (the fields are not asked for);
    "Підтримати" supports the open appeal nearby (with the session's CSRF token)."""
    from gis import intake

    with psycopg.connect(demo_url) as conn:
        citizen_name = conn.execute(
            "SELECT full_name FROM users WHERE email = %s", (citizen.login,)
        ).fetchone()[0]
        supported_before = conn.execute(
            "SELECT support_count FROM appeals WHERE number = %s", (open_appeal["number"],)
        ).fetchone()[0]
    try:
        intake.check_author(intake.Author(full_name=citizen_name, email=citizen.login,
                                          postal_address="Київ"), intake.Submitter())  # fmt: skip
        citizen_name_refused = False
    except Exception:
        citizen_name_refused = True
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(base + "/login")
    page.fill("#email", citizen.login)
    page.fill("#password", citizen.password)
    page.click("#login-submit")
    page.wait_for_url(base + "/cabinet")
    page.goto(base + "/appeal/new")
    page.wait_for_selector('#appeal[data-state="ready"]', timeout=15_000)
    expect(page.locator("#who")).to_contain_text(citizen.login)
    expect(page.get_by_label("Прізвище, ім’я, по батькові")).to_be_hidden()

    pin(page, open_appeal["lon"], open_appeal["lat"])
    page.get_by_label("Категорія").fill(open_appeal["label"])
    name = f"Підтримати звернення № {open_appeal['number']}"
    page.get_by_role("button", name=name).click()
    expect(page.locator("#nearby-message")).to_contain_text("Ви підтримали")

    page.get_by_label("Текст звернення").fill("Ліфт не працює третій день, прошу полагодити")
    page.get_by_label("Поштова адреса").fill(AUTHOR["postal_address"])
    page.get_by_role("button", name="Надіслати звернення").click()
    if citizen_name_refused:
        # The account's name breaks the name rule: the field appears, filled from the
        # account, with the API's message; corrected, the appeal goes.
        expect(page.locator('[id="error-author.full_name"]')).not_to_be_empty()
        field = page.get_by_label("Прізвище, ім’я, по батькові")
        expect(field).to_have_value(citizen_name)
        field.fill("Мешканка Києва")
        page.get_by_role("button", name="Надіслати звернення").click()
    page.wait_for_selector('#appeal[data-state="done"]', timeout=15_000)
    number = page.locator("#done-number").inner_text()
    expect(page.get_by_role("link", name="Мої звернення")).to_be_visible()
    shot(page, screenshot, "appeal-done-citizen")
    with psycopg.connect(demo_url) as conn:
        supported = conn.execute(
            "SELECT support_count FROM appeals WHERE number = %s", (open_appeal["number"],)
        ).fetchone()[0]
        author = conn.execute(
            "SELECT u.email, x.full_name FROM appeal_authors x JOIN appeals a ON a.id = x.appeal_id"
            " JOIN users u ON u.id = x.user_id WHERE a.number = %s",
            (number,),
        ).fetchone()
    assert supported == supported_before + 1
    assert author is not None and author[0] == citizen.login
    assert author[1] and author[1][0] == number[0]


def test_an_appeal_filed_at_a_found_house_keeps_its_address(base, demo_url, open_appeal, page):
    """A house the search found, even one no point of interest holds (placed between its
    street's known houses): the appeal is filed at that address and keeps it, as the page
    showed it (filed as a bare point, the intake found no house within 30 m: no address)."""
    page.goto(base + "/appeal/new")
    page.wait_for_selector('#appeal[data-state="ready"]', timeout=15_000)
    page.get_by_label("Пошук адреси").fill("Хрещатик, 22")
    page.keyboard.press("Enter")
    first = page.locator("#search-results button").first
    expect(first).to_have_text("вулиця Хрещатик, 22")
    first.click()
    page.wait_for_selector('#appeal[data-pin="set"]', timeout=10_000)
    expect(page.locator("#pin-info")).to_contain_text("вулиця Хрещатик, 22 · ")
    page.get_by_label("Категорія").fill(open_appeal["label"])
    expect(page.locator("#category-kind")).to_contain_text("Строк розгляду")
    page.get_by_label("Текст звернення").fill("Розбитий тротуар біля будинку.")
    page.get_by_label("Прізвище, ім’я, по батькові").fill(AUTHOR["full_name"])
    page.get_by_label("Електронна пошта").fill(AUTHOR["email"])
    page.get_by_label("Поштова адреса").fill(AUTHOR["postal_address"])
    page.get_by_role("button", name="Надіслати звернення").click()
    page.wait_for_selector('#appeal[data-state="done"]', timeout=15_000)
    number = page.locator("#done-number").inner_text()
    with psycopg.connect(demo_url) as conn:
        row = conn.execute("SELECT address, ST_X(geom), ST_Y(geom) FROM appeals"
                           " WHERE number = %s", (number,)).fetchone()  # fmt: skip
    assert row is not None and row[0] == "вулиця Хрещатик, 22"
    assert [round(row[1], 6), round(row[2], 6)] == [
        float(page.get_attribute("#appeal", f"data-{k}")) for k in ("lon", "lat")]  # fmt: skip


def test_an_address_found_moves_the_pin(base, screenshot, page):
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(base + "/appeal/new")
    page.wait_for_selector('#appeal[data-state="ready"]', timeout=15_000)
    page.get_by_label("Пошук адреси").fill("Хрещатик")
    page.keyboard.press("Enter")
    first = page.locator("#search-results button").first
    expect(first).to_be_focused()
    label = first.inner_text()
    page.keyboard.press("Enter")
    page.wait_for_selector('#appeal[data-pin="set"]', timeout=10_000)
    expect(page.locator("#pin-info")).to_contain_text("район")
    assert "Хрещатик" in label
    lon = float(page.get_attribute("#appeal", "data-lon"))
    lat = float(page.get_attribute("#appeal", "data-lat"))
    assert 30.2 < lon < 30.9 and 50.2 < lat < 50.6

    # By keyboard on the map: an arrow moves it, Enter pins its centre.
    page.focus("#map")
    page.evaluate("() => { window.panned = false;"
                  " window.hromadaAppealMap.once('moveend', () => { window.panned = true; }); }")  # fmt: skip
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("() => window.panned")
    page.keyboard.press("Enter")
    page.wait_for_function(
        f"() => document.querySelector('#appeal').dataset.lon !== '{lon}'", timeout=10_000
    )
    page.wait_for_selector('#appeal[data-pin="set"]', timeout=10_000)
    assert float(page.get_attribute("#appeal", "data-lon")) < lon


def test_geocode_reverse_and_search(settings):
    with TestClient(create_app(settings)) as c:
        r = c.get("/api/v1/geocode/reverse", params={"lon": 30.5234, "lat": 50.4501})
        assert r.status_code == 200, r.text
        assert r.json()["district"]["name"] == "Шевченківський район"

        r = c.get("/api/v1/geocode/search", params={"q": "Хрещатик"})
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        assert items and len(items) <= 10
        assert all("Хрещатик" in i["label"] and i["lon"] and i["lat"] for i in items)

        r = c.get("/api/v1/geocode/search", params={"q": "Хрещатик, 1"})
        assert r.status_code == 200
        assert all(i["type"] == "address" for i in r.json()["items"])

        r = c.get("/api/v1/geocode/search", params={"q": "х"})
        assert r.status_code == 400
        assert r.json()["parameter"] == "q" and "щонайменше 2" in r.json()["detail"]
        r = c.get("/api/v1/geocode/search", params={"q": "х"}, headers={"Accept-Language": "en"})
        assert "at least 2" in r.json()["detail"]
        r = c.get("/api/v1/geocode/reverse", params={"lon": "abc", "lat": 50.45})
        assert r.status_code == 400 and r.json()["parameter"] == "lon"


def test_the_page_is_ukrainian_with_local_assets(settings):
    with TestClient(create_app(settings)) as c:
        r = c.get("/appeal/new")
        assert r.status_code == 200
        assert '<html lang="uk">' in r.text and 'name="viewport"' in r.text
        assert "cdn" not in r.text.lower() and "//unpkg" not in r.text
        for asset in ("/static/js/appeal_new.js", "/static/css/appeal.css"):
            assert c.get(asset).status_code == 200
