"""The dashboard (/dashboard, webmap/static/js/dashboard.js) in Debian's chromium: anyone opens
it — a visitor (or a citizen, a planner) sees the public city-wide figures, linked from the map;
a manager sees the figures of the reports API (executors, weekly, districts-by-category) for their
organisation, equal to direct SQL counts; a filter changes the page's address and the figures,
and the address alone gives the same view again; the executors' XLSX downloads and reads back
with openpyxl with the table's figures; the choropleth of the wards colours each ward by the
class of its SQL count for the chosen measure; the hexagon density map counts the located
appeals and follows its size; the executor picker puts the code in the address; printing hides
the controls and keeps the charts and maps; a deputy sees (and prints) only their ward, whatever
the address asks."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import psycopg
import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PORTAL = {"seed": 13, "appeals": 900}
READY = '#dashboard[data-state="ready"]'
SUBTREE = ("WITH RECURSIVE t(id) AS (SELECT %s::int UNION"
           " SELECT e.id FROM executors e JOIN t ON e.parent_id = t.id) SELECT id FROM t")  # fmt: skip


def sql(url: str, query: str, params=None) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(query, params).fetchall()


def figure(page, selector: str) -> int:
    return int(re.sub(r"\D", "", page.inner_text(selector)) or 0)


def table_totals(page) -> dict[str, str]:
    """The executors' table's totals row, by column key (the raw values)."""
    return page.eval_on_selector_all(
        "#executors tfoot [data-key]",
        "cells => Object.fromEntries(cells.map(c => [c.dataset.key, c.dataset.value ?? null]))",
    )


def table_rows(page) -> dict[str, int]:
    """received per executor code in the executors' table."""
    return dict(page.eval_on_selector_all(
        "#executors tbody tr",
        "rows => rows.map(r => [r.querySelector('[data-key=executor_code]').textContent,"
        " Number(r.querySelector('[data-key=received]').dataset.value)])",
    ))  # fmt: skip


def api(page, name: str, **params) -> dict:
    r = page.request.get(f"/api/v1/reports/{name}", params=params)
    assert r.ok, r.text()
    return r.json()


def counts(db: str, cond: str, params: list) -> tuple[int, int, int]:
    """received, closed, overdue-now of the appeals under `cond` (over `appeals a`)."""
    return sql(db, "SELECT count(*), count(a.closed_at),"
                   " count(*) FILTER (WHERE a.status <> 'closed'"
                   "  AND coalesce(a.extended_until, a.deadline_at) < now())"
                   f" FROM appeals a WHERE {cond}", params)[0]  # fmt: skip


