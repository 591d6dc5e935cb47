"""/admin «Громади» (issue 17) in Debian's chromium, on the demo city (Kyiv) with a second
council, Запорізька (its real Minregion polygon from the shared data): the oblast's
administrator (the demo's, bound to no council) sees both councils, switches a sub-kind off for
Kyiv by the keyboard — the council's categories (the admin API and the public list of what
Kyiv offers) no longer offer it — and moves the operator to Запорізька from the users' form (the
list then names the council); the curator's transfer picker on a Kyiv appeal offers only the
OTHER council (the card names the appeal's own), and the executor's card in the cabinet names
the council. axe-core finds nothing on the page with the new section open.
"""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from staff import sql
from test_portal_a11y import AXE, axe_violations

from gis import lifecycle

REGION = Path("/work/shared/data/zaporizka_hromadas_minregion_atu_simplified_2024-04-28.geojson")
ZP_CODE = "UA23060070000082704"


def _second_council(url: str) -> None:
    """Запорізька beside Kyiv (prefix ЗП, a contact centre), and one Kyiv appeal returned as
    not in competence today (the curator's «not in competence» queue)."""
    if not REGION.exists():  # the shared data of this machine
        pytest.skip(f"{REGION} is not here")
    f = next(f for f in json.loads(REGION.read_text())["features"]
             if f["properties"]["katottg"] == ZP_CODE)  # fmt: skip
    with psycopg.connect(url) as c:
        c.execute(
            "INSERT INTO hromadas (code, name, geom) VALUES (%s, 'Запорізька',"
            " ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(%s), 4326)))",
            (ZP_CODE, json.dumps(f["geometry"])),
        )
        council = c.execute(
            "INSERT INTO councils (code, slug, name, number_prefix)"
            " VALUES (%s, 'zaporizka', 'Запорізька', 'ЗП') RETURNING id",
            (ZP_CODE,),
        ).fetchone()[0]
        c.execute(
            "INSERT INTO executors (code, name, short_name, kind, council_id) VALUES"
            " ('zp-cc', 'Контакт-центр Запоріжжя', 'КЦ Запоріжжя', 'contact_centre', %s)",
            (council,),
        )
        c.execute(
            "UPDATE appeals SET status = 'registered', result = %s, closed_at = NULL,"
            " created_at = now(), deadline_at = now() + interval '15 days', extended_until = NULL"
            " WHERE id = (SELECT max(id) FROM appeals WHERE geom IS NOT NULL)",
            (lifecycle.R_NOT_COMPETENT,),
        )
        c.execute(
            "INSERT INTO appeal_events (appeal_id, actor, action, comment)"
            " SELECT max(id), 'Виконавець (демо)', 'return', 'Не наше' FROM appeals"
            " WHERE geom IS NOT NULL"
        )


PORTAL = {"seed": 17, "appeals": 200, "prepare": _second_council}


