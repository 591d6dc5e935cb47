"""Complaints about structures on /planner, in Debian's chromium on a demo city: the planner
switches the complaints on, sees the most-complained structures (top list, circles) and the
complaints with no registered structure nearby (diamonds), opens the top structure from the
list and reads its appeals on its card, each number a link to the public card; axe finds no
WCAG 2.1 AA violation in them."""

from __future__ import annotations

import psycopg
from browser import DESKTOP
from test_portal_a11y import AXE, axe_violations

from gis.db import libpq_url
from gis.structure_links import relink_all

ADS = "Зовнішня реклама"


def three_appeals_at_structure_one(url: str) -> None:
    """Three located appeals made «Зовнішня реклама» ones a few metres from advertising
    structure 1, one more far from every structure (none within 100 m of it), then linked."""
    with psycopg.connect(libpq_url(url)) as conn:
        sub = conn.execute(
            "SELECT c.id FROM categories c JOIN categories k ON k.id = c.parent_id"
            " WHERE k.name = %s ORDER BY c.id LIMIT 1", (ADS,)
        ).fetchone()[0]  # fmt: skip
        # structure 1 alone on top: the demo's other linked appeals made about something else
        conn.execute(
            "UPDATE appeals SET category_id = (SELECT id FROM categories WHERE parent_id IS NULL"
            " AND structure_layer IS NULL ORDER BY id LIMIT 1) WHERE id IN (SELECT appeal_id"
            " FROM appeal_structures WHERE feature_id IS NOT NULL)"
        )
        ids = [r[0] for r in conn.execute(
            "SELECT a.id FROM appeals a, advertising_structures s WHERE s.id = 1"
            " AND a.geom IS NOT NULL AND ST_Distance(a.geom::geography, s.geom::geography) > 800"
            " ORDER BY a.id LIMIT 4"
        )]  # fmt: skip
        for n, appeal_id in enumerate(ids[:3]):
            conn.execute(
                "UPDATE appeals a SET category_id = %s,"
                " geom = ST_Translate(s.geom, 0.00005 * %s, 0.00003)"
                " FROM advertising_structures s WHERE s.id = 1 AND a.id = %s",
                (sub, n, appeal_id),
            )
        conn.execute("UPDATE appeals SET category_id = %s WHERE id = %s", (sub, ids[3]))
        conn.execute(
            "DELETE FROM advertising_structures s USING appeals a WHERE a.id = %s"
            " AND ST_DWithin(s.geom::geography, a.geom::geography, 100)", (ids[3],)
        )  # fmt: skip
        relink_all(conn, 50)


PORTAL = {"seed": 5, "appeals": 200, "prepare": three_appeals_at_structure_one}


def test_the_planner_sees_the_complaints_and_a_structures_appeals(
    portal, signed_in, browser_log, screenshot
):
    with psycopg.connect(libpq_url(portal.db)) as conn:
        code = conn.execute("SELECT code FROM advertising_structures WHERE id = 1").fetchone()[0]
        numbers = {r[0] for r in conn.execute(
            "SELECT a.number FROM appeal_structures l JOIN appeals a ON a.id = l.appeal_id"
            " WHERE l.layer = 'advertising_structures' AND l.feature_id = 1"
        )}  # fmt: skip
        unmatched = conn.execute(
            "SELECT count(*) FROM appeal_structures WHERE feature_id IS NULL"
        ).fetchone()[0]
    assert len(numbers) == 3 and unmatched >= 1

    assert AXE.exists(), "axe-core is missing from webmap/node_modules: run `make assets`"
    page = signed_in("planner", bypass_csp=True)  # axe is injected as an inline script
    page.set_viewport_size(DESKTOP)
    page.goto(portal.base + "/planner")
    page.wait_for_selector('#map[data-state="ready"]', timeout=15_000)
    page.wait_for_selector("#complaints:not([hidden])", timeout=15_000)
    page.check("#complaints-show")
    page.wait_for_selector('#complaints[data-state="ready"]', timeout=15_000)
    top = page.locator("#complaints-top li").first
    assert top.get_attribute("data-feature-layer") == "advertising_structures"
    assert top.get_attribute("data-feature-id") == "1"
    assert top.get_attribute("data-count") == "3"
    assert code in top.inner_text() and "3 скарги" in top.inner_text()
    assert int(page.get_attribute("#complaints", "data-unmatched")) == unmatched
    assert page.locator(".complaints-unmatched").count() == unmatched  # the diamonds
    assert "без зареєстрованої конструкції" in page.locator("#complaints-status").inner_text()
    screenshot(page, "planner-complaints")

    # The top structure opens from the list: its card lists its three appeals.
    top.locator("button").click()
    page.wait_for_selector('#attrs:not([hidden])[data-layer="advertising_structures"]',
                           timeout=20_000)  # fmt: skip
    page.wait_for_selector('.complaints-card[data-state="ready"]', timeout=10_000)
    assert code in page.locator("#attrs-title").inner_text()
    shown = page.eval_on_selector_all(".complaints-card li[data-number]",
                                      "els => els.map(e => e.dataset.number)")  # fmt: skip
    assert set(shown) == numbers
    link = page.locator(".complaints-card li[data-number] a").first
    assert link.get_attribute("href").startswith("/?number=")
    assert "Зовнішня реклама" in page.locator(".complaints-card").inner_text()
    screenshot(page, "planner-complaints-card")
    assert axe_violations(page) == []  # the section, its list and legend, the card's appeals

    # Switched off: the overlay goes.
    page.uncheck("#complaints-show")
    page.wait_for_selector('#complaints[data-state="off"]', state="attached")
    assert page.locator(".complaints-unmatched").count() == 0
    assert browser_log.console == [] and browser_log.failed == []
