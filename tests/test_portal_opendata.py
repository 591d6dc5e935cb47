"""The open-data page (issue 14, item 3) in Chromium: linked from the public map, it names
every field of the exports, the licence and when the data last changed, its two download
links fetch the CSV and the GeoJSON, and it passes axe (WCAG 2.1 AA) in both languages."""

from __future__ import annotations

import csv
import io
import json

import psycopg
import pytest
from playwright.sync_api import expect
from test_portal_a11y import AXE, axe_violations

from gis import opendata

SEED = 31
PORTAL = {"seed": SEED, "appeals": 300}  # browser.portal's demo city


def test_the_page_describes_the_fields_and_its_links_download(portal, new_context, screenshot):
    page = new_context().new_page()
    page.goto(portal.base + "/")
    page.get_by_role("link", name="Відкриті дані").click()
    page.wait_for_url(portal.base + "/opendata")
    expect(page.get_by_role("heading", level=1)).to_have_text("Відкриті дані: звернення")
    fields = page.locator("#fields").inner_text()
    for field in opendata.FIELDS:
        assert field in fields, field
    expect(page.locator("#licence")).to_contain_text("CC BY 4.0")
    with psycopg.connect(portal.db) as conn:
        (updated,) = conn.execute(
            "SELECT to_char(max(updated_at) AT TIME ZONE 'Europe/Kyiv', 'YYYY-MM-DD HH24:MI')"
            " FROM appeals"
        ).fetchone()
        (total,) = conn.execute("SELECT count(*) FROM appeals").fetchone()
    expect(page.locator("#updated time")).to_have_text(updated)
    screenshot(page, "opendata", full_page=True)

    with page.expect_download() as got:
        page.locator("#download-csv").click()
    body = open(got.value.path(), "rb").read()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) == total and list(rows[0])[:3] == ["Id", "uid", "receivedDateTime"]
    with page.expect_download() as got:
        page.locator("#download-geojson").click()
    data = json.loads(open(got.value.path(), encoding="utf-8").read())
    assert len(data["features"]) == total


@pytest.mark.parametrize("lang", ["uk", "en"])
def test_the_page_passes_axe(portal, new_context, lang):
    if not AXE.exists():
        pytest.fail("axe-core is missing from webmap/node_modules: run `make assets`")
    page = new_context(bypass_csp=True).new_page()
    page.goto(f"{portal.base}/opendata?lang={lang}")
    assert page.evaluate("document.documentElement.lang") == lang
    if lang == "en":
        expect(page.get_by_role("heading", level=1)).to_have_text("Open data: appeals")
    violations = axe_violations(page)
    assert not violations, "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"])
        for v in violations
    )
