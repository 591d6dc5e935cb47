"""The public map's panel, in Debian's chromium on a demo city whose last month has appeals:
the filters redraw the tiles and the list and live in the URL, the list follows the view,
the card opens from the list and by its number, and nothing leaves this machine."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from gis.models import RESULTS, result_en

pytestmark = pytest.mark.browser


PORTAL = {"seed": 11, "appeals": 400}  # browser.portal's demo city: its last month has appeals


@pytest.fixture(scope="module")
def city_server(portal):
    return portal.base


class MapPage:
    """The public map in `page`, with the tiles it asks for and those that failed (JS errors
    and requests leaving 127.0.0.1: browser_log)."""

    def __init__(self, page, viewport: dict):
        self.page = page
        self.tiles: list[str] = []
        self.bad_tiles: list[str] = []
        page.set_viewport_size(viewport)
        page.on("request", lambda r: self.tiles.append(r.url) if ".mvt" in r.url else None)
        page.on("response", lambda r: self.bad_tiles.append(f"{r.status} {r.url}")
                if ".mvt" in r.url and r.status not in (200, 204, 304) else None)  # fmt: skip

    def open(self, url: str):
        self.page.goto(url)
        self.ready()

    def switch_language(self, lang: str):
        """The switch in the panel's head: the same address with ?lang=, loaded again."""
        with self.page.expect_navigation():
            self.page.click(f'.panel-head a.lang-switch[data-lang="{lang}"]')
        self.ready()

    def ready(self):
        self.page.wait_for_selector('#map[data-state="ready"]', timeout=15_000)
        self.page.wait_for_function("() => Number(document.querySelector('#map')"
                                    ".dataset.appealTiles || 0) > 0", timeout=15_000)  # fmt: skip
        self.settle()

    def settle(self):
        """The list has loaded what the last change asked for (it is "pending" while a map
        move's load waits out its debounce, "loading" while it loads)."""
        self.page.wait_for_selector(
            '#appeal-list[data-state="ready"]', state="attached", timeout=15_000
        )


def statuses_listed(page) -> list[str]:
    return page.eval_on_selector_all(".appeal-item", "els => els.map(e => e.dataset.status)")


def test_filters_list_url_and_card_on_a_desktop(city_server, screenshot, page):
    b = MapPage(page, {"width": 1280, "height": 800})
    b.open(city_server + "/")
    assert page.get_attribute("#map", "data-districts") == "10"
    assert page.locator(".leaflet-appeals-pane canvas").count() > 0  # canvas tiles (map.js)
    assert "© OpenStreetMap contributors" in page.inner_text(".leaflet-control-attribution")
    # The latest appeals in the view: 20 at most, newest first, with a "more" button.
    first = statuses_listed(page)
    assert 0 < len(first) <= 20
    assert len(set(first)) > 1  # the demo month has appeals in several states
    screenshot(page, "map-desktop")

    # Only the closed ones: the tiles are asked for again with status=, the list too.
    b.tiles.clear()
    for status in ("registered", "in_work", "on_check", "rework"):
        page.get_by_label(re.compile(page.evaluate(
            f"() => JSON.parse(document.getElementById('map-config').textContent)"
            f".statusNames['{status}']"))).uncheck()  # fmt: skip
    b.settle()
    assert any(parse_qs(urlsplit(u).query).get("status") == ["closed"] for u in b.tiles)
    listed = statuses_listed(page)
    assert listed and set(listed) == {"closed"}
    assert parse_qs(urlsplit(page.url).query)["status"] == ["closed"]

    # A district too; the link reproduces the view.
    page.select_option("#f-district", label="Шевченківський район")
    b.settle()
    district = page.input_value("#f-district")
    query = parse_qs(urlsplit(page.url).query)
    assert query["district"] == [district] and query["status"] == ["closed"]
    assert re.search(r"#\d+(\.\d+)?/50\.\d+/30\.\d+$", page.url)
    link = page.url
    page.goto("about:blank")  # a fresh load (the same URL would only move the hash)
    b.tiles.clear()
    b.open(link)
    assert page.url == link
    assert page.input_value("#f-district") == district
    checked = page.eval_on_selector_all(
        "input[name=status]:checked", "els => els.map(e => e.value)"
    )
    assert checked == ["closed"]
    assert b.tiles and all("status=closed" in u for u in b.tiles)
    assert all(f"district={district}" in u for u in b.tiles)
    assert set(statuses_listed(page)) <= {"closed"}

    # Reset: all statuses again, and a list item opens its card.
    page.click("#f-reset")
    b.settle()
    assert "status=" not in page.url
    item = page.locator(".appeal-item").first
    number = item.get_attribute("data-number")
    item.locator("button").click()
    page.wait_for_selector("#card:not([hidden])")
    assert page.inner_text("#card-title") == f"Звернення № {number}"
    card = page.inner_text("#card")
    assert "Стан" in card and "Зареєстровано" in card and "Виконавець" in card

    # Check by number: the card for a real one, a message for an unknown one.
    page.click("#card-close")
    page.fill("#check-number", number)
    page.get_by_role("button", name="Перевірити", exact=True).click()
    page.wait_for_selector("#card:not([hidden])")
    assert page.inner_text("#card-title") == f"Звернення № {number}"
    assert page.inner_text("#check-message") == ""
    screenshot(page, "map-desktop-card")
    page.fill("#check-number", "Я-9999999")
    page.press("#check-number", "Enter")
    page.wait_for_selector("#check-message:has-text('не знайдено')")
    assert "«Я-9999999» не знайдено" in page.inner_text("#check-message")
    assert page.get_attribute("#check-number", "aria-invalid") == "true"
    assert b.bad_tiles == []


