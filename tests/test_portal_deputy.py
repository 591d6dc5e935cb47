"""The deputy cabinet (/cabinet/ward) and a ward's statistics and report
(api/routers/wards.py, gis/ward_report.py): the statistics equal the database's counts, a
deputy sees only their own ward (another one: 404), the report is HTML with a local folium map
and tables, and PDF with the ward's name; in Debian's chromium a deputy signs in and sees their
ward drawn with its statistics, with no JavaScript error and no request leaving 127.0.0.1; in
English (the switch) the page, its statistics and its reports are English."""

from __future__ import annotations

import calendar
import datetime as dt
import html
import itertools
import os
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import psycopg
import pytest
from browser import run_async, sign_in
from conftest import demo_city
from fastapi.testclient import TestClient
from live import serve
from playwright.sync_api import expect
from test_ward_report import pdf_text

from api import create_app
from gis import accounts
from gis.db import libpq_url
from gis.settings import Settings

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
SEED = 23
PASSWORD = "Deputy-ward-Pass-2026"
SCREENSHOTS = os.environ.get("HROMADA_SCREENSHOTS")
_counter = itertools.count()
UK_MONTHS = ("січень", "лютий", "березень", "квітень", "травень", "червень", "липень",
             "серпень", "вересень", "жовтень", "листопад", "грудень")  # fmt: skip


def _last_months(n: int) -> list[tuple[int, int]]:
    """(year, month) of the last n calendar months in Kyiv, the current one last."""
    today = dt.datetime.now(ZoneInfo("Europe/Kyiv")).date()
    y, m = today.year, today.month
    out = []
    for _ in range(n):
        out.append((y, m))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


def _run(coro_fn, url):
    async def main():
        async with await psycopg.AsyncConnection.connect(libpq_url(url), autocommit=True) as c:
            return await coro_fn(c)

    return run_async(main)  # a live chromium keeps its loop in this thread


def new_user(url: str, role: str, password: str | None = None, **binding) -> tuple[int, str]:
    email = f"{role}-{next(_counter)}@deputy.test"

    async def make(conn):
        return await accounts.create_user(
            conn, email=email, password=password, full_name=f"Тест {role}", role=role,
            confirmed=True, **binding,
        )  # fmt: skip

    return _run(make, url), email


def token_for(url: str, user_id: int) -> dict:
    async def make(conn):
        s = await accounts.create_session(
            conn, user_id=user_id, kind="bearer", ip=None, user_agent="pytest",
            ttl=dt.timedelta(hours=1),
        )  # fmt: skip
        return s.token

    return {"Authorization": f"Bearer {_run(make, url)}"}


def sql(url: str, query: str, params=None):
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


@pytest.fixture(scope="module")
def city(server_url, template_url, shared_data):
    with demo_city(
        server_url, template_url, shared_data, "deputy", seed=SEED, appeals=1500, now=NOW
    ) as url:
        yield url


@pytest.fixture(scope="module")
def wards(city):
    """The two wards with the most appeals: (number, name) each."""
    rows = sql(city, "SELECT f.ward, w.name FROM appeal_features f JOIN wards w"
                     " ON w.number = f.ward AND w.valid_to IS NULL"
                     " GROUP BY f.ward, w.name ORDER BY count(*) DESC, f.ward LIMIT 2")  # fmt: skip
    assert len(rows) == 2
    return rows


@pytest.fixture(scope="module")
def live(city):
    """The app served on the module's city (its deputies are made by each test)."""
    with serve(create_app(Settings(database_url=city))) as base:
        yield base


@pytest.fixture(scope="module")
def client(city):
    with TestClient(create_app(Settings(database_url=city))) as c:
        yield c


