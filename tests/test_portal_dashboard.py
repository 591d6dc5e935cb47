"""The dashboard (/dashboard, webmap/static/js/dashboard.js) in Debian's chromium: a manager
sees the figures of the reports API (executors, weekly, districts-by-category) for their
organisation, equal to direct SQL counts; a filter changes the page's address and the figures,
and the address alone gives the same view again; the executors' XLSX downloads and reads back
with openpyxl with the table's figures; printing hides the controls; a deputy sees only their
ward, whatever the address asks; a citizen is told the page is not theirs."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import psycopg
import pytest
from openpyxl import load_workbook

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
    for chart in ("#weekly-chart", "#kinds-chart", "#districts-map"):
        assert page.get_attribute(chart, "aria-label")
    assert sum(int(c) for c in page.eval_on_selector_all(
        "#weekly-table tbody tr td:nth-child(2)", "cells => cells.map(c => c.textContent.replace(/\\D/g, ''))"
    )) == received  # fmt: skip
    kinds = api(page, "districts-by-category")
    assert sum(int(c) for c in page.eval_on_selector_all(
        "#kinds-table tbody td", "cells => cells.map(c => c.textContent.replace(/\\D/g, ''))"
    )) == kinds["totals"]["total"] == received  # fmt: skip
    assert page.locator("#districts-map path").count() >= 5
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


def test_a_deputy_sees_only_their_ward(portal, signed_in, screenshot):
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


def test_a_citizen_is_told_the_dashboard_is_not_theirs(portal, signed_in):
    page = signed_in("citizen")
    page.goto(f"{portal.base}/dashboard")
    page.wait_for_selector('#dashboard[data-state="error"]', timeout=20_000)
    assert page.inner_text("#dash-error")