def test_every_form_control_has_a_label(city_server, page):
    b = MapPage(page, {"width": 1280, "height": 800})
    b.open(city_server + "/")
    unlabelled = b.page.evaluate(
        "() => [...document.querySelectorAll('#panel input, #panel select')]"
        ".filter(e => !e.labels || e.labels.length === 0).map(e => e.id || e.name)"
    )
    assert unlabelled == []
    assert b.bad_tiles == []


def test_the_panel_is_a_bottom_sheet_on_a_phone(city_server, screenshot, page):
    b = MapPage(page, {"width": 390, "height": 844})
    b.open(city_server + "/")
    assert page.get_attribute("#map", "data-districts") == "10"
    assert not page.is_visible("#filters")  # folded: the map fills the screen
    screenshot(page, "map-phone")
    page.click("#panel-toggle")
    assert page.get_attribute("#panel-toggle", "aria-expanded") == "true"
    assert page.is_visible("#filters") and page.is_visible("#check-number")
    page.locator(".appeal-item button").first.click()
    page.wait_for_selector("#card:not([hidden])")
    screenshot(page, "map-phone-card")
    assert b.bad_tiles == []


def test_points_layers_more_and_the_list_follows_the_view(city_server, screenshot, page):
    b = MapPage(page, {"width": 1280, "height": 800})
    feeds: list[str] = []
    page.on("request", lambda r: feeds.append(r.url) if "/appeals/public?" in r.url else None)
    b.open(city_server + "/?period=all")
    # "Ще" appends the next 20 by the feed's cursor.
    assert len(statuses_listed(page)) == 20
    page.click("#list-more")
    b.settle()
    numbers = page.eval_on_selector_all(".appeal-item", "els => els.map(e => e.dataset.number)")
    assert len(numbers) == 40 and len(set(numbers)) == 40
    assert "after=" in feeds[-1]

    # The list follows the view: zooming in asks again with a smaller bbox.
    before = parse_qs(urlsplit(feeds[-1]).query)["bbox"][0]
    with page.expect_request(lambda r: "/appeals/public?" in r.url):
        page.click(".leaflet-control-zoom-in")
    b.settle()
    after = parse_qs(urlsplit(feeds[-1]).query)["bbox"][0]
    assert before != after and "after" not in parse_qs(urlsplit(feeds[-1]).query)

    # Type and category: the list, the tiles and the URL follow.
    page.check("input[name=type][value=complaint]")
    b.settle()
    assert "type=complaint" in page.url and "type=complaint" in feeds[-1]
    assert b.tiles and "kind=complaint" in b.tiles[-1]
    first = page.locator(".appeal-item").first
    first.locator("button").click()
    page.wait_for_selector("#card:not([hidden])")
    category = page.evaluate(
        "() => [...document.querySelectorAll('#card dt')].find(d => d.textContent"
        " === 'Категорія').nextElementSibling.textContent"
    )
    page.fill("#f-category", category)
    b.settle()
    query = parse_qs(urlsplit(page.url).query)
    assert query["category"][0].isdigit()
    assert f"category={query['category'][0]}" in b.tiles[-1]
    names = page.eval_on_selector_all(".appeal-category", "els => els.map(e => e.textContent)")
    assert names and all(category.endswith(n) for n in names)

    # The layer switcher: wards and the city boundary load when switched on.
    page.hover(".leaflet-control-layers")
    page.get_by_label("Виборчі округи").check()
    page.get_by_label("Межа міста").check()
    page.wait_for_function(
        "() => document.querySelectorAll('.leaflet-areas-pane path').length > 100"
    )
    page.get_by_role("checkbox", name="Звернення", exact=True).uncheck()
    assert page.locator(".leaflet-appeals-pane canvas").count() == 0
    page.get_by_role("checkbox", name="Звернення", exact=True).check()
    screenshot(page, "map-layers")

    # A point on the map opens its card: close in on the first listed appeal.
    page.click("#card-close")
    page.click("#f-reset")
    b.settle()
    page.locator(".appeal-item button").first.click()
    page.wait_for_selector("#card:not([hidden])")
    number = page.get_attribute("#card", "data-number")
    lat, lon = page.evaluate(
        "() => { const card = document.getElementById('card');"
        " return [Number(card.dataset.lat), Number(card.dataset.lon)]; }"
    )
    page.click("#card-close")
    page.goto("about:blank")
    b.open(f"{city_server}/?period=all#17/{lat}/{lon}")
    box = page.locator("#map").bounding_box()
    centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.click(*centre)
    page.wait_for_selector("#card:not([hidden])")
    assert page.get_attribute("#card", "data-number") == number
    assert b.bad_tiles == []