def test_a_manager_sees_the_reports_figures_filters_them_and_downloads_xlsx(
    portal, signed_in, screenshot, tmp_path
):
    executor_id = sql(portal.db, "SELECT executor_id FROM users WHERE role = 'manager'"
                                 " AND is_demo ORDER BY id LIMIT 1")[0][0]  # fmt: skip
    tree = [r[0] for r in sql(portal.db, SUBTREE, (executor_id,))]
    page = signed_in("manager", base_url=portal.base)
    expect_link = page.locator("#link-dashboard")
    assert expect_link.is_visible()
    expect_link.click()
    page.wait_for_selector(READY, timeout=30_000)

    received, closed, overdue = counts(portal.db, "a.executor_id = ANY(%s)", [tree])
    assert received > 0
    totals = table_totals(page)
    report = api(page, "executors")
    assert int(totals["received"]) == report["totals"]["received"] == received
    assert int(totals["overdue"]) == report["totals"]["overdue"] == overdue
    assert int(totals["in_work"]) == report["totals"]["in_work"]
    assert table_rows(page) == {r["executor_code"]: r["received"] for r in report["rows"]}
    weekly = page.get_attribute("#weekly-table", "data-received"), page.get_attribute(
        "#weekly-table", "data-closed")  # fmt: skip
    assert (int(weekly[0]), int(weekly[1])) == (received, closed)
    assert sum(r["received"] for r in api(page, "weekly")["rows"]) == received
    assert figure(page, "#total-received") == received
    assert figure(page, "#total-closed") == closed
    # Every chart speaks its figures: an aria-label and a table of them.
    for chart in ("#weekly-chart", "#kinds-chart", "#areas-map"):
        assert page.get_attribute(chart, "aria-label")
    assert sum(int(c) for c in page.eval_on_selector_all(
        "#weekly-table tbody tr td:nth-child(2)", "cells => cells.map(c => c.textContent.replace(/\\D/g, ''))"
    )) == received  # fmt: skip
    kinds = api(page, "districts-by-category")
    assert sum(int(c) for c in page.eval_on_selector_all(
        "#kinds-table tbody td", "cells => cells.map(c => c.textContent.replace(/\\D/g, ''))"
    )) == kinds["totals"]["total"] == received  # fmt: skip
    assert page.locator("#areas-map path").count() >= 5
    assert page.inner_text("#scope-line") == "Ваша організація та її підрозділи"
    screenshot(page, "dashboard-manager-desktop", full_page=True)

    # A filter: the address changes, the figures follow.
    channel, day = sql(portal.db,
        "SELECT a.channel, min((a.created_at AT TIME ZONE 'Europe/Kyiv')::date) FROM appeals a"
        " WHERE a.executor_id = ANY(%s) GROUP BY 1 ORDER BY count(*) DESC LIMIT 1", (tree,))[0]  # fmt: skip
    date_from = day.isoformat()
    page.select_option("#f-channel", channel)
    page.fill("#f-date_from", date_from)
    page.click("#filters button[type=submit]")
    query = f"date_from={date_from}&channel={channel}"
    page.wait_for_selector(f'#dashboard[data-state="ready"][data-query="{query}"]', timeout=20_000)
    assert parse_qs(urlparse(page.url).query) == {"date_from": [date_from], "channel": [channel]}
    cond = ("a.executor_id = ANY(%s) AND a.channel = %s"
            " AND (a.created_at AT TIME ZONE 'Europe/Kyiv')::date >= %s")  # fmt: skip
    f_received, f_closed, _ = counts(portal.db, cond, [tree, channel, day])
    assert 0 < f_received <= received
    assert int(table_totals(page)["received"]) == f_received
    assert int(page.get_attribute("#weekly-table", "data-closed")) == f_closed
    assert figure(page, "#total-received") == f_received

    # The address alone gives the same view (shared, reloaded).
    page.goto(page.url)
    page.wait_for_selector(f'#dashboard[data-state="ready"][data-query="{query}"]', timeout=20_000)
    assert page.input_value("#f-channel") == channel
    assert page.input_value("#f-date_from") == date_from
    assert int(table_totals(page)["received"]) == f_received

    # The XLSX of the same address: the table's figures.
    href = page.get_attribute("#executors-xlsx", "href")
    assert parse_qs(urlparse(href).query) == {"date_from": [date_from], "channel": [channel],
                                              "format": ["xlsx"]}  # fmt: skip
    with page.expect_download() as download:
        page.click("#executors-xlsx")
    path = tmp_path / "executors.xlsx"
    download.value.save_as(path)
    ws = load_workbook(path).active
    lines = list(ws.iter_rows(values_only=True))
    assert lines[0][2] in ("Надійшло", "Received")
    got = {r[0]: r[2] for r in lines[1:-1]}
    assert got == table_rows(page)
    assert lines[-1][2] == f_received  # the totals row, a number

    # Printing: no controls; the charts stay.
    page.emulate_media(media="print")
    assert not page.is_visible("#filters")
    assert not page.is_visible("#executors-xlsx")
    assert page.is_visible("#weekly-chart")
    assert page.is_visible("#filters-line")
    page.emulate_media(media="screen")

    page.set_viewport_size({"width": 1024, "height": 768})
    page.wait_for_function("() => document.getElementById('weekly-chart').clientWidth < 1000")
    screenshot(page, "dashboard-manager-1024x768")


