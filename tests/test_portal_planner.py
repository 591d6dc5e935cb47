"""The planner's view (/planner), in Debian's chromium on a demo city: the catalogue's layers
are listed with their freshness (an overdue one says «прострочено»), switching kiosks on
draws every kiosk, a kiosk's click (and Enter on the map) shows its attributes with its
permit status, there are no JS errors, and nothing leaves this machine."""

from __future__ import annotations

import re

import psycopg
import pytest
from browser import DESKTOP, PHONE
from fastapi.testclient import TestClient
from playwright.sync_api import expect

from api import create_app
from gis.db import libpq_url
from gis.settings import Settings


def overdue_layer_and_two_permits(url: str) -> None:
    """One layer long overdue and two kiosks with known permits: number 1 expired three days
    ago, number 2 expiring in ten days."""
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute(
            "UPDATE layers SET last_updated = now() - interval '400 days'"
            " WHERE name = 'abandoned_buildings'"
        )
        conn.execute("UPDATE kiosks SET permit_valid_until = current_date - 3 WHERE id = 1")
        conn.execute("UPDATE kiosks SET permit_valid_until = current_date + 10 WHERE id = 2")


PORTAL = {"seed": 5, "appeals": 200, "prepare": overdue_layer_and_two_permits}


@pytest.fixture(scope="module")
def planner_city(portal):
    """The live demo city (browser.portal), kiosk 1's centre as (lon, lat), the kiosks'
    count, their permits counted by status, and kiosk 1's code."""
    with psycopg.connect(libpq_url(portal.db)) as conn:
        lon, lat = conn.execute(
            "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Envelope(geom)) c"
            " FROM kiosks WHERE id = 1) k"
        ).fetchone()
        kiosks = conn.execute("SELECT count(*) FROM kiosks").fetchone()[0]
        permits = dict(
            conn.execute(
                "SELECT CASE WHEN permit_valid_until < kyiv.today THEN 'expired'"
                " WHEN permit_valid_until <= kyiv.today + 30 THEN 'expiring'"
                " WHEN permit_valid_until IS NOT NULL THEN 'valid' ELSE 'unknown' END s,"
                " count(*) FROM kiosks,"
                " (SELECT (now() AT TIME ZONE 'Europe/Kyiv')::date today) kyiv GROUP BY 1"
            ).fetchall()
        )
        code = conn.execute("SELECT code FROM kiosks WHERE id = 1").fetchone()[0]
    return {
        "db": portal.db,
        "base": portal.base,
        "centre": (lon, lat),
        "kiosks": kiosks,
        "permits": permits,
        "code": code,
        "accounts": portal.accounts,
    }


def test_the_planner_page_is_served_to_anyone(planner_city):
    with TestClient(create_app(Settings(database_url=planner_city["db"]))) as c:
        r = c.get("/planner")
        assert r.status_code == 200
        assert '<html lang="uk">' in r.text and 'name="viewport"' in r.text
        assert "planner-config" in r.text and "cdn" not in r.text.lower()
        assert c.get("/static/js/planner.js").status_code == 200
        assert c.get("/static/css/planner.css").status_code == 200


