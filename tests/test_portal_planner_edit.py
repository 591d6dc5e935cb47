"""Editing advertising structures on /planner, in Debian's chromium on a demo city, as a
planner does it: editing switched on, a new structure placed where a placement rule forbids
it is refused with the rule's title shown and the structure it is too close to drawn; moved
away (the keyboard: arrows, then «Перемістити в центр мапи») it is saved and served by the
OGC API. Two editors open one structure: the second one's save is refused (412) with the
first one's value shown, «Завантажити їхню версію» loads it, and the second save keeps both
changes. The public sees no editing controls."""

from __future__ import annotations

import math

import psycopg
import pytest
from playwright.sync_api import expect

from gis.db import libpq_url

RULE_TITLE = "Тест: не ближче 30 м до іншої рекламної конструкції"
RULE_TITLE_EN = "Test: at least 30 m from another advertising structure"


def one_rule(url: str) -> None:
    """Only the test's rule: 30 m between advertising structures (the demo's own off)."""
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("UPDATE placement_rules SET enabled = false")
        conn.execute(
            "INSERT INTO placement_rules (layer, kind, distance_m, title, title_en)"
            " VALUES ('advertising_structures', 'min_distance_same', 30, %s, %s)",
            (RULE_TITLE, RULE_TITLE_EN),
        )


PORTAL = {"seed": 5, "appeals": 50, "prepare": one_rule}


def lonely_structures(db: str, n: int) -> list[tuple[int, float, float]]:
    """n advertising structures with no other one within 250 m: (id, lon, lat)."""
    with psycopg.connect(libpq_url(db)) as conn:
        return conn.execute(
            "SELECT a.id, ST_X(a.geom), ST_Y(a.geom) FROM advertising_structures a"
            " WHERE a.retired_at IS NULL AND NOT EXISTS (SELECT 1 FROM advertising_structures b"
            "  WHERE b.id <> a.id AND b.retired_at IS NULL"
            "  AND ST_DWithin(a.geom::geography, b.geom::geography, 250))"
            " ORDER BY a.id LIMIT %s",
            (n,),
        ).fetchall()


def open_editing(page, base: str, lon: float, lat: float) -> None:
    """/planner at zoom 18 centred on (lon, lat), editing of advertising structures on."""
    page.goto(f"{base}/planner#18/{lat:.7f}/{lon:.7f}")
    page.wait_for_selector('#map[data-state="ready"]', timeout=15_000)
    expect(page.locator("#edit")).to_be_visible(timeout=10_000)
    page.select_option("#edit-layer", "advertising_structures")
    page.click("#edit-toggle")
    expect(page.locator("#edit")).to_have_attribute("data-state", "on")
    page.wait_for_selector(
        'li[data-layer="advertising_structures"][data-state="on"]', timeout=20_000
    )


def form_state(page, *states: str) -> str:
    page.wait_for_function(
        "(states) => states.includes(document.getElementById('edit-form').dataset.state)",
        arg=list(states),
        timeout=15_000,
    )
    return page.get_attribute("#edit-form", "data-state")


def test_the_public_sees_no_editing(portal, page, browser_log):
    page.goto(portal.base + "/planner")
    page.wait_for_selector('#map[data-state="ready"]', timeout=15_000)
    expect(page.locator("#edit")).to_be_hidden()
    assert browser_log.failed == []  # no /me call without a session


