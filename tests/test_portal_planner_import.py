"""Import from a register on /planner, in Debian's chromium on a demo city, as a planner does
it: a CSV of advertising structures (two by coordinates, one by its address, one at an address
that does not exist) previewed — the counts and the row that cannot be placed shown, nothing
changed — then applied: the result shown, the structures in the layer (the audit trail naming
the planner) and the layer on the map."""

from __future__ import annotations

import psycopg
from browser import DESKTOP

from gis.db import libpq_url


def no_rules(url: str) -> None:
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("DELETE FROM placement_rules")


PORTAL = {"seed": 5, "appeals": 50, "prepare": no_rules}

CSV = (
    "код;вид;розмір;власник;адреса;довгота;широта\n"
    "IMP-1;білборд;6x3;ТОВ «Борд»;;30.6000;50.4500\n"
    "IMP-2;сітілайт;1,2x1,8;ТОВ «Сіті»;;30.6100;50.4500\n"
    "IMP-3;білборд;6x3;ТОВ «Борд»;Хрещатик, 22;;\n"
    "IMP-4;білборд;6x3;;Неіснуюча вулиця, 5;;\n"
).encode()


def count(page, kind: str) -> int:
    return int(page.get_attribute(f'#import-counts li[data-kind="{kind}"]', "data-count"))


def test_a_planner_previews_and_applies_a_register(portal, signed_in, browser_log, screenshot):
    page = signed_in("planner")
    page.set_viewport_size(DESKTOP)
    page.goto(portal.base + "/planner")
    page.wait_for_selector('#map[data-state="ready"]', timeout=15_000)
    page.wait_for_selector('#import[data-state="ready"]', timeout=15_000)
    page.set_input_files(
        "#import-file", files=[{"name": "реєстр.csv", "mimeType": "text/csv", "buffer": CSV}]
    )
    page.click("#import-preview")
    page.wait_for_selector('#import[data-state="previewed"]', timeout=20_000)
    assert (count(page, "added"), count(page, "changed"), count(page, "unplaced")) == (3, 0, 1)
    assert "Неіснуюча вулиця, 5" in page.inner_text("#import-tables")
    assert page.is_visible("#import-apply")
    with psycopg.connect(libpq_url(portal.db)) as conn:
        before = conn.execute(
            "SELECT count(*) FROM advertising_structures WHERE code LIKE 'IMP-%'"
        ).fetchone()[0]
    assert before == 0  # the preview changed nothing
    page.locator("#import").scroll_into_view_if_needed()
    screenshot(page, "planner-import-preview")

    page.click("#import-apply")
    page.wait_for_selector('#import[data-state="applied"]', timeout=30_000)
    assert count(page, "added") == 3
    assert "Імпорт застосовано" in page.inner_text("#import-status")
    assert page.is_hidden("#import-apply")
    page.wait_for_selector('li[data-layer="advertising_structures"][data-state="on"]',
                           timeout=20_000)  # fmt: skip
    with psycopg.connect(libpq_url(portal.db)) as conn:
        rows = conn.execute(
            "SELECT s.code, e.actor FROM advertising_structures s JOIN feature_events e"
            " ON e.layer = 'advertising_structures' AND e.feature_id = s.id::text"
            " WHERE s.code LIKE 'IMP-%' ORDER BY s.code"
        ).fetchall()
    planner = portal.account("planner").full_name
    assert rows == [("IMP-1", planner), ("IMP-2", planner), ("IMP-3", planner)]
    screenshot(page, "planner-import-applied")
    assert browser_log.errors == [] and browser_log.foreign == []
