"""The administrator's workstation (/admin) in Debian's chromium, on a desktop and on a tablet
(1024×768): from the cabinet the administrator opens it, sees the accounts of a role as many
as the database holds, creates an executor account bound to an organisation, changes its
role, sends it a reset link and deactivates it; saves a category's deadline; creates a
routing rule for a ward, sees the ward drawn on the map, clicks a point inside it and sees
the dry run choose the new rule and say why; draws an organisation's territories and replaces
one from a GeoJSON file (previewed first). Every change reaches the database and its audit
trail (tests/test_admin_audit.py checks the trail's contents)."""

from __future__ import annotations

import json
import math

import psycopg
import pytest
from browser import DESKTOP
from playwright.sync_api import expect

SEED = 19
PORTAL = {"seed": SEED, "appeals": 200}  # browser.portal's demo city
TABLET = {"width": 1024, "height": 768}


def sql(url: str, query: str, params=()) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def open_admin(signed_in, viewport):
    page = signed_in("admin", viewport=viewport)
    link = page.locator("#link-admin")
    expect(link).to_be_visible()
    link.click()
    page.wait_for_selector('#admin[data-state="ready"]', timeout=20_000)
    return page


def click_lon_lat(page, lon: float, lat: float) -> None:
    """Click the rules' map at (lon, lat): the map says its visible bounds (data-view)."""
    box_el = page.locator("#rules-map")
    box_el.scroll_into_view_if_needed()
    west, south, east, north = (float(v) for v in box_el.get_attribute("data-view").split(","))
    assert west < lon < east and south < lat < north, (lon, lat, west, south, east, north)
    box = box_el.bounding_box()
    assert box is not None

    def merc(phi: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(phi) / 2))

    x = (lon - west) / (east - west) * box["width"]
    y = (merc(north) - merc(lat)) / (merc(north) - merc(south)) * box["height"]
    page.mouse.click(box["x"] + x, box["y"] + y)