def open_planner(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector('#map[data-state="ready"]', timeout=15_000)
    page.wait_for_selector(
        'li[data-layer="districts"][data-state="on"]', state="attached", timeout=15_000
    )


def switch_on(page, name: str) -> None:
    page.check(f"#layer-{name}")
    page.wait_for_selector(
        f'li[data-layer="{name}"][data-state="on"]', state="attached", timeout=20_000
    )


def click_the_kiosk_at_the_centre(page) -> None:
    """Click the map's centre (kiosk 1) once the map's canvas has drawn what was switched on
    (it redraws on the next animation frame)."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def assert_clean(log) -> None:
    """No console error and no failed request either (browser_log checks the rest)."""
    assert log.console == []
    assert log.failed == []


def test_the_planner_lists_layers_with_freshness_and_shows_a_kiosks_permit(
    planner_city, page, browser_log, screenshot
):
    lon, lat = planner_city["centre"]
    page.set_viewport_size(DESKTOP)
    open_planner(page, planner_city["base"] + f"/planner#18/{lat:.7f}/{lon:.7f}")
    names = page.eval_on_selector_all("li[data-layer]", "els => els.map(e => e.dataset.layer)")
    for name in ("advertising_structures", "kiosks", "abandoned_buildings", "pois"):
        assert name in names
    assert "appeals" not in names
    # Freshness: the owner, the regime, and «прострочено» on the overdue layer only.
    overdue = page.locator('li[data-layer="abandoned_buildings"]')
    assert overdue.get_attribute("data-overdue") == "true"
    assert "прострочено" in overdue.locator(".fresh").inner_text()
    kiosks = page.locator('li[data-layer="kiosks"]')
    fresh = kiosks.locator(".fresh").inner_text()
    assert "прострочено" not in fresh
    assert "Департамент промисловості" in fresh and "щотижня" in fresh
    assert page.locator("li[data-overdue]").count() == 1
    # The checkbox is labelled by the layer's title and described by its freshness.
    assert page.get_by_label("МАФ і тимчасові споруди", exact=True).count() == 1

    # Switching kiosks on draws every kiosk (one page of 5000).
    switch_on(page, "kiosks")
    assert kiosks.get_attribute("data-count") == str(planner_city["kiosks"])
    # The permits counted by status, as the database counts them (kiosk 1 expired,
    # kiosk 2 expiring within 30 days).
    shown = {
        li.get_attribute("data-status"): int(li.get_attribute("data-count"))
        for li in kiosks.locator(".permit-count").all()
    }
    assert {k: v for k, v in shown.items() if v} == planner_city["permits"]
    assert shown["expired"] >= 1 and shown["expiring"] >= 1
    assert "прострочений" in kiosks.locator(".permit-counts").inner_text()

    # A click on kiosk 1 (at the map's centre) shows its attributes and expired permit.
    click_the_kiosk_at_the_centre(page)
    page.wait_for_selector("#attrs:not([hidden])", timeout=5_000)
    assert page.get_attribute("#attrs", "data-layer") == "kiosks"
    assert planner_city["code"] in page.locator("#attrs-title").inner_text()
    assert page.get_attribute("#attrs-permit", "data-status") == "expired"
    assert "прострочений" in page.locator("#attrs-permit").inner_text()
    # The city's own columns named in the page's words (the key in the row's title), the
    # permit's date as a date.
    table = page.locator("#attrs-table").inner_text()
    assert "Дозвіл дійсний до" in table and "Власник" in table
    assert "permit_valid_until" not in table and "owner" not in table
    expired = page.locator("#attrs-table tr.permit-expired")
    assert expired.count() == 1
    assert expired.locator("th").get_attribute("title") == "permit_valid_until"
    expect(expired.locator("td")).to_have_text(re.compile(r"^\d\d\.\d\d\.\d{4}$"))
    screenshot(page, "planner-desktop-kiosk")

    # Keyboard: close, focus the map, Enter shows the same kiosk again.
    page.click("#attrs-close")
    assert page.locator("#attrs").is_hidden()
    page.focus("#map")
    page.keyboard.press("Enter")
    page.wait_for_selector("#attrs:not([hidden])", timeout=5_000)
    assert planner_city["code"] in page.locator("#attrs-title").inner_text()

    # A city-wide view with ads, kiosks and the abandoned buildings on.
    page.goto(planner_city["base"] + "/planner")
    page.wait_for_selector('li[data-layer="districts"][data-state="on"]', timeout=15_000)
    for name in ("advertising_structures", "kiosks", "abandoned_buildings"):
        switch_on(page, name)
    shot = screenshot(page, "planner-desktop")
    assert shot.stat().st_size > 10_000
    assert_clean(browser_log)


def test_the_planner_works_on_a_phone(planner_city, page, browser_log, screenshot):
    lon, lat = planner_city["centre"]
    page.set_viewport_size(PHONE)
    open_planner(page, planner_city["base"] + f"/planner#18/{lat:.7f}/{lon:.7f}")
    assert page.locator("#layer-list").is_hidden()  # the sheet starts closed
    page.click("#panel-toggle")
    assert page.get_attribute("#panel-toggle", "aria-expanded") == "true"
    switch_on(page, "kiosks")
    page.click("#panel-toggle")  # close the sheet to reach the map
    click_the_kiosk_at_the_centre(page)
    page.wait_for_selector("#attrs:not([hidden])", timeout=5_000)
    assert page.get_attribute("#panel", "data-open") == "true"
    assert page.get_attribute("#attrs-permit", "data-status") == "expired"
    shot = screenshot(page, "planner-phone")
    assert shot.stat().st_size > 10_000
    assert_clean(browser_log)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_planner_in_english(planner_city, page, browser_log, screenshot, viewport):
    """The language switch: the page, its legend, the layers' freshness and titles (the
    catalogue's title_en), the permit counts and a kiosk's attributes in English; the data
    (owner departments, attribute values) stays Ukrainian."""
    lon, lat = planner_city["centre"]
    phone = viewport is PHONE
    page.set_viewport_size(viewport)
    open_planner(page, planner_city["base"] + f"/planner#18/{lat:.7f}/{lon:.7f}")
    assert page.get_attribute("html", "lang") == "uk"
    page.click('a.lang-switch[data-lang="en"]')
    page.wait_for_url(re.compile(r"/planner\?lang=en#18/"))  # the view is kept
    page.wait_for_selector('#map[data-state="ready"]', timeout=15_000)
    page.wait_for_selector(
        'li[data-layer="districts"][data-state="on"]', state="attached", timeout=15_000
    )
    assert page.get_attribute("html", "lang") == "en"
    assert page.title() == "City layers — Hromada GIS"
    expect(page.locator("#panel-title")).to_have_text("City layers")
    expect(page.locator("#status")).to_have_text(
        re.compile(r"^Layer “Districts” switched on: \d+ features\.$")
    )
    switch = page.locator("a.lang-switch")
    expect(switch).to_have_text("Українська")
    expect(switch).to_be_visible()
    if phone:
        expect(page.locator("#panel-toggle")).to_have_text("Layers and attributes")
        page.click("#panel-toggle")
    legend = page.locator(".permit-legend").inner_text()
    for text in ("Permits (advertising and kiosks)", "valid", "expires within 30 days",
                 "expired", "expiry unknown"):  # fmt: skip
        assert text in legend
    # Freshness in English; «overdue» on the overdue layer only; data stays as it is.
    overdue = page.locator('li[data-layer="abandoned_buildings"] .fresh').inner_text()
    assert "overdue" in overdue and "Last updated" in overdue
    kiosks = page.locator('li[data-layer="kiosks"]')
    fresh = kiosks.locator(".fresh").inner_text()
    assert "Owner" in fresh and "Updates" in fresh and "weekly" in fresh
    assert "overdue" not in fresh and "Департамент промисловості" in fresh
    assert "щотижня" not in fresh and "Власник" not in fresh
    # The city's own layers have English titles in the catalogue.
    assert page.get_by_label("Kiosks and temporary structures", exact=True).count() == 1
    assert page.get_by_label("Districts", exact=True).count() == 1
    expect(page.locator('li[data-layer="districts"] .count')).to_have_text(
        re.compile(r"^\d+ features$")
    )

    switch_on(page, "kiosks")
    counts = kiosks.locator(".permit-counts").inner_text()
    assert "expired: " in counts and "expires within 30 days: " in counts
    expect(page.locator("#status")).to_have_text(
        f"Layer “Kiosks and temporary structures” switched on: {planner_city['kiosks']:,} features."
    )
    if phone:
        page.click("#panel-toggle")  # close the sheet to reach the map
    click_the_kiosk_at_the_centre(page)
    page.wait_for_selector("#attrs:not([hidden])", timeout=5_000)
    assert planner_city["code"] in page.locator("#attrs-title").inner_text()
    title = page.locator("#attrs-title").inner_text()
    assert title.startswith("Kiosks and temporary structures: ")
    heads = page.locator("#attrs-table thead th").all_inner_texts()
    assert heads == ["Property", "Value"]
    rows = page.locator("#attrs-table tbody th").all_inner_texts()
    assert "Permit valid until" in rows and "Owner" in rows and "Address" in rows
    assert not [r for r in rows if re.search("[А-Яа-яІіЇїЄє]", r)]
    expect(page.locator("#attrs-permit")).to_have_text(
        re.compile(r"^Permit: expired \(until \d\d/\d\d/\d{4}\)$")
    )
    assert page.get_attribute("#attrs-close", "aria-label") == "Close attributes"
    shot = screenshot(page, f"planner-{'phone' if phone else 'desktop'}-en")
    assert shot.stat().st_size > 10_000

    # And back: the switch now offers English again, the page is Ukrainian.
    if phone:
        page.click("#attrs-close")
    page.click('a.lang-switch[data-lang="uk"]')
    page.wait_for_url(re.compile(r"/planner\?lang=uk#18/"))
    page.wait_for_selector('#map[data-state="ready"]', timeout=15_000)
    expect(page.locator("#panel-title")).to_have_text("Шари міста")
    assert page.get_by_label("МАФ і тимчасові споруди", exact=True).count() == 1
    assert_clean(browser_log)


def test_signed_in_staff_also_see_internal_layers(planner_city, page, browser_log):
    """The catalogue filters by role: anonymous visitors do not see the executors' territories,
    the demo planner (signed in with a cookie session, which the page's fetch sends) does."""

    planner = next(a for a in planner_city["accounts"] if a.role == "planner")
    page.set_viewport_size(DESKTOP)
    open_planner(page, planner_city["base"] + "/planner")
    assert page.locator('li[data-layer="executor_territories"]').count() == 0
    r = page.request.post(
        planner_city["base"] + "/api/v1/auth/login",
        data={"email": planner.login, "password": planner.password, "session": "cookie"},
    )
    assert r.ok, r.text()
    open_planner(page, planner_city["base"] + "/planner")
    assert page.locator('li[data-layer="executor_territories"]').count() == 1
    switch_on(page, "executor_territories")
    assert_clean(browser_log)


def test_a_planner_opens_an_expired_permit_from_the_list(planner_city, page, signed_in,
                                                         browser_log, screenshot):  # fmt: skip
    """«Дозволи, що спливають» (planners only): the expired kiosks listed, kiosk 1 (expired
    three days ago) opened from its row by the keyboard — the kiosks switched on, the map at
    it, its card saying «прострочений» — and the listed permits ringed on the map."""
    page.set_viewport_size(DESKTOP)
    open_planner(page, planner_city["base"] + "/planner")
    expect(page.locator("#permits")).to_be_hidden()  # the public: no list

    planner = signed_in("planner", bypass_csp=True)  # axe-core is injected at the end
    planner.set_viewport_size(DESKTOP)
    open_planner(planner, planner_city["base"] + "/planner")
    section = planner.locator("#permits")
    expect(section).to_have_attribute("data-state", "ready", timeout=10_000)
    expect(planner.locator("#permits-count-expiring")).to_have_text(re.compile(r"\(\d+\)"))
    planner.select_option("#permits-layer", "kiosks")
    planner.click("#permits-show-expired")
    planner.wait_for_function(
        "() => { const s = document.getElementById('permits');"
        " return s.dataset.status === 'expired' && s.dataset.state === 'ready'"
        " && !document.querySelector('#permits-list li:not([data-feature-layer=\"kiosks\"])'); }",
        timeout=10_000,
    )
    expect(planner.locator("#permits-show-expired")).to_have_attribute("aria-pressed", "true")
    expired = planner_city["permits"]["expired"]
    expect(planner.locator("#permits-count-expired")).to_have_text(f"({expired})")
    row = planner.locator('#permits-list li[data-feature-layer="kiosks"][data-feature-id="1"]')
    expect(row).to_contain_text(planner_city["code"])
    expect(row).to_contain_text(re.compile(r"прострочено \d+ д"))
    assert planner.get_attribute('#layer-list li[data-layer="kiosks"]', "data-state") == "off"

    row.locator("button").focus()
    planner.keyboard.press("Enter")
    planner.wait_for_selector(
        '#layer-list li[data-layer="kiosks"][data-state="on"]', timeout=20_000
    )
    expect(planner.locator("#attrs")).to_be_visible(timeout=10_000)
    expect(planner.locator("#attrs-title")).to_contain_text(planner_city["code"])
    expect(planner.locator("#attrs-permit")).to_have_attribute("data-status", "expired")
    assert planner.evaluate("() => document.activeElement.id") == "attrs-title"

    planner.check("#permits-overlay")
    expect(section).to_have_attribute("data-overlay", str(min(expired, 500)))
    screenshot(planner, "planner-permits-expired")
    planner.uncheck("#permits-overlay")
    assert planner.get_attribute("#permits", "data-overlay") is None
    assert_clean(browser_log)

    from test_portal_a11y import axe_violations

    assert axe_violations(planner) == []  # the section with its list shown