def test_own_dates_reach_the_list_and_the_tiles(city_server, page):
    b = MapPage(page, {"width": 1280, "height": 800})
    codes: list[int] = []
    page.on("response", lambda r: codes.append(r.status) if ".mvt" in r.url else None)
    b.open(city_server + "/")
    assert not page.is_visible("#f-from")
    page.select_option("#f-period", "custom")  # the last 30 days, to change
    b.settle()
    assert page.is_visible("#f-from") and page.input_value("#f-from")
    page.fill("#f-from", "2026-01-01")
    page.dispatch_event("#f-from", "change")
    b.settle()
    query = parse_qs(urlsplit(page.url).query)
    assert query["period"] == ["custom"] and query["date_from"] == ["2026-01-01"]
    assert b.tiles and "datetime=2026-01-01T00%3A00%3A00Z%2F" in b.tiles[-1]
    assert page.locator(".appeal-item").count() > 0
    page.goto("about:blank")
    b.open(f"{city_server}/?period=custom&date_from=2026-01-01")
    assert page.input_value("#f-period") == "custom"
    assert page.input_value("#f-from") == "2026-01-01"
    assert codes and set(codes) <= {200, 204, 304}
    assert b.bad_tiles == []


CYRILLIC = re.compile(r"[А-Яа-яЇїІіЄєҐґ]")