def test_statistics_equal_the_databases_counts(city, wards, client):
    number, name = wards[0]
    uid, _ = new_user(city, "deputy", ward_number=number)
    r = client.get(f"/api/v1/wards/{number}/statistics", headers=token_for(city, uid))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ward"]["number"] == number and body["ward"]["name"] == name
    # The demo's wards are named "Виборчий округ №N": the name adds nothing to the title.
    assert body["ward"]["name_adds"] is False
    assert body["ward"]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    ward_ids = "SELECT id FROM wards WHERE number = %s"
    (total, overdue), = sql(city, "SELECT count(*), count(*) FILTER (WHERE status <> 'closed'"
                                  " AND coalesce(extended_until, deadline_at) < now())"
                                  f" FROM appeals WHERE ward_id IN ({ward_ids})", (number,))  # fmt: skip
    assert total > 0
    assert body["total"] == total and body["overdue"] == overdue
    by_status = dict(sql(city, f"SELECT status, count(*) FROM appeals WHERE ward_id IN"
                               f" ({ward_ids}) GROUP BY status", (number,)))  # fmt: skip
    assert {r["status"]: r["count"] for r in body["by_status"] if r["count"]} == by_status
    # Per category id: the many kinds' "Загальні питання" are as many rows, each named with
    # its kind.
    by_category = dict(sql(city, "SELECT category_id, count(*) FROM appeals"
                                 f" WHERE ward_id IN ({ward_ids}) GROUP BY 1", (number,)))  # fmt: skip
    assert {r["category_id"]: r["count"] for r in body["by_category"]} == by_category
    named = [r["category"] for r in body["by_category"]]
    assert len(named) == len(set(named))
    assert sum(r["overdue"] for r in body["by_category"]) == overdue
    assert len(body["by_month"]) == 12
    (last_year,), = sql(city, "SELECT count(*) FROM appeals WHERE ward_id IN"
                              f" ({ward_ids}) AND created_at >= (date_trunc('month',"
                              " now() AT TIME ZONE 'Europe/Kyiv') - interval '11 months')"
                              " AT TIME ZONE 'Europe/Kyiv'", (number,))  # fmt: skip
    assert sum(r["count"] for r in body["by_month"]) == last_year > 0
    months = [r["month"] for r in body["by_month"]]
    assert months == sorted(months) and len(set(months)) == 12
    latest = body["latest"]
    assert 0 < len(latest) <= 20
    in_ward = {n for n, in sql(city, f"SELECT number FROM appeals WHERE ward_id IN ({ward_ids})",
                               (number,))}  # fmt: skip
    assert {r["number"] for r in latest} <= in_ward
    created = [r["created_at"] for r in latest]
    assert created == sorted(created, reverse=True)
    # Never personal data.
    text = r.text
    for field in ("author", "email", "phone", "full_name"):
        assert field not in text
    assert [r["name"] for r in body["by_status"]][:2] == ["Зареєстровано", "В роботі"]
    assert all(r["label"].split() == [UK_MONTHS[int(r["month"][5:]) - 1], r["month"][:4]]
               for r in body["by_month"])  # fmt: skip

    # In English (the cabinet's fetch sends the page's language; ?lang= also asks): status,
    # month and category names (a category without English keeps its Ukrainian); the counts
    # the same.
    english = dict(sql(city, "SELECT id, name_en FROM categories WHERE name_en IS NOT NULL"))
    ukrainian = {r["category_id"]: r["category"] for r in body["by_category"]}
    assert set(ukrainian) & set(english)
    for query, header in (("", "en-GB,en;q=0.9"), ("?lang=en", "uk")):
        en = client.get(f"/api/v1/wards/{number}/statistics{query}",
                        headers={**token_for(city, uid), "Accept-Language": header}).json()  # fmt: skip
        assert [r["name"] for r in en["by_status"]] == [
            "Registered", "In work", "On check", "Returned for rework", "Closed",
        ]  # fmt: skip
        assert [r["label"] for r in en["by_month"]] == [
            f"{calendar.month_name[int(r['month'][5:])]} {r['month'][:4]}" for r in en["by_month"]
        ]
        assert {r["status_name"] for r in en["latest"]} <= {r["name"] for r in en["by_status"]}
        assert en["total"] == body["total"]
        counts = {r["category_id"]: r["count"] for r in en["by_category"]}
        assert counts == {r["category_id"]: r["count"] for r in body["by_category"]}
        for r in en["by_category"]:
            if r["category_id"] in english:  # (a shared name after its kind's)
                assert r["category"].endswith(english[r["category_id"]]), r
            else:
                assert r["category"] == ukrainian[r["category_id"]], r