def test_an_oblast_admin_runs_the_councils_and_moves_an_operator(
    portal, signed_in, screenshot, browser_log
):
    if not AXE.exists():
        pytest.fail("axe-core is missing from webmap/node_modules: run `make assets`")
    page = signed_in("admin", viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page.goto(portal.base + "/admin")
    page.wait_for_selector('#admin[data-state="ready"]', timeout=20_000)
    page.wait_for_selector('#councils[data-state="ready"]')
    assert page.is_visible("#councils-link")
    rows = page.locator("#councils-table tbody tr")
    assert rows.count() == 2
    assert {rows.nth(i).get_attribute("data-code") for i in range(2)} >= {ZP_CODE}
    assert "ЗП" in page.inner_text(f'#councils-table tr[data-code="{ZP_CODE}"]')

    # Kyiv's categories, by the keyboard: its «Категорії» button, then a sub-kind switched off.
    kyiv = page.locator("#councils-table tbody tr", has_text="Київ")
    kyiv.get_by_role("button", name="Категорії громади Київ").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#council-categories:not([hidden])")
    first = page.locator('#council-categories-table tbody tr[data-offered="true"]').first
    category_id = int(first.get_attribute("data-category-id"))
    first.locator('input[type="checkbox"]').focus()
    page.keyboard.press("Space")
    page.wait_for_function(
        "() => document.querySelector('#council-categories-table tbody"
        f" tr[data-category-id=\"{category_id}\"]').dataset.offered === 'false'"
    )
    assert "не пропонується" in page.inner_text("#council-categories-done")
    violations = axe_violations(page)  # the whole page, «Громади» and its categories shown
    assert violations == [], violations
    screenshot(page, "admin-councils-categories")
    chosen = page.request.get(portal.base + "/api/v1/directory/councils/kyiv/categories").json()
    assert {i["id"]: i["offered"] for i in chosen["items"]}[category_id] is False
    offered = page.request.get(portal.base + "/api/v1/categories?council=kyiv").json()
    ids = {s["id"] for k in offered["kinds"] for s in k["subkinds"]}
    assert ids and category_id not in ids

    # The operator moves to Запорізька: the users' form, its council select.
    operator = portal.account("operator")
    (operator_id,) = sql(portal.db, "SELECT id FROM users WHERE email = %s", (operator.login,))[0]
    page.select_option("#users-role", "operator")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#users-table tbody tr')]"
        ".every(r => r.cells[2].textContent === 'Оператор контакт-центру')"
    )
    page.locator(f'#users-table tr[data-user-id="{operator_id}"]').get_by_role("button").click()
    page.wait_for_selector("#user-edit:not([hidden])")
    assert page.is_visible("#edit-council")
    page.select_option("#edit-council", ZP_CODE)
    page.click("#edit-save")
    page.wait_for_function("() => !document.getElementById('user-edit-done').hidden")
    assert "Запорізька" in page.inner_text(f'#users-table tr[data-user-id="{operator_id}"]')
    (council, centre) = sql(portal.db, "SELECT k.slug, e.code FROM users u JOIN councils k ON"
                                       " k.id = u.council_id LEFT JOIN executors e ON"
                                       " e.id = u.executor_id WHERE u.id = %s",
                            (operator_id,))[0]  # fmt: skip
    assert (council, centre) == ("zaporizka", "zp-cc")
    screenshot(page, "admin-operator-moved")

    # The curator's transfer picker on a Kyiv appeal: the other council only.
    (number,) = sql(portal.db, "SELECT number FROM appeals WHERE status = 'registered'"
                               " AND result = %s", (lifecycle.R_NOT_COMPETENT,))[0]  # fmt: skip
    curator = signed_in("curator", viewport={"width": 1280, "height": 900})
    curator.click("#link-curator")
    curator.wait_for_selector('#curator[data-state="ready"]', timeout=20_000)
    curator.click('.queue-tab[data-queue="not_competent"]')
    curator.click(f'#queue-table tbody tr[data-number="{number}"] button')
    curator.wait_for_function(
        f"() => document.getElementById('card').dataset.number === {json.dumps(number)}"
    )
    assert curator.is_visible("#transfer-form")
    options = curator.eval_on_selector_all("#transfer-council option", "os => os.map(o => o.value)")
    assert options == ["zaporizka"]
    assert curator.inner_text("#card-council") == "Київ"
    screenshot(curator, "curator-transfer-other-councils")

    # The executor's card in the cabinet names the appeal's council too (one appeal of theirs
    # open again: the demo's year is almost all closed).
    sql(portal.db, "UPDATE appeals SET status = 'registered', result = NULL, closed_at = NULL,"
                   " deadline_at = now() + interval '10 days' WHERE id = (SELECT max(a.id) FROM"
                   " appeals a JOIN users u ON u.executor_id = a.executor_id WHERE u.email = %s)",
        (portal.account("executor").login,))  # fmt: skip
    executor = signed_in("executor")
    executor.locator("#queue tbody tr").first.click()
    executor.wait_for_function(
        "() => document.getElementById('card-council').textContent === 'Київ'"
    )
    assert executor.is_visible("#card-council")