def test_a_deputy_sees_and_prints_only_their_ward(portal, signed_in, screenshot, tmp_path):
    ward = sql(portal.db, "SELECT ward_number FROM users WHERE role = 'deputy' AND is_demo"
                          " ORDER BY id LIMIT 1")[0][0]  # fmt: skip
    other = sql(portal.db, "SELECT number FROM wards WHERE number <> %s ORDER BY number LIMIT 1",
                (ward,))[0][0]  # fmt: skip
    page = signed_in("deputy", base_url=portal.base)
    page.goto(f"{portal.base}/cabinet/ward")
    page.wait_for_selector('#deputy[data-state="ready"]', timeout=20_000)
    page.click("#link-dashboard")
    page.wait_for_selector(READY, timeout=30_000)
    cond = "a.ward_id IN (SELECT id FROM wards WHERE number = %s)"
    received, closed, _ = counts(portal.db, cond, [ward])
    assert received > 0
    assert figure(page, "#total-received") == received
    assert int(page.get_attribute("#weekly-table", "data-closed")) == closed
    assert int(table_totals(page)["received"]) == received
    assert not page.is_visible("#f-ward")
    assert str(ward) in page.inner_text("#scope-line")
    screenshot(page, "dashboard-deputy")
    # Another ward in the address changes nothing: their ward is their scope.
    page.goto(f"{portal.base}/dashboard?ward={other}")
    page.wait_for_selector(READY, timeout=30_000)
    assert figure(page, "#total-received") == received
    assert "ward" not in page.url

    assert page.get_attribute("#areas-map", "data-areas") == "wards"
    # The ward's maps: the choropleth centred on their ward (the only one with appeals), the
    # hexagons of their ward's located appeals.
    page.wait_for_selector('#hex-map[data-state="ready"]', timeout=20_000)
    lit = page.eval_on_selector_all(
        "#areas-map path[data-area]",
        "paths => paths.filter(p => Number(p.dataset.value) > 0).map(p => p.dataset.area)",
    )
    assert lit == [str(ward)]
    located = sql(portal.db, f"SELECT count(*) FROM appeals a WHERE {cond} AND a.geom IS NOT NULL",
                  [ward])[0][0]  # fmt: skip
    assert int(page.get_attribute("#hex-map", "data-total")) == hex_sum(page) == located

    # Printed: the charts and both maps of the ward on paper, no controls.
    page.emulate_media(media="print")
    for shown in ("#weekly-chart", "#kinds-chart", "#areas-map", "#hex-map", "#areas-legend",
                  "#hex-legend", "#filters-line", "#scope-line", "#executors"):  # fmt: skip
        assert page.is_visible(shown), shown
    for hidden in ("#filters", "#print", "#logout", ".map-controls >> nth=0", "#executors-xlsx"):
        assert not page.is_visible(hidden), hidden
    for map_id in ("areas-map", "hex-map"):
        box = page.locator(f"#{map_id}").bounding_box()
        assert box["width"] > 600 and box["height"] > 300, (map_id, box)
    page.wait_for_function(
        "() => [...document.querySelectorAll('#areas-map path[data-area]')].some(p =>"
        " p.dataset.value > 0 && p.getBoundingClientRect().width > 100)"
    )  # the map refits its ward to the page's width
    screenshot(page, "dashboard-deputy-print", full_page=True)
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b", pdf)) >= 2
    (tmp_path / "deputy-dashboard.pdf").write_bytes(pdf)
    page.emulate_media(media="screen")


def hex_sum(page) -> int:
    """The appeals of the hexagon map's hexagons, summed from their paths."""
    return page.eval_on_selector_all(
        "#hex-map path[data-hex]", "paths => paths.reduce((s, p) => s + Number(p.dataset.value), 0)"
    )


def located_sql(db: str, cond: str = "TRUE", params=None) -> int:
    return sql(db, f"SELECT count(*) FROM appeals a WHERE a.geom IS NOT NULL AND {cond}",
               params or [])[0][0]  # fmt: skip


@pytest.mark.parametrize(
    ("lang", "viewport"),
    [("uk", {"width": 1280, "height": 800}), ("en", {"width": 1024, "height": 768})],
    ids=["uk-desktop", "en-tablet"],
)
def test_anyone_sees_the_public_figures_from_the_map(
    portal, new_context, screenshot, lang, viewport
):
    page = new_context(viewport=viewport).new_page()
    page.goto(f"{portal.base}/?lang={lang}&period=all")  # the map's filters go along
    page.wait_for_selector('#map[data-state="ready"]', timeout=20_000)
    page.get_by_role("link", name="Статистика" if lang == "uk" else "Statistics").click()
    page.wait_for_selector(READY, timeout=30_000)
    assert urlparse(page.url).path == "/dashboard"
    assert page.locator("html").get_attribute("lang") == lang
    received, closed, overdue = counts(portal.db, "TRUE", [])
    (in_work,) = sql(portal.db, "SELECT count(*) FROM appeals WHERE status <> 'closed'")[0]
    assert received > 0
    assert figure(page, "#total-received") == received
    assert figure(page, "#total-closed") == closed
    assert figure(page, "#total-overdue") == overdue
    assert int(table_totals(page)["received"]) == received
    assert int(page.get_attribute("#weekly-table", "data-closed")) == closed
    assert page.get_attribute("#dashboard", "data-scope") == "public"
    expect(page.locator("#scope-line")).to_have_text(
        "Публічні показники по місту" if lang == "uk" else "Public figures for the city"
    )
    assert not page.is_visible("#logout") and not page.is_visible("#link-cabinet")
    assert not page.is_visible("#who")
    # The districts' choropleth: each district's figure as SQL counts it, in the hidden table.
    by_district = dict(sql(portal.db, "SELECT d.code, count(*) FROM appeals a"
                                      " JOIN districts d ON d.id = a.district_id GROUP BY d.code"))  # fmt: skip
    current = sql(portal.db, "SELECT count(*) FROM districts WHERE valid_to IS NULL")[0][0]
    drawn = dict(page.eval_on_selector_all(
        "#areas-map path[data-area]", "ps => ps.map(p => [p.dataset.area, Number(p.dataset.value)])"))  # fmt: skip
    assert len(drawn) == current
    assert drawn == {code: by_district.get(code, 0) for code in drawn}
    assert sum(drawn.values()) == sum(by_district.values()) > 0
    page.wait_for_selector('#hex-map[data-state="ready"]', timeout=20_000)
    assert hex_sum(page) == located_sql(portal.db)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
    screenshot(page, f"dashboard-public-{lang}-{viewport['width']}", full_page=True)