def test_a_deputy_sees_only_their_own_ward(city, wards, client):
    (mine, _), (other, _) = wards
    uid, _ = new_user(city, "deputy", ward_number=mine)
    headers = token_for(city, uid)
    for suffix in ("statistics", "report.html", "report.pdf"):
        r = client.get(f"/api/v1/wards/{other}/{suffix}", headers=headers)
        assert r.status_code == 404, (suffix, r.text)
        assert r.json()["code"] == "ward_not_found"
        r = client.get(f"/api/v1/wards/999999/{suffix}", headers=headers)
        assert r.status_code == 404
        r = client.get(f"/api/v1/wards/{other}/{suffix}")
        assert r.status_code == 401 and r.json()["code"] == "not_authenticated"
    # City-wide roles see any ward; an executor or a citizen none.
    for role in ("operator", "curator", "admin"):
        rid, _ = new_user(city, role)
        r = client.get(f"/api/v1/wards/{other}/statistics", headers=token_for(city, rid))
        assert r.status_code == 200, (role, r.text)
    rid, _ = new_user(city, "citizen")
    r = client.get(f"/api/v1/wards/{mine}/statistics", headers=token_for(city, rid))
    assert r.status_code == 403
    r = client.get("/api/v1/wards/abc/statistics", headers=headers)
    assert r.status_code == 404