def test_the_map_in_english_keeps_its_filters_and_view(city_server, screenshot, page):
    """The switch reloads the page in English with the same filters and view; the panel, the
    status names, the list, the card and "check by number" speak English; and back."""
    b = MapPage(page, {"width": 1280, "height": 800})
    b.open(f"{city_server}/?type=complaint&period=all&status=in_work,closed#11/50.45/30.52")
    assert page.get_attribute("html", "lang") == "uk"
    uk_names = page.evaluate(
        "() => JSON.parse(document.getElementById('map-config').textContent).statusNames"
    )
    uk_url = page.url

    b.switch_language("en")
    assert page.get_attribute("html", "lang") == "en"
    # The filters and the view survive: the same query (with lang=en) and hash.
    query = parse_qs(urlsplit(page.url).query)
    assert query == {
        "type": ["complaint"], "period": ["all"], "status": ["in_work,closed"],
        "lang": ["en"],
    }  # fmt: skip
    assert urlsplit(page.url).fragment == urlsplit(uk_url).fragment == "11/50.45000/30.52000"
    assert page.is_checked("input[name=type][value=complaint]")
    assert page.input_value("#f-period") == "all"
    checked = page.eval_on_selector_all(
        "input[name=status]:checked", "els => els.map(e => e.value)"
    )
    assert sorted(checked) == ["closed", "in_work"]
    assert b.tiles and all("status=in_work%2Cclosed" in u for u in b.tiles)
    assert set(statuses_listed(page)) <= {"in_work", "closed"}

    # The panel in English; status names from config.statusNames, in English.
    assert page.inner_text("h1") == "Hromada GIS — Kyiv"
    assert page.title() == "Hromada GIS — Kyiv"
    names = page.evaluate(
        "() => JSON.parse(document.getElementById('map-config').textContent).statusNames"
    )
    assert names.keys() == uk_names.keys() and names != uk_names
    assert not any(CYRILLIC.search(n) for n in names.values())
    assert names["closed"] == "Closed"
    legends = page.locator("#filters legend").all_inner_texts()
    assert legends == ["Type", "Status"]
    assert page.inner_text("label[for=f-period]") == "Period"
    assert page.inner_text("label[for=f-category]") == "Category"
    assert page.inner_text("label[for=f-district]") == "District"
    assert page.get_attribute("#f-category", "placeholder") == "all categories — start typing"
    assert page.locator("#f-period option").all_inner_texts() == [
        "day", "week", "month", "all time", "custom dates",
    ]  # fmt: skip
    assert page.get_by_label("complaints").is_checked()
    assert page.get_by_label(names["closed"], exact=True).is_checked()
    assert not page.get_by_label(names["registered"], exact=True).is_checked()
    assert page.inner_text("#f-reset") == "Reset filters"
    assert page.inner_text(".signin") == "File an appeal · Sign in · Open data · Statistics"
    assert page.inner_text("label[for=check-number]") == "Check an appeal by its number"

    # The list: its header, its count in English plural, English status badges.
    assert page.inner_text("#list-title").startswith("Latest appeals (")
    assert re.fullmatch(r"\(\d[\d,]* appeals?\)", page.inner_text("#list-total"))
    badges = set(page.locator(".appeal-item .badge").all_inner_texts())
    assert badges and badges <= {names["in_work"], names["closed"]}
    assert page.inner_text("#list-more") == "More"

    # The layer switcher names its layers in English.
    page.hover(".leaflet-control-layers")
    layers = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    assert [x.strip() for x in layers] == [
        "Districts", "Electoral wards", "City boundary", "Appeals",
    ]  # fmt: skip
    page.mouse.move(900, 700)

    # The districts named in English (the OGC features' name_en), on the map and in the filter.
    districts = page.evaluate("() => fetch('/ogc/collections/districts/items?limit=100')"
                              ".then(r => r.json()).then(b => b.features.map(f => f.properties))")  # fmt: skip
    english = sorted(d["name_en"] or d["name"] for d in districts)
    assert any(d["name_en"] for d in districts)
    assert sorted(page.locator(".district-label").all_inner_texts()) == english
    assert sorted(page.locator("#f-district option").all_inner_texts()[1:]) == english

    # The card: English labels, the category in English where the catalogue has it; the data
    # (address, text) stays as written.
    item = page.locator(".appeal-item").first
    number = item.get_attribute("data-number")
    item.locator("button").click()
    page.wait_for_selector("#card:not([hidden])")
    assert page.inner_text("#card-title") == f"Appeal No. {number}"
    terms = page.locator("#card dt").all_inner_texts()
    assert {"Status", "Category", "Type", "Address", "Registered"} <= set(terms)
    assert not any(CYRILLIC.search(term) for term in terms)
    fields = dict(zip(terms, page.locator("#card dd").all_inner_texts(), strict=True))
    assert fields["Type"] == "complaint"
    assert fields["Status"].strip() in (names["in_work"], names["closed"])
    card = page.evaluate(
        "n => fetch('/api/v1/appeals/' + encodeURIComponent(n)).then(r => r.json())", number
    )
    sub, kind = card["category"], card["category"]["kind"]
    sub_en, kind_en = sub["name_en"] or sub["name"], kind["name_en"] or kind["name"]
    assert fields["Category"] == (kind_en if kind_en == sub_en else f"{kind_en} — {sub_en}")
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4}, \d{2}:\d{2}", fields["Registered"])
    # 1551's result in English too (statuses in work and closed always have one).
    assert fields["Result"] in {result_en(r) for r in RESULTS}, fields.get("Result")
    assert page.get_attribute("#card-close", "aria-label") == "Close the card"
    screenshot(page, "map-desktop-en-card")

    # Check by number: an empty field and an unknown number, in English.
    page.click("#card-close")
    page.get_by_role("button", name="Check", exact=True).click()
    assert page.inner_text("#check-message") == "Enter the appeal's number."
    page.fill("#check-number", "Я-9999999")
    page.press("#check-number", "Enter")
    page.wait_for_selector("#check-message:has-text('was found')")
    assert page.inner_text("#check-message") == (
        "No appeal with the number “Я-9999999” was found. Check the number and try again."
    )
    assert page.get_attribute("#check-number", "aria-invalid") == "true"

    # A filter changed in English keeps lang=en in the address; a reload stays English.
    page.select_option("#f-period", "month")
    b.settle()
    query = parse_qs(urlsplit(page.url).query)
    assert query["lang"] == ["en"] and "period" not in query
    assert query["status"] == ["in_work,closed"]
    screenshot(page, "map-desktop-en")

    # And back to Ukrainian, the filters still there.
    b.switch_language("uk")
    assert page.get_attribute("html", "lang") == "uk"
    query = parse_qs(urlsplit(page.url).query)
    assert query["lang"] == ["uk"] and query["status"] == ["in_work,closed"]
    assert page.inner_text("#list-title").startswith("Останні звернення (")
    assert re.fullmatch(r"\(\d[\d\s]* звернен(ня|ь)\)", page.inner_text("#list-total"))
    assert page.get_by_label(uk_names["closed"], exact=True).is_checked()
    assert b.bad_tiles == []


