"""The administrator's Open311 keys on /admin ("Open311"), in Debian's chromium over a demo
city: a key made with the form is shown once (and copied with the button), only its SHA-256
is stored, the application is listed as active and its key opens POST /open311/v2/requests
(a refusal for another reason than the key: 400, not 403); revoked after the confirmation, it
is listed as revoked and the same key gets 403. An appeal filed with a key (made by the CLI)
shows on the executor's card with its channel «Open311: NAME». The section passes axe (WCAG
2.1 AA) with its form open and a key shown, in Ukrainian and English."""

from __future__ import annotations

import hashlib

import httpx
import psycopg
import pytest
from playwright.sync_api import expect
from test_open311_post import form, hromada
from test_portal_a11y import AXE, axe_violations

SEED = 29
PORTAL = {"seed": SEED, "appeals": 200}  # browser.portal's demo city


def sql(url: str, query: str, params=()) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else []


def open_section(signed_in, portal, lang: str = "uk", **context):
    page = signed_in("admin", **context)
    page.goto(f"{portal.base}/admin?lang={lang}")
    page.wait_for_selector('#open311[data-state="ready"]', timeout=20_000)
    return page


def make_key(page, name: str) -> str:
    page.locator("#open311-new-box summary").click()
    page.fill("#open311-name", name)
    page.click("#open311-submit")
    expect(page.locator("#open311-key-box")).to_be_visible()
    return page.locator("#open311-key").input_value()


def test_an_administrator_creates_and_revokes_a_key(portal, signed_in, screenshot, browser_log):
    page = open_section(signed_in, portal, "uk", permissions=["clipboard-read", "clipboard-write"])
    expect(page.locator("#open311-title")).to_have_text("Open311")
    key = make_key(page, "FixMyStreet Київ")
    assert len(key) >= 40
    expect(page.locator("#open311-key-done")).to_contain_text("FixMyStreet Київ")
    row = page.locator("#open311-table tbody tr", has_text="FixMyStreet Київ")
    expect(row).to_have_attribute("data-revoked", "false")
    expect(row).to_contain_text("діє")
    # Only the hash is stored.
    assert sql(portal.db, "SELECT key_sha256 FROM open311_clients WHERE name = %s",
               ("FixMyStreet Київ",)) == [(hashlib.sha256(key.encode()).hexdigest(),)]  # fmt: skip
    assert sql(portal.db, "SELECT count(*) FROM open311_clients WHERE key_sha256 = %s",
               (key,)) == [(0,)]  # fmt: skip
    page.click("#open311-copy")
    expect(page.locator("#open311-key-done")).to_have_text("Ключ скопійовано.")
    assert page.evaluate("() => navigator.clipboard.readText()") == key
    screenshot(page, "open311-key-made", full_page=True)

    # The key opens the API: a request without a service_code is refused for that (400).
    r = httpx.post(f"{portal.base}/open311/v2/requests.json", data={"api_key": key}, timeout=20)
    assert r.status_code == 400, r.text
    # The same name again: refused, said in the form.
    page.fill("#open311-name", "FixMyStreet Київ")
    page.click("#open311-submit")
    expect(page.locator("#open311-new-error")).to_contain_text("уже має ключ")

    page.once("dialog", lambda d: d.accept())
    row.get_by_role("button", name="Відкликати").click()
    expect(page.locator("#open311-status")).to_have_text(
        "Ключ застосунку «FixMyStreet Київ» відкликано."
    )
    expect(row).to_have_attribute("data-revoked", "true")
    expect(row).to_contain_text("відкликано")
    expect(row.get_by_role("button", name="Відкликати")).to_have_count(0)
    assert sql(portal.db, "SELECT revoked_at IS NOT NULL FROM open311_clients WHERE name = %s",
               ("FixMyStreet Київ",)) == [(True,)]  # fmt: skip
    r = httpx.post(f"{portal.base}/open311/v2/requests.json", data={"api_key": key}, timeout=20)
    assert r.status_code == 403, r.text
    assert r.json()[0]["code"] == 403
    screenshot(page, "open311-key-revoked", full_page=True)


def test_dismissing_the_confirmation_keeps_the_key(portal, signed_in, browser_log):
    page = open_section(signed_in, portal)
    make_key(page, "Міська система 311")
    row = page.locator("#open311-table tbody tr", has_text="Міська система 311")
    page.once("dialog", lambda d: d.dismiss())
    row.get_by_role("button", name="Відкликати").click()
    expect(row).to_have_attribute("data-revoked", "false")
    assert sql(portal.db, "SELECT revoked_at FROM open311_clients WHERE name = %s",
               ("Міська система 311",)) == [(None,)]  # fmt: skip


def test_the_executor_sees_the_application_as_the_channel(portal, signed_in, browser_log):
    """An appeal filed through Open311 shows on the executor's card as «Open311: NAME»."""
    key = hromada(portal.db, "open311", "key", "create", "Київ Цифровий").stdout.strip()
    r = httpx.post(f"{portal.base}/open311/v2/requests.json", data=form(portal.db, key),
                   timeout=30)  # fmt: skip
    assert r.status_code == 201, r.text
    number = r.json()[0]["service_request_id"]
    executor = portal.account("executor")
    sql(portal.db, "UPDATE appeals SET executor_id = (SELECT executor_id FROM users"
                   " WHERE email = %s) WHERE number = %s", (executor.login, number))  # fmt: skip
    page = signed_in(executor)
    page.locator(f'#queue tbody tr[data-number="{number}"]').click()
    page.wait_for_function(
        "n => document.getElementById('card-number').textContent === n"
        " && !document.getElementById('appeal-card').hidden", arg=number)  # fmt: skip
    expect(page.locator("#card-channel")).to_have_text("Open311: Київ Цифровий")


@pytest.mark.parametrize("lang", ["uk", "en"])
def test_the_open311_section_passes_axe(portal, signed_in, screenshot, lang):
    if not AXE.exists():
        pytest.fail("axe-core is missing from webmap/node_modules: run `make assets`")
    page = open_section(signed_in, portal, lang, bypass_csp=True)
    make_key(page, f"Axe {lang}")
    page.wait_for_load_state("networkidle")
    if lang == "en":
        expect(page.locator("#open311-new-box summary")).to_have_text("Create a key")
    violations = axe_violations(page)
    screenshot(page, f"open311_axe_{lang}", full_page=True)
    assert not violations, "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"])
        for v in violations
    )