def test_the_report_as_html_and_pdf(city, wards, client, tmp_path):
    number, name = wards[0]
    uid, _ = new_user(city, "deputy", ward_number=number)
    headers = token_for(city, uid)
    r = client.get(f"/api/v1/wards/{number}/report.html", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    page = r.text
    assert r.headers["content-language"] == "uk"
    assert f"<h1>Звіт по виборчому округу № {number}</h1>" in page
    assert name not in page  # "Виборчий округ №N" would only repeat the number
    assert '<html lang="uk">' in page
    for caption in ("За статусом", "За категорією", "По місяцях (останні 12 місяців)"):
        assert f"<caption>{caption}</caption>" in page
    assert page.count("<table") == 3
    # folium's map, with Leaflet from our own server and nothing from a CDN.
    assert "/static/vendor/leaflet/leaflet.js" in page
    assert "circleMarker" in page or "circle_marker" in page
    for cdn in ("cdn.jsdelivr", "cdnjs", "unpkg", "code.jquery", "bootstrapcdn", "https://"):
        assert cdn not in page, cdn

    r = client.get(f"/api/v1/wards/{number}/report.pdf", headers=headers)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    (tmp_path / "ward-report.pdf").write_bytes(r.content)  # to look at
    if SCREENSHOTS:
        (Path(SCREENSHOTS) / "ward-report.pdf").write_bytes(r.content)
    # The ward's name in the document's title (UTF-16, as PDF strings with Cyrillic are);
    # the text itself is drawn in DejaVu Sans, embedded.
    title = f"Звіт по виборчому округу № {number}"
    assert ("\ufeff" + title).encode("utf-16-be").hex().encode() in r.content
    assert b"DejaVuSans" in r.content
    assert r.content.rstrip().endswith(b"%%EOF")
    lines = pdf_text(r.content).splitlines()
    assert lines[0] == title and "За категорією" in lines


def test_the_report_in_english(city, wards, client, tmp_path):
    """The report follows the language asked for: ?lang=en (the cabinet's links), else the
    browser's Accept-Language; an unknown ?lang= is ignored."""
    number, _ = wards[0]
    uid, _ = new_user(city, "deputy", ward_number=number)
    headers = token_for(city, uid)
    months = [f"{calendar.month_name[m]} {y}" for y, m in _last_months(12)]
    english = {n for (n,) in sql(city, "SELECT name_en FROM categories WHERE name_en IS NOT NULL")}
    for query, accept in (("?lang=en", "uk-UA,uk"), ("", "en-US,en;q=0.9"), ("?lang=xx", "en")):
        r = client.get(f"/api/v1/wards/{number}/report.html{query}",
                       headers={**headers, "Accept-Language": accept})  # fmt: skip
        assert r.status_code == 200, r.text
        assert r.headers["content-language"] == "en"
        page = r.text
        assert '<html lang="en">' in page
        assert f"<h1>Report on electoral ward No. {number}</h1>" in page
        for caption in ("By status", "By category", "By month (the last 12 months)"):
            assert f"<caption>{caption}</caption>" in page
        for head in ("Status", "Category", "Month", "Appeals", "Overdue", "Filed"):
            assert f'<th scope="col">{head}</th>' in page
        assert "Returned for rework" in page and months[-1] in page
        assert any(html.escape(n) in page for n in english)  # the categories' English names
        for uk in ("Звіт по", "Станом на", "За статусом", "Прострочено", *UK_MONTHS):
            assert uk not in page, uk
    # ?lang=uk wins over an English browser.
    r = client.get(f"/api/v1/wards/{number}/report.html?lang=uk",
                   headers={**headers, "Accept-Language": "en"})  # fmt: skip
    assert "<caption>За статусом</caption>" in r.text and "By status" not in r.text

    r = client.get(f"/api/v1/wards/{number}/report.pdf?lang=en", headers=headers)
    assert r.status_code == 200 and r.headers["content-language"] == "en"
    assert f"/Title (Report on electoral ward No. {number})".encode() in r.content
    assert b"/Lang (en)" in r.content
    text = pdf_text(r.content)
    (tmp_path / "ward-report-en.pdf").write_bytes(r.content)
    if SCREENSHOTS:
        (Path(SCREENSHOTS) / "ward-report-en.pdf").write_bytes(r.content)
        (Path(SCREENSHOTS) / "ward-report-en.txt").write_text(text)
    lines = text.splitlines()
    assert lines[0] == f"Report on electoral ward No. {number}"
    assert lines[1].startswith("As of ") and lines[1].endswith(
        "No personal data of the applicants."
    )
    for line in ("By status", "By category", "By month (the last 12 months)", "Status",
                 "Category", "Month", "Appeals", "Overdue", "Filed", "Of them closed",
                 "Registered", "Returned for rework", *months):  # fmt: skip
        assert line in lines, line
    assert any(line.startswith("Appeals in total: ") for line in lines)
    for uk in ("За статусом", "Статус", "Звернень", "З них закрито"):
        assert uk not in lines, uk


def test_the_cabinet_page_is_served(client):
    r = client.get("/cabinet/ward")
    assert r.status_code == 200
    for marker in ('id="ward-map"', 'id="by-category"', 'id="by-month"', 'id="latest"',
                   "js/deputy.js", "vendor/vectorgrid"):  # fmt: skip
        assert marker in r.text


def test_a_deputy_signs_in_and_sees_their_ward(city, wards, live, page, browser_log, screenshot):
    number, name = wards[0]
    _, email = new_user(city, "deputy", password=PASSWORD, ward_number=number)
    ((total,),) = sql(city, "SELECT count(*) FROM appeal_features WHERE ward = %s", (number,))
    base = live
    tiles: list[int] = []
    page.set_viewport_size({"width": 1280, "height": 900})
    page.on("response", lambda r: tiles.append(r.status) if ".mvt" in r.url else None)
    # Not signed in: the cabinet sends to the sign-in page.
    page.goto(base + "/cabinet/ward")
    page.wait_for_url(base + "/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(base + "/cabinet")
    page.goto(base + "/cabinet/ward")
    page.wait_for_selector('#deputy[data-state="ready"]', timeout=15_000)
    assert page.get_attribute("#deputy", "data-ward") == str(number)
    assert page.get_attribute("#ward-map", "data-state") == "ready"
    # The demo's ward names ("Виборчий округ №N") would only repeat the number.
    expect(page.locator("#ward-title")).to_have_text(f"Виборчий округ № {number}")
    assert name not in page.inner_text("#ward-title")
    assert page.inner_text("#stat-total") == str(total)
    # The ward's outline is drawn, and its appeals' tiles arrive.
    assert page.locator("#ward-map .leaflet-overlay-pane path").count() >= 1
    page.wait_for_function(
        "() => Number(document.getElementById('ward-map').dataset.appealTiles || 0) > 0",
        timeout=15_000,
    )
    page.wait_for_selector("#ward-map .leaflet-appeals-pane path, "
                           "#ward-map .leaflet-tile path", timeout=15_000)  # fmt: skip
    assert tiles and set(tiles) == {200}
    assert page.locator("#by-status tbody tr").count() == 5
    assert page.locator("#by-category tbody tr").count() > 0
    assert page.locator("#by-month tbody tr").count() == 12
    assert page.locator("#latest tbody tr").count() > 0
    href = page.get_attribute("#report-pdf", "href")
    assert href == f"/api/v1/wards/{number}/report.pdf?lang=uk"
    # Keyboard: the map takes focus and the arrows move it.
    page.focus("#ward-map")
    centre = page.evaluate("document.activeElement.id")
    assert centre == "ward-map"
    page.wait_for_load_state("networkidle")  # the background's and the appeals' tiles drawn
    shot = screenshot(page, "deputy", full_page=True)
    assert shot.stat().st_size > 10_000
    # The printable report opens with the session, its map from our own Leaflet.
    page.goto(base + page.get_attribute("#report-html", "href"))
    page.wait_for_selector(".leaflet-overlay-pane canvas", timeout=15_000)  # prefer_canvas
    assert page.locator("table caption").count() == 3
    screenshot(page, "deputy-report", full_page=True)
    # (Before signing in, /api/v1/me answers 401, which the console reports.)
    assert [m for m in browser_log.console if "status of 401" not in m] == []
    assert [r for r in browser_log.failed if not r.startswith("401 ")] == []


def _sign_in(page, base: str, email: str) -> None:
    sign_in(page, base, SimpleNamespace(login=email, password=PASSWORD))


def test_the_cabinet_in_english(city, wards, live, new_context, browser_log, screenshot):
    """A deputy switches the cabinet to English: headings, statistics, table headers, status
    and month names are English, the report links ask for English and the report is English;
    an operator's wrong ward number is refused in English, by the page and by the API."""
    number, name = wards[0]
    _, email = new_user(city, "deputy", password=PASSWORD, ward_number=number)
    _, operator = new_user(city, "operator", password=PASSWORD)
    ((total,),) = sql(city, "SELECT count(*) FROM appeal_features WHERE ward = %s", (number,))
    base = live
    for device, viewport in (("desktop", {"width": 1280, "height": 900}),
                             ("phone", {"width": 390, "height": 844})):  # fmt: skip
        context = new_context(viewport=viewport)
        page = context.new_page()
        _sign_in(page, base, email)
        page.goto(base + "/cabinet/ward")
        page.wait_for_selector('#deputy[data-state="ready"]', timeout=15_000)
        expect(page.locator("#stats-title")).to_have_text("Статистика звернень")
        switch = page.locator('a.lang-switch[data-lang="en"]')
        expect(switch).to_have_text("English")
        assert switch.is_visible()
        box = switch.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
        # By keyboard: the switch takes focus and Enter follows it.
        switch.focus()
        assert page.evaluate("document.activeElement.dataset.lang") == "en"
        page.keyboard.press("Enter")
        page.wait_for_url("**/cabinet/ward?lang=en")
        page.wait_for_selector('#deputy[data-state="ready"]', timeout=15_000)
        assert page.get_attribute("html", "lang") == "en"
        assert page.title() == f"Ward No. {number} — Deputy's cabinet — Hromada GIS"
        expect(page.locator("#ward-title")).to_have_text(f"Electoral ward No. {number}")
        expect(page.locator("#deputy-status")).to_have_text(f"Appeals in the ward: {total}.")
        expect(page.locator("#who")).to_contain_text(f"deputy for electoral ward No. {number}")
        for selector, text in (
            ("#map-title", "The ward on the map"),
            ("#stats-title", "Appeal statistics"),
            ("#latest-title", "The ward's latest appeals"),
            ("#by-status caption", "By status"),
            ("#by-category caption", "By category"),
            ("#by-month caption", "By month (the last 12 months)"),
            ("#logout", "Sign out"),
            ("a.lang-switch", "Українська"),
        ):
            expect(page.locator(selector)).to_have_text(text)
        expect(page.locator("#latest-note")).to_contain_text(
            "Appeals are not addressed to a deputy in person"
        )
        heads = [page.locator(f"#{t} thead th").all_inner_texts()
                 for t in ("by-status", "by-category", "by-month", "latest")]  # fmt: skip
        assert heads == [
            ["Status", "Appeals", "Overdue"],
            ["Category", "Appeals", "Overdue"],
            ["Month", "Filed", "Distribution", "Closed"],
            ["Number", "Filed", "Category", "Status", "Address", "Deadline"],
        ]
        assert page.locator(".totals dt").all_inner_texts() == [
            "Total", "Open", "Overdue",
        ]  # fmt: skip
        assert page.inner_text("#stat-total") == str(total)
        assert page.locator("#by-status tbody th").all_inner_texts() == [
            "Registered", "In work", "On check", "Returned for rework", "Closed",
        ]  # fmt: skip
        assert "Returned for rework" in page.inner_text("#legend")
        months = page.locator("#by-month tbody th").all_inner_texts()
        assert len(months) == 12
        assert all(m.split()[0] in calendar.month_name[1:] for m in months), months
        # Dates in en-GB (day/month/year), the overdue mark in English.
        first = page.locator("#latest tbody tr").first.locator("td").nth(1)
        assert "/" in first.inner_text()
        deadlines = " ".join(page.locator("#latest tbody td:nth-child(6)")
                             .all_inner_texts())  # fmt: skip
        assert "прострочено" not in deadlines
        # The report links ask for English.
        for kind in ("html", "pdf"):
            assert page.get_attribute(f"#report-{kind}", "href") == (
                f"/api/v1/wards/{number}/report.{kind}?lang=en"
            )
        expect(page.locator("#report-html")).to_have_text("HTML (map and tables)")
        # Nothing widens the page: the latest appeals scroll inside their box.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], width
        page.wait_for_load_state("networkidle")  # the map's tiles drawn
        screenshot(page, f"deputy-en-{device}", full_page=True)
        if device == "desktop":
            # The English report, opened as the link opens it.
            page.goto(base + page.get_attribute("#report-html", "href"))
            page.wait_for_selector(".leaflet-overlay-pane canvas", timeout=15_000)
            assert page.get_attribute("html", "lang") == "en"
            expect(page.locator("h1")).to_have_text(f"Report on electoral ward No. {number}")
            assert page.locator("table caption").all_inner_texts() == [
                "By status", "By category", "By month (the last 12 months)",
            ]  # fmt: skip
            screenshot(page, "deputy-report-en", full_page=True)
            # And back to Ukrainian: the switch's choice is kept by the cookie.
            page.goto(base + "/cabinet/ward")
            page.wait_for_selector('#deputy[data-state="ready"]', timeout=15_000)
            assert page.get_attribute("html", "lang") == "en"
            page.click('a.lang-switch[data-lang="uk"]')
            page.wait_for_url("**/cabinet/ward?lang=uk")
            page.wait_for_selector('#deputy[data-state="ready"]', timeout=15_000)
            expect(page.locator("#stats-title")).to_have_text("Статистика звернень")
            expect(page.locator("#by-status tbody th").first).to_have_text("Зареєстровано")
        context.close()

    # An operator picks wards in English: a malformed number is refused by the
    # page, an unknown one by the API, both in English.
    context = new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    _sign_in(page, base, operator)
    page.goto(base + "/cabinet/ward?lang=en")
    page.wait_for_selector('#deputy[data-state="ready"]', timeout=15_000)
    expect(page.locator("#deputy-status")).to_have_text("Choose an electoral ward number.")
    expect(page.get_by_label("Ward number")).to_be_visible()
    page.fill("#ward-number", "1.5")
    page.click("#ward-picker button[type=submit]")
    expect(page.locator("#deputy-error")).to_have_text("Enter the ward number (a whole number).")
    page.fill("#ward-number", "999999")
    page.click("#ward-picker button[type=submit]")
    expect(page.locator("#deputy-error")).to_have_text("Electoral ward No. 999999 not found.")
    page.fill("#ward-number", str(number))
    page.click("#ward-picker button[type=submit]")
    page.wait_for_selector(f'#deputy[data-ward="{number}"][data-state="ready"]',
                           timeout=15_000)  # fmt: skip
    expect(page.locator("#by-status caption")).to_have_text("By status")
    assert page.get_attribute("#report-pdf", "href").endswith("?lang=en")
    context.close()
    # (The unknown ward's 404 and, before signing in, /api/v1/me's 401 the console reports.)
    assert [m for m in browser_log.console
            if "status of 401" not in m and "status of 404" not in m] == []  # fmt: skip
    assert [r for r in browser_log.failed if not r.startswith(("401 ", "404 "))] == []