def test_the_english_map_on_a_phone(city_server, screenshot, page):
    """The switch sits in the bottom sheet's head beside the toggle, on the screen, and the
    English texts fit."""
    b = MapPage(page, {"width": 390, "height": 844})
    b.open(city_server + "/")
    switch = page.locator('.panel-head a.lang-switch[data-lang="en"]')
    assert switch.is_visible() and switch.inner_text() == "English"
    b.switch_language("en")
    assert page.get_attribute("html", "lang") == "en"
    assert page.inner_text("#panel-toggle") == "Filters and list"
    switch = page.locator('.panel-head a.lang-switch[data-lang="uk"]')
    assert switch.is_visible() and switch.inner_text() == "Українська"
    # On the screen, in one row with the title and the toggle, overlapping neither.
    boxes = [page.locator(s).bounding_box() for s in ("h1", ".lang-switch", "#panel-toggle")]
    assert all(0 <= box["x"] and box["x"] + box["width"] <= 390 for box in boxes)
    assert boxes[0]["x"] + boxes[0]["width"] <= boxes[1]["x"]
    assert boxes[1]["x"] + boxes[1]["width"] <= boxes[2]["x"]
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    screenshot(page, "map-phone-en")
    page.click("#panel-toggle")
    assert page.inner_text("#panel-toggle") == "Collapse"
    assert page.is_visible("#filters")
    page.locator(".appeal-item button").first.click()
    page.wait_for_selector("#card:not([hidden])")
    assert page.inner_text("#card-title").startswith("Appeal No. ")
    screenshot(page, "map-phone-en-card")
    # The switch is reachable by keyboard.
    page.focus(".panel-head a.lang-switch")
    assert page.evaluate("() => document.activeElement.dataset.lang") == "uk"
    assert b.bad_tiles == []