def test_a_structure_breaking_a_rule_is_refused_then_saved_when_moved(portal, signed_in, browser_log,
                                                                       screenshot):  # fmt: skip
    [(near_id, lon, lat)] = lonely_structures(portal.db, 1)
    # 10 m east of a structure: too close by the rule.
    east = 10 / (111_320 * math.cos(math.radians(lat)))
    page = signed_in("planner")
    open_editing(page, portal.base, lon + east, lat)
    page.click("#edit-new")
    expect(page.locator("#edit-form")).to_have_attribute("data-state", "new")
    page.fill("#edit-code", "TEST-RULE-1")
    page.fill("#edit-kind", "citylight")
    page.fill("#edit-size", "1.2x1.8")
    page.fill("#edit-sides", "2")
    page.fill("#edit-owner", 'ТОВ "Тестова реклама"')
    page.fill("#edit-permit_number", "Т-1/2026")
    page.fill("#edit-permit_valid_until", "2027-06-30")
    page.click("#edit-save")
    assert form_state(page, "refused", "saved", "failed", "invalid", "stale") == "refused"
    refusal = page.locator("#edit-refusal")
    expect(refusal).to_be_visible()
    expect(refusal).to_contain_text(RULE_TITLE)
    assert int(refusal.get_attribute("data-conflicts")) >= 1
    with psycopg.connect(libpq_url(portal.db)) as conn:
        near_code = conn.execute(
            "SELECT code FROM advertising_structures WHERE id = %s", (near_id,)
        ).fetchone()[0]
    expect(page.locator("#edit-refusal-list li").first).to_contain_text(near_code)
    screenshot(page, "planner-edit-refused")
    with psycopg.connect(libpq_url(portal.db)) as conn:
        assert (
            conn.execute(
                "SELECT count(*) FROM advertising_structures WHERE code = 'TEST-RULE-1'"
            ).fetchone()[0]
            == 0
        )

    # Moved away with the keyboard: the map 5 × 80 px east (≈150 m at zoom 18, less the glide), the structure
    # to its centre.
    # (Leaflet takes no key while the map still glides: one press at a time.)
    page.focus("#map")
    for _ in range(5):
        before = page.get_attribute("#map", "data-centre")
        page.keyboard.press("ArrowRight")
        page.wait_for_function(
            "(before) => document.getElementById('map').dataset.centre !== before", arg=before
        )
    centre_lon = float(page.get_attribute("#map", "data-centre").split(",")[1])
    assert centre_lon > lon + 0.001  # ≥ 70 m away
    page.click("#edit-move")
    page.click("#edit-save")
    state = form_state(page, "refused", "saved", "failed", "invalid", "stale")
    assert state == "saved", page.inner_text("#edit-form")
    expect(page.locator("#edit-status")).to_contain_text("Збережено")
    new_id = page.get_attribute("#edit-form", "data-id")
    assert new_id
    with psycopg.connect(libpq_url(portal.db)) as conn:
        code, distance, owner = conn.execute(
            "SELECT a.code, ST_Distance(a.geom::geography, b.geom::geography), a.owner"
            " FROM advertising_structures a, advertising_structures b"
            " WHERE a.id = %s AND b.id = %s",
            (int(new_id), near_id),
        ).fetchone()
    assert code == "TEST-RULE-1" and owner == 'ТОВ "Тестова реклама"'
    assert distance > 60
    # In the OGC items, with its ETag.
    r = page.request.get(f"{portal.base}/ogc/collections/advertising_structures/items/{new_id}",
                         headers={"Accept": "application/geo+json"})  # fmt: skip
    assert r.status == 200 and r.json()["properties"]["code"] == "TEST-RULE-1"
    assert r.headers.get("etag")

    # Retired, after a confirmation: gone from the items, kept in the table for the audit.
    page.focus("#map")
    page.keyboard.press("Enter")
    assert form_state(page, "open") == "open"
    assert page.get_attribute("#edit-form", "data-id") == new_id
    page.click("#edit-retire")
    expect(page.locator("#edit-retire-confirm")).to_be_visible()
    page.click("#edit-retire-yes")
    assert form_state(page, "saved", "stale", "failed") == "saved"
    with psycopg.connect(libpq_url(portal.db)) as conn:
        assert conn.execute(
            "SELECT retired_at IS NOT NULL FROM advertising_structures WHERE id = %s",
            (int(new_id),),
        ).fetchone()[0]
    r = page.request.get(f"{portal.base}/ogc/collections/advertising_structures/items/{new_id}")
    assert r.status == 404