def test_the_maps_filters_go_to_the_dashboard(portal, new_context):
    """The map's district, category and period become the dashboard's filters."""
    district_id, code, category, day = sql(portal.db,
        "SELECT d.id, d.code, a.category_id, min((a.created_at AT TIME ZONE 'Europe/Kyiv')::date)"
        " FROM appeals a JOIN districts d ON d.id = a.district_id"
        " GROUP BY 1, 2, 3 ORDER BY count(*) DESC LIMIT 1")[0]  # fmt: skip
    page = new_context().new_page()
    page.goto(f"{portal.base}/?district={district_id}&category={category}&date_from={day}")
    page.wait_for_selector('#map[data-state="ready"]', timeout=20_000)
    page.wait_for_function(
        "() => document.getElementById('link-dashboard').search.includes('district=')"
    )
    page.click("#link-dashboard")
    want = f"date_from={day}&district={code}&category={category}"
    page.wait_for_selector(f'#dashboard[data-state="ready"][data-query="{want}"]', timeout=30_000)
    assert page.input_value("#f-district") == code
    assert page.input_value("#f-category") == str(category)
    assert page.input_value("#f-date_from") == day.isoformat()
    received = counts(portal.db, "a.district_id IN (SELECT id FROM districts WHERE code = %s)"
                      " AND a.category_id = %s"
                      " AND (a.created_at AT TIME ZONE 'Europe/Kyiv')::date >= %s",
                      [code, category, day])[0]  # fmt: skip
    assert received > 0
    assert figure(page, "#total-received") == received


def test_a_citizen_sees_the_public_figures(portal, signed_in):
    page = signed_in("citizen")
    page.goto(f"{portal.base}/dashboard")
    page.wait_for_selector(READY, timeout=30_000)
    assert figure(page, "#total-received") == counts(portal.db, "TRUE", [])[0]
    assert page.get_attribute("#dashboard", "data-scope") == "public"
    assert page.is_visible("#logout") and page.is_visible("#who")


def test_the_wards_choropleth_colours_each_ward_by_its_count(portal, new_context, screenshot):
    page = new_context().new_page()
    page.goto(f"{portal.base}/dashboard")
    page.wait_for_selector(READY, timeout=30_000)
    page.get_by_label("Округи").check()
    page.select_option("#f-measure", "open")
    page.wait_for_selector('#areas-map[data-areas="wards"][data-measure="open"]')
    assert parse_qs(urlparse(page.url).query) == {"areas": ["wards"], "measure": ["open"]}
    expect(page.locator("#areas-caption")).to_contain_text("виборчі округи")

    def check(measure: str, sql_value: str) -> None:
        want = dict(sql(portal.db, f"SELECT w.number::text, {sql_value} FROM wards w"
                                   " LEFT JOIN appeals a ON a.ward_id = w.id GROUP BY w.number"))  # fmt: skip
        legend = page.eval_on_selector_all(
            "#areas-legend [data-class]",
            "items => items.map(i => ({cls: i.dataset.class, colour: i.dataset.colour,"
            " lo: Number(i.dataset.lo || 0), hi: Number(i.dataset.hi || 0)}))",
        )
        paths = page.eval_on_selector_all(
            "#areas-map path[data-area]",
            "ps => ps.map(p => ({ward: p.dataset.area, value: Number(p.dataset.value),"
            " cls: p.dataset.class, fill: p.getAttribute('fill')}))",
        )
        assert len(paths) == len(want) and max(want.values()) > 0
        for path in paths:
            count = want[path["ward"]]
            assert path["value"] == count, (measure, path)
            cls = (
                "-1"
                if count == 0
                else next(i["cls"] for i in legend if i["lo"] <= count <= i["hi"])
            )
            colour = next(i["colour"] for i in legend if i["cls"] == cls)
            assert (path["cls"], path["fill"]) == (cls, colour), (measure, path, legend)
        # The same figures in the table for screen readers.
        rows = page.eval_on_selector_all(
            "#areas-table tbody tr", "rows => rows.map(r => r.dataset.area)"
        )
        assert sorted(rows) == sorted(want)

    check("open", "count(a.id) FILTER (WHERE a.status <> 'closed')")
    screenshot(page, "dashboard-wards-open")
    # The address alone gives the same view; another measure follows.
    page.goto(page.url)
    page.wait_for_selector(READY, timeout=30_000)
    assert page.is_checked("input[name=areas][value=wards]")
    assert page.input_value("#f-measure") == "open"
    page.select_option("#f-measure", "received")
    page.wait_for_selector('#areas-map[data-measure="received"]')
    assert parse_qs(urlparse(page.url).query) == {"areas": ["wards"]}
    check("received", "count(a.id)")