@pytest.mark.parametrize("viewport", [DESKTOP, TABLET], ids=["desktop", "tablet"])
def test_an_administrator_creates_an_executor_and_a_rule_the_dry_run_chooses(
    portal, signed_in, screenshot, browser_log, viewport, tmp_path
):
    db, tag = portal.db, f"{viewport['width']}"
    page = open_admin(signed_in, viewport)
    screenshot(page, f"admin_{tag}", full_page=True)

    # The accounts of one role: as many rows as the database has.
    page.select_option("#users-role", "deputy")
    deputies = sql(db, "SELECT count(*) FROM users WHERE role = 'deputy' AND erased_at IS NULL")
    expect(page.locator("#users-table tbody tr")).to_have_count(min(50, deputies[0][0]))
    expect(page.locator("#users-more")).to_be_visible(visible=deputies[0][0] > 50)
    page.select_option("#users-role", "admin")
    admins = sql(db, "SELECT count(*) FROM users WHERE role = 'admin' AND erased_at IS NULL")
    expect(page.locator("#users-table tbody tr")).to_have_count(admins[0][0])

    # A new executor account, bound to an organisation.
    ((org_id,),) = sql(db, "SELECT id FROM executors WHERE code = 'demo-teploenergo'")
    email = f"new.executor.{tag}@admin.test"
    page.locator("#user-new-box summary").click()
    page.fill("#new-email", email)
    page.fill("#new-name", "Нова Виконавиця")
    page.select_option("#new-role", "executor")
    expect(page.locator("#new-executor")).to_be_visible()
    expect(page.locator("#new-ward")).to_be_hidden()
    page.select_option("#new-executor", str(org_id))
    page.click("#new-submit")
    done = page.locator("#user-new-done")
    expect(done).to_be_visible()
    expect(done).to_contain_text(email)
    ((user_id, role, bound, active),) = sql(
        db, "SELECT id, role, executor_id, is_active FROM users WHERE email = %s", (email,)
    )
    assert (role, bound, active) == ("executor", org_id, True)
    screenshot(page, f"admin_user_created_{tag}")

    # Its role changed to manager, a reset link sent, then deactivated.
    row = page.locator(f'#users-table tr[data-user-id="{user_id}"]')
    row.get_by_role("button").click()
    expect(page.locator("#user-edit")).to_be_visible()
    page.select_option("#edit-role", "manager")
    page.click("#edit-save")
    expect(page.locator("#user-edit-done")).to_be_visible()
    assert sql(db, "SELECT role, executor_id FROM users WHERE id = %s", (user_id,)) == [
        ("manager", org_id)
    ]
    page.click("#edit-reset")
    expect(page.locator("#user-edit-done")).to_contain_text(email)
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#edit-deactivate")
    expect(page.locator(f'#users-table tr[data-user-id="{user_id}"].inactive')).to_have_count(1)
    assert sql(db, "SELECT is_active FROM users WHERE id = %s", (user_id,)) == [(False,)]

    # A category's deadline.
    ((cat, days, cat_name),) = sql(
        db, "SELECT id, deadline_days, name FROM categories WHERE parent_id IS NOT NULL"
        " AND is_active ORDER BY id LIMIT 1",
    )  # fmt: skip
    other = 30 if days != 30 else 15
    page.fill("#categories-q", cat_name)
    page.locator(f'#categories-table tr[data-category-id="{cat}"] select').select_option(str(other))
    expect(page.locator("#categories-done")).to_contain_text(cat_name)
    assert sql(db, "SELECT deadline_days FROM categories WHERE id = %s", (cat,)) == [(other,)]
    # Its keywords, as callers say them: stored trimmed, in lower case, without repeats.
    words = page.locator(f'#categories-table tr[data-category-id="{cat}"] input.keywords')
    words.fill(f"Яма{tag}, вибоїна ,  яма{tag}")
    words.press("Tab")
    expect(words).to_have_value(f"яма{tag}, вибоїна")
    assert sql(db, "SELECT keywords FROM categories WHERE id = %s", (cat,)) == [
        ([f"яма{tag}", "вибоїна"],)
    ]

    # A routing rule for one ward, to the water utility, tried before every other rule.
    ((ward, lon, lat),) = sql(db, """
        SELECT number, ST_X(c), ST_Y(c) FROM (
            SELECT number, ST_Centroid(ST_Envelope(geom)) AS c, geom FROM wards
             WHERE valid_to IS NULL) w
         WHERE ST_Contains(geom, ST_Buffer(c, 0.002)) ORDER BY number LIMIT 1""")  # fmt: skip
    ((vodokanal,),) = sql(db, "SELECT id FROM executors WHERE code = 'demo-vodokanal'")
    ((first,),) = sql(db, "SELECT coalesce(min(priority), 1) - 1 FROM routing_rules")
    page.locator("#rule-new-box summary").click()
    page.select_option("#rule-category", str(cat))
    page.select_option("#rule-area-kind", "ward_number")
    page.fill("#rule-area", str(ward))
    page.select_option("#rule-executor", str(vodokanal))
    page.fill("#rule-priority", str(first))
    page.fill("#rule-note", "Перевірка адміністратора")
    page.click("#rule-submit")
    expect(page.locator("#rules-status")).to_contain_text("Створено правило")
    ((rule_id,),) = sql(
        db, "SELECT id FROM routing_rules WHERE ward_number = %s AND executor_id = %s"
        " AND priority = %s", (ward, vodokanal, first),
    )  # fmt: skip
    expect(page.locator(f'#rules-table tr[data-rule-id="{rule_id}"]')).to_have_count(1)
    expect(page.locator("#rules-status")).to_contain_text(f"№ {rule_id}")
    page.wait_for_function(
        "() => document.querySelector('#rules-map').dataset.state === 'ready'"
        " && document.querySelectorAll('#rules-map path.leaflet-interactive, #rules-map"
        " .leaflet-overlay-pane path').length > 0"
    )
    expect(page.locator("#dry-category")).to_have_value(str(cat))

    # The dry run at a point of the ward: the new rule wins, and the page says why.
    click_lon_lat(page, lon, lat)
    result = page.locator("#dry-result")
    expect(result).to_be_visible()
    expect(result).to_have_attribute("data-rule-id", str(rule_id))
    expect(page.locator("#dry-rule")).to_contain_text(str(rule_id))
    expect(page.locator("#dry-reason")).to_contain_text(f"№{rule_id}")
    expect(page.locator("#dry-executor")).to_contain_text("demo-vodokanal")
    expect(page.locator(f'#rules-table tr[data-rule-id="{rule_id}"].winner')).to_have_count(1)
    screenshot(page, f"admin_dry_run_{tag}", full_page=True)

    # Deleted: gone from the page and the table.
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f'#rules-table tr[data-rule-id="{rule_id}"]').get_by_role(
        "button", name=f"Видалити правило № {rule_id}"
    ).click()
    expect(page.locator(f'#rules-table tr[data-rule-id="{rule_id}"]')).to_have_count(0)
    assert sql(db, "SELECT count(*) FROM routing_rules WHERE id = %s", (rule_id,)) == [(0,)]
    assert sql(db, "SELECT count(*) FROM feature_events WHERE layer = 'routing_rules'"
               " AND feature_id = %s", (str(rule_id),)) == [(2,)]  # fmt: skip
    # An organisation's territories on the map: as many as the database holds.
    ((org, code, territories),) = sql(db, """
        SELECT e.id, e.code, count(*) FROM executors e JOIN executor_territories t
            ON t.executor_id = e.id AND t.valid_to IS NULL
         GROUP BY e.id, e.code ORDER BY count(*) DESC, e.id LIMIT 1""")  # fmt: skip
    page.fill("#orgs-q", code)
    expect(page.locator("#orgs-table tbody tr")).to_have_count(1)
    page.locator(f'#orgs-table tr[data-executor-id="{org}"]').get_by_role("button").click()
    expect(page.locator("#orgs-map")).to_have_attribute("data-territories", str(territories))

    # One of them replaced from a file: previewed (old and new outlines), then replaced.
    chosen = page.locator("#territory-code").input_value()
    ((version, outline),) = sql(db, """
        SELECT version, ST_AsGeoJSON(ST_Buffer(geom, 0.001)) FROM executor_territories
         WHERE code = %s AND valid_to IS NULL""", (chosen,))  # fmt: skip
    path = tmp_path / f"{chosen}.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": json.loads(outline)}]}))  # fmt: skip
    page.set_input_files("#territory-file", str(path))
    page.click("#territory-preview")
    expect(page.locator("#territory-done")).to_contain_text(chosen)
    expect(page.locator("#territory-apply")).to_be_enabled()
    assert sql(db, "SELECT version FROM executor_territories WHERE code = %s"
               " AND valid_to IS NULL", (chosen,)) == [(version,)]  # fmt: skip
    page.click("#territory-apply")
    expect(page.locator("#territory-form")).to_have_attribute("data-applied", "true")
    expect(page.locator("#territory-done")).to_contain_text(str(version + 1))
    assert sql(db, "SELECT version FROM executor_territories WHERE code = %s"
               " AND valid_to IS NULL", (chosen,)) == [(version + 1,)]  # fmt: skip
    screenshot(page, f"admin_organisations_{tag}")

    # The page fits the tablet: nothing wider than the window.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
    # Nor is any table wider than its box: the rules' and organisations' buttons (their last
    # column) in sight, not behind a sideways scroll (long territory codes used to push them).
    wider = page.evaluate("""() => ['#users-table', '#categories-table', '#rules-table',
        '#orgs-table'].map(s => document.querySelector(s)).filter(t => t.rows.length > 1
        && t.scrollWidth > t.parentElement.clientWidth + 1).map(t => t.id)""")  # fmt: skip
    assert wider == []
    assert not [f for f in browser_log.failed if "/api/" in f], browser_log.failed