@pytest.mark.parametrize("lang", ["uk", "en"])
def test_the_edit_form_passes_axe(portal, signed_in, lang):
    from test_portal_a11y import AXE, axe_violations

    if not AXE.exists():
        pytest.fail("axe-core is missing from webmap/node_modules: run `make assets`")
    [(_, lon, lat)] = lonely_structures(portal.db, 1)
    page = signed_in("planner", bypass_csp=True)
    page.goto(f"{portal.base}/planner?lang={lang}")
    open_editing(page, portal.base, lon, lat)
    page.click("#edit-new")
    expect(page.locator("#edit-form")).to_be_visible()
    assert axe_violations(page) == []


def test_two_editors_of_one_structure_lose_nothing(portal, signed_in, screenshot):
    [_, (structure, lon, lat)] = lonely_structures(portal.db, 2)
    first, second = signed_in("planner"), signed_in("admin")
    for page in (first, second):
        open_editing(page, portal.base, lon, lat)
        page.focus("#map")
        page.keyboard.press("Enter")  # the structure at the map's centre, opened for editing
        assert form_state(page, "open") == "open"
        assert page.get_attribute("#edit-form", "data-id") == str(structure)

    first.fill("#edit-owner", 'ТОВ "Перший планувальник"')
    first.click("#edit-save")
    assert form_state(first, "saved", "refused", "stale", "invalid", "failed") == "saved"

    second.fill("#edit-address", "вулиця Тестова, 2")
    second.click("#edit-save")
    assert form_state(second, "saved", "refused", "stale", "invalid", "failed") == "stale"
    stale = second.locator("#edit-stale")
    expect(stale).to_be_visible()
    expect(stale.locator('tr[data-key="owner"] td.theirs')).to_have_text(
        'ТОВ "Перший планувальник"'
    )
    screenshot(second, "planner-edit-stale")
    with psycopg.connect(libpq_url(portal.db)) as conn:
        assert (
            conn.execute(
                "SELECT owner FROM advertising_structures WHERE id = %s", (structure,)
            ).fetchone()[0]
            == 'ТОВ "Перший планувальник"'
        )

    second.click("#edit-load-theirs")
    assert form_state(second, "open") == "open"
    expect(second.locator("#edit-owner")).to_have_value('ТОВ "Перший планувальник"')
    second.fill("#edit-address", "вулиця Тестова, 2")
    second.click("#edit-save")
    assert form_state(second, "saved", "refused", "stale", "invalid", "failed") == "saved"
    with psycopg.connect(libpq_url(portal.db)) as conn:
        owner, address = conn.execute(
            "SELECT owner, address FROM advertising_structures WHERE id = %s", (structure,)
        ).fetchone()
        changes = conn.execute(
            "SELECT count(*) FROM feature_events WHERE layer = 'advertising_structures'"
            " AND feature_id = %s",
            (str(structure),),
        ).fetchone()[0]
    assert (owner, address) == ('ТОВ "Перший планувальник"', "вулиця Тестова, 2")
    assert changes >= 2