def test_the_hexagon_map_counts_the_located_appeals_and_follows_its_size(
    portal, new_context, screenshot
):
    channel = sql(
        portal.db, "SELECT channel FROM appeals GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    )[0][0]
    page = new_context().new_page()
    page.goto(f"{portal.base}/dashboard?channel={channel}")
    page.wait_for_selector(READY, timeout=30_000)
    page.wait_for_selector('#hex-map[data-state="ready"][data-size="1000"]', timeout=20_000)
    located = located_sql(portal.db, "a.channel = %s", [channel])
    assert 0 < located < located_sql(portal.db)
    assert hex_sum(page) == located == int(page.get_attribute("#hex-map", "data-total"))
    big = int(page.get_attribute("#hex-map", "data-count"))
    summary = re.sub(r"[\s\u00a0\u202f]", "", page.inner_text("#hex-summary"))
    assert str(big) in summary and page.get_attribute("#hex-map", "data-max") in summary
    # Keyboard: the map takes the focus and is described by its summary.
    assert page.get_attribute("#hex-map", "tabindex") == "0"
    assert page.get_attribute("#hex-map", "aria-describedby") == "hex-summary"
    with page.expect_request(lambda r: "/reports/hexagons" in r.url and "size=500" in r.url):
        page.select_option("#f-hex", "500")
    page.wait_for_selector('#hex-map[data-state="ready"][data-size="500"]', timeout=20_000)
    assert parse_qs(urlparse(page.url).query) == {"channel": [channel], "hex": ["500"]}
    assert int(page.get_attribute("#hex-map", "data-count")) > big
    assert hex_sum(page) == located
    screenshot(page, "dashboard-hexagons-500")
    # From the keyboard: focused, "+" zooms in; the reader's view stays for another size.
    zoom = float(page.get_attribute("#hex-map", "data-zoom"))
    page.focus("#hex-map")
    page.keyboard.press("Equal")
    page.wait_for_function(
        f"() => Number(document.getElementById('hex-map').dataset.zoom) > {zoom}"
    )
    zoomed = page.get_attribute("#hex-map", "data-zoom")
    page.select_option("#f-hex", "2000")
    page.wait_for_selector('#hex-map[data-state="ready"][data-size="2000"]', timeout=20_000)
    assert page.get_attribute("#hex-map", "data-zoom") == zoomed
    assert hex_sum(page) == located


def test_the_executor_picker_puts_the_code_in_the_address(portal, new_context):
    page = new_context(base_url=portal.base).new_page()
    page.goto(f"{portal.base}/dashboard")
    page.wait_for_selector(READY, timeout=30_000)
    code, received = sql(portal.db,
        "SELECT e.code, count(*) FROM appeals a JOIN executors e ON e.id = a.executor_id"
        " WHERE e.parent_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM executors c WHERE c.parent_id = e.id)"
        " GROUP BY e.code ORDER BY count(*) DESC LIMIT 1")[0]  # fmt: skip
    name = next(r["executor"] for r in api(page, "executors")["rows"] if r["executor_code"] == code)
    options = dict(page.eval_on_selector_all(
        "#executors-list option", "os => os.map(o => [o.value, o.label])"))  # fmt: skip
    assert options[code] == name
    assert page.get_attribute("#f-executor", "list") == "executors-list"
    # Picked by its name (as the list shows it): the address keeps the code.
    page.fill("#f-executor", name)
    page.click("#filters button[type=submit]")
    page.wait_for_selector(
        f'#dashboard[data-state="ready"][data-query="executor={code}"]', timeout=20_000
    )
    assert parse_qs(urlparse(page.url).query) == {"executor": [code]}
    assert page.input_value("#f-executor") == code
    assert figure(page, "#total-received") == received
    assert code in page.inner_text("#dash-status")
