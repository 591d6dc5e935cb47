"""The administrator's placement rules on /admin ("Правила розміщення"), in Debian's chromium
over a demo city: the demo's three rules are listed; a rule made with the form (kiosks, not
inside the polygons of the generated protected zone, picked from the catalogue's polygon
layers) is listed and in the database; switching it off shows it off and stores it so;
deleting it, after the confirmation, removes it. A distance out of range is refused with the
server's reason shown. A rule's title and distance are changed in place («Змінити»), the
server's refusal shown under the field. The section passes axe (WCAG 2.1 AA) with its form open, in Ukrainian
and English."""

from __future__ import annotations

import psycopg
import pytest
from playwright.sync_api import expect
from test_portal_a11y import AXE, axe_violations

PORTAL = {"seed": 31, "appeals": 200}  # browser.portal's demo city
TITLE = "МАФ — не в охоронній зоні (тест)"


def sql(url: str, query: str, params=()) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else []


def open_rules(signed_in, portal, lang: str = "uk", **context):
    page = signed_in("admin", **context)
    page.goto(f"{portal.base}/admin?lang={lang}")
    page.wait_for_selector('#placement[data-state="ready"]', timeout=20_000)
    return page


def test_an_administrator_creates_disables_and_deletes_a_rule(
    portal, signed_in, screenshot, browser_log
):
    db = portal.db
    page = open_rules(signed_in, portal)
    rows = page.locator("#placement-table tbody tr")
    expect(rows).to_have_count(3)  # the demo's: one of each kind
    expect(page.locator("#placement-table")).to_contain_text("Охоронна зона (згенеровано)")

    page.locator("#placement-new-box summary").click()
    # A distance out of range: the server's reason is shown, nothing is made.
    page.select_option("#placement-layer", "kiosks")
    page.select_option("#placement-kind", "min_distance_same")
    page.fill("#placement-distance", "9000")
    page.fill("#placement-title-input", "Завелика відстань")
    page.click("#placement-submit")
    expect(page.locator("#placement-new-error")).to_contain_text("від 1 до 5000")
    expect(rows).to_have_count(3)

    # Not inside: the other layer is picked among the polygon layers only.
    page.select_option("#placement-kind", "not_inside_layer")
    expect(page.locator("#placement-distance-box")).to_be_hidden()
    options = page.locator("#placement-other option")
    values = [options.nth(i).get_attribute("value") for i in range(options.count())]
    assert "protected_zone" in values
    assert "advertising_structures" not in values and "pois" not in values
    page.select_option("#placement-other", "protected_zone")
    page.fill("#placement-title-input", TITLE)
    page.click("#placement-submit")
    expect(page.locator("#placement-new-done")).to_contain_text(TITLE)
    row = page.locator("#placement-table tbody tr", has_text=TITLE)
    expect(row).to_contain_text("Охоронна зона (згенеровано)")
    expect(row).to_contain_text("діє")
    ((rule_id, layer, kind, other, enabled),) = sql(
        db, "SELECT id, layer, kind, other_layer, enabled FROM placement_rules WHERE title = %s",
        (TITLE,),
    )  # fmt: skip
    assert (layer, kind, other, enabled) == ("kiosks", "not_inside_layer", "protected_zone", True)
    screenshot(page, "placement_rules_created", full_page=True)

    row.locator('button[data-action="toggle"]').click()
    expect(page.locator("#placement-status")).to_contain_text("вимкнено")
    row = page.locator("#placement-table tbody tr", has_text=TITLE)
    expect(row).to_have_attribute("data-enabled", "false")
    expect(row.locator('button[data-action="toggle"]')).to_have_text("Увімкнути")
    assert sql(db, "SELECT enabled FROM placement_rules WHERE id = %s", (rule_id,)) == [(False,)]

    dialogs: list[str] = []

    def accept(dialog):
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    row.locator('button[data-action="delete"]').click()
    expect(page.locator("#placement-status")).to_contain_text("видалено")
    expect(rows).to_have_count(3)
    assert dialogs and TITLE in dialogs[0]
    assert sql(db, "SELECT count(*) FROM placement_rules WHERE id = %s", (rule_id,)) == [(0,)]
    actions = sql(db, "SELECT action FROM feature_events WHERE layer = 'placement_rules'"
                      " AND feature_id = %s ORDER BY id", (str(rule_id),))  # fmt: skip
    assert [a for (a,) in actions] == ["created", "disabled", "deleted"]

    # A demo distance rule changed in place, from the keyboard: «Змінити» opens its form; a
    # distance out of range is refused under the distance field; a good one is saved.
    ((demo_id,),) = sql(db, "SELECT id FROM placement_rules WHERE kind = 'min_distance_same'"
                            " ORDER BY id LIMIT 1")  # fmt: skip
    row = page.locator(f'#placement-table tbody tr[data-id="{demo_id}"]')
    row.locator('button[data-action="edit"]').focus()
    page.keyboard.press("Enter")
    expect(page.locator("#placement-edit-title")).to_be_focused()
    page.fill("#placement-edit-distance", "9000")
    page.keyboard.press("Enter")  # submits the form
    expect(page.locator("#placement-edit-distance-error")).to_contain_text("від 1 до 5000")
    expect(page.locator("#placement-edit-distance")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#placement-edit-distance")).to_be_focused()
    page.fill("#placement-edit-distance", "40")
    page.fill("#placement-edit-title", "Реклама — не ближче 40 м (змінено)")
    page.fill("#placement-edit-title-en", "Advertising — 40 m apart (changed)")
    page.click('.placement-edit button[data-action="save"]')
    expect(page.locator("#placement-status")).to_contain_text("змінено")
    expect(row).to_contain_text("Реклама — не ближче 40 м (змінено)")
    expect(row).to_contain_text("40")
    expect(page.locator(".placement-edit-row")).to_have_count(0)
    assert sql(db, "SELECT title, title_en, distance_m FROM placement_rules WHERE id = %s",
               (demo_id,)) == [("Реклама — не ближче 40 м (змінено)",
                                "Advertising — 40 m apart (changed)", 40.0)]  # fmt: skip
    assert not browser_log.errors, browser_log.errors


@pytest.mark.parametrize("lang", ["uk", "en"])
def test_the_section_passes_axe(portal, signed_in, screenshot, lang):
    if not AXE.exists():
        pytest.fail("axe-core is missing from webmap/node_modules: run `make assets`")
    page = open_rules(signed_in, portal, lang, bypass_csp=True)
    page.locator("#placement-new-box summary").click()
    page.select_option("#placement-kind", "min_distance_layer")
    page.locator('#placement-table button[data-action="edit"]').first.click()  # its form too
    expect(page.locator(".placement-edit")).to_be_visible()
    if lang == "en":
        expect(page.locator("#placement-title")).to_have_text("Placement rules")
        expect(page.locator("#placement-table")).to_contain_text("not inside another layer")
    violations = axe_violations(page)
    screenshot(page, f"placement_rules_axe_{lang}", full_page=True)
    assert not violations, "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"])
        for v in violations
    )