def test_the_edit_form_is_worked_by_keyboard_and_names_the_wrong_field(portal, signed_in):
    """Tab goes through the form in its order; Enter saves; a wrong value (nine sides) is
    refused with its message under its field, which gets the focus."""
    [(_, lon, lat)] = lonely_structures(portal.db, 1)
    north = 400 / 111_320  # clear of the structure and of the rule
    page = signed_in("planner")
    open_editing(page, portal.base, lon, lat + north)
    page.focus("#edit-new")
    page.keyboard.press("Enter")
    expect(page.locator("#edit-form")).to_have_attribute("data-state", "new")
    page.focus("#edit-code")
    order: list[str] = []  # (a date field takes three Tabs: its day, month and year)
    while len(order) < 14:
        focused = page.evaluate("() => document.activeElement.id")
        if not order or order[-1] != focused:
            order.append(focused)
        page.keyboard.press("Tab")
    assert order == [
        "edit-code", "edit-kind", "edit-size", "edit-sides", "edit-owner",
        "edit-holder_is_person", "edit-permit_number", "edit-permit_type",
        "edit-permit_valid_from", "edit-permit_valid_until", "edit-address", "edit-move",
        "edit-save", "edit-cancel",
    ]  # fmt: skip
    page.focus("#edit-code")
    page.keyboard.type("TEST-KEYS-1")
    page.keyboard.press("Tab")
    page.keyboard.type("billboard")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.type("9")
    page.keyboard.press("Enter")
    assert form_state(page, "invalid", "saved", "refused", "failed") == "invalid"
    error = page.locator("#edit-sides-error")
    expect(error).to_be_visible()
    expect(error).not_to_be_empty()
    expect(page.locator("#edit-sides")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#edit-sides")).to_be_focused()


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def test_a_planner_attaches_a_permit_document_and_removes_it(portal, signed_in, screenshot):
    """A permit's documents (planner_documents.js): a PDF attached in the edit form, listed
    with its link, downloaded; the form stays current (saved without a 412); the card shows
    the link with editing off; removed after a confirmation. axe with the list shown."""
    from test_portal_a11y import axe_violations

    [*_, (structure, lon, lat)] = lonely_structures(portal.db, 3)
    page = signed_in("planner", bypass_csp=True)
    open_editing(page, portal.base, lon, lat)
    page.focus("#map")
    page.keyboard.press("Enter")
    assert form_state(page, "open") == "open"
    assert page.get_attribute("#edit-form", "data-id") == str(structure)
    docs = page.locator("#edit-documents")
    expect(docs).to_have_attribute("data-state", "ready")
    expect(docs.locator(".doc-none")).to_be_visible()

    page.set_input_files("#edit-document-file", files=[
        {"name": "Дозвіл 7-2026.pdf", "mimeType": "application/pdf", "buffer": PDF},
    ])  # fmt: skip
    page.click("#edit-document-add")
    expect(docs.locator("li.doc")).to_have_count(1)
    expect(page.locator("#edit-status")).to_contain_text("Документ «Дозвіл 7-2026.pdf» додано")
    link = docs.locator("li.doc a")
    expect(link).to_have_text("Дозвіл 7-2026.pdf")
    r = page.request.get(portal.base + link.get_attribute("href"))
    assert r.status == 200 and r.body() == PDF
    assert r.headers["content-disposition"].startswith("attachment;")
    assert axe_violations(page) == []
    screenshot(page, "planner-documents")

    # Attaching bumped no version: the form opened before it saves as it is.
    page.fill("#edit-address", "вулиця Документна, 1")
    page.click("#edit-save")
    assert form_state(page, "saved", "stale", "refused", "invalid", "failed") == "saved"
    page.wait_for_selector('li[data-layer="advertising_structures"][data-state="on"]')

    # Editing off: the attribute card lists the document (a link, read-only).
    page.click("#edit-toggle")
    page.focus("#map")
    page.keyboard.press("Enter")
    card = page.locator("#attrs-documents")
    expect(card).to_have_attribute("data-state", "ready")
    expect(card.locator("a")).to_have_text("Дозвіл 7-2026.pdf")
    expect(card.locator("button")).to_have_count(0)

    # Editing on again: removed after the confirmation.
    page.click("#edit-toggle")
    page.focus("#map")
    page.keyboard.press("Enter")
    assert form_state(page, "open") == "open"
    expect(docs.locator("li.doc")).to_have_count(1)
    docs.locator("li.doc button.danger").first.click()
    expect(docs.locator(".doc-confirm")).to_be_visible()
    docs.locator(".doc-yes").click()
    expect(docs.locator(".doc-none")).to_be_visible()
    expect(docs.locator("li.doc")).to_have_count(0)
    expect(page.locator("#edit-status")).to_contain_text("видалено")
    with psycopg.connect(libpq_url(portal.db)) as conn:
        actions = [a for (a,) in conn.execute(
            "SELECT action FROM feature_events WHERE layer = 'advertising_structures'"
            " AND feature_id = %s ORDER BY id", (str(structure),),
        )]  # fmt: skip
        left = conn.execute(
            "SELECT count(*) FROM permit_documents WHERE feature_id = %s", (structure,)
        ).fetchone()[0]
    assert actions[-3:] == ["document_added", "update", "document_removed"] and left == 0