def test_another_role_is_told_the_page_is_not_theirs(portal, signed_in):
    page = signed_in("executor")
    expect(page.locator("#link-admin")).to_be_hidden()
    page.goto(portal.base + "/admin")
    page.wait_for_selector('#admin[data-state="forbidden"]', timeout=20_000)
    expect(page.locator("#admin-error")).to_contain_text("адміністратора")
    expect(page.locator("#users")).to_be_hidden()


@pytest.mark.parametrize(("viewport", "locale"), [(DESKTOP, "uk-UA"), (TABLET, "en-GB")],
                         ids=["desktop-uk", "tablet-en"])  # fmt: skip
def test_a_rule_s_territory_is_picked_by_its_name_or_typed_as_a_code(
    portal, signed_in, screenshot, browser_log, viewport, locale
):
    """The rule form's territory is a list of the kind's current areas (districts by name, in
    English on an English page; wards by number; executor territories by name), a part of one
    name picks it, and a code typed by hand is still taken."""
    db, en = portal.db, locale.startswith("en")
    page = signed_in("admin", viewport=viewport, locale=locale)
    page.goto(portal.base + "/admin#rules")
    page.wait_for_selector('#admin[data-state="ready"]', timeout=20_000)
    page.locator("#rule-new-box summary").click()

    districts = sql(db, "SELECT code, name, coalesce(name_en, name) FROM districts"
                        " WHERE valid_to IS NULL ORDER BY id")  # fmt: skip
    page.select_option("#rule-area-kind", "district_code")
    page.wait_for_selector('#rule-area-box[data-state="ready"]')
    options = page.evaluate("""() => [...document.querySelectorAll('#rule-area-options option')]
        .map(o => [o.value, o.label])""")  # fmt: skip
    assert sorted(options) == sorted([code, en_name if en else name]
                                     for code, name, en_name in districts)  # fmt: skip
    code, name, en_name = districts[0]
    shown = en_name if en else name
    page.fill("#rule-area", shown[: max(6, len(shown) // 2)])  # a unique part of the name
    expect(page.locator("#rule-area-chosen")).to_contain_text(f"{shown} (")
    expect(page.locator("#rule-area-chosen")).to_contain_text(code)
    ((executor,),) = sql(db, "SELECT min(id) FROM executors WHERE code = 'demo-vodokanal'")
    page.select_option("#rule-executor", str(executor))
    page.fill("#rule-priority", "9999")
    page.click("#rule-submit")
    expect(page.locator("#rules-status")).to_contain_text("created" if en else "Створено")
    rules = sql(db, "SELECT id FROM routing_rules WHERE district_code = %s AND priority = 9999"
                    " AND executor_id = %s", (code, executor))  # fmt: skip
    assert len(rules) == 1, rules
    expect(page.locator(f'#rules-table tr[data-rule-id="{rules[0][0]}"]')).to_have_count(1)

    # An executor's territory: listed by name; its code typed by hand is taken too, and one
    # that is not current is said to be none when the field is left.
    ((t_code, t_name),) = sql(db, "SELECT code, name FROM executor_territories"
                                  " WHERE valid_to IS NULL ORDER BY id LIMIT 1")  # fmt: skip
    page.select_option("#rule-area-kind", "territory_code")
    page.wait_for_selector('#rule-area-box[data-state="ready"]')
    option = page.locator(f'#rule-area-options option[value="{t_code}"]')
    expect(option).to_have_attribute("label", t_name)
    page.locator("#rule-area").fill(t_code)
    expect(page.locator("#rule-area-chosen")).to_contain_text(t_name)
    page.locator("#rule-area").fill("no-such-territory")
    page.locator("#rule-area").press("Tab")
    none = "No current territory" if en else "Серед чинних територій"
    expect(page.locator("#rule-area-chosen")).to_contain_text(none)
    # Wards by number.
    page.select_option("#rule-area-kind", "ward_number")
    page.wait_for_selector('#rule-area-box[data-state="ready"]')
    page.locator("#rule-area").fill("7")
    expect(page.locator("#rule-area-chosen")).to_contain_text("№ 7" if not en else "No. 7")
    screenshot(page, f"admin_rule_area_picker_{viewport['width']}_{locale[:2]}")
    sql(db, "DELETE FROM routing_rules WHERE id = %s RETURNING id", (rules[0][0],))
    assert not [f for f in browser_log.failed if "/api/" in f], browser_log.failed
