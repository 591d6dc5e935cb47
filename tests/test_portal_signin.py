"""The portal's sign-in, in Debian's chromium: a demo executor signs in through the /login
form, sees the cabinet with their organisation and their queue, and signs out; a wrong
password shows the Ukrainian message."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from importers.demo import accounts as demo_accounts

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
PORTAL = {"seed": 11, "appeals": 1000, "now": NOW}  # browser.portal's demo city
EXECUTOR = "rda-holosiivskyi@demo.hromada"


def test_a_demo_executor_signs_in_sees_the_queue_and_signs_out(portal, page, screenshot):
    base = portal.base
    executor = portal.account("executor")
    assert executor.login == EXECUTOR
    page.set_viewport_size({"width": 1200, "height": 800})
    # From the map's panel to the sign-in page.
    page.goto(base + "/")
    page.get_by_role("link", name="Увійти").click()
    page.wait_for_url(base + "/login")

    # A wrong password: the Ukrainian message, and no session.
    page.fill("#email", executor.login)
    page.fill("#password", "not-the-password")
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_have_text("Неправильна адреса e-mail або пароль.")
    assert page.url == base + "/login"

    page.fill("#password", executor.password)
    page.click("#login-submit")
    page.wait_for_url(base + "/cabinet")
    page.wait_for_selector('#cabinet[data-state="ready"]', timeout=15_000)
    assert page.inner_text("#who-role") == "Виконавець"
    assert page.inner_text("#who-scope") == executor.scope
    assert "Голосіївська" in executor.scope
    rows = page.locator("#queue tbody tr")
    assert rows.count() > 0
    first = rows.first.locator("td").all_inner_texts()
    assert len(first) == 5 and first[0] and first[1]
    assert page.get_attribute("#cabinet", "data-role") == "executor"
    # The queue filtered by status, through the API's filter.
    page.select_option("#status-filter", "closed")
    page.wait_for_selector('#cabinet[data-state="ready"]')
    statuses = page.locator("#queue tbody tr td:nth-child(3)").all_inner_texts()
    assert statuses and set(statuses) == {"Закрито"}
    page.select_option("#status-filter", "")
    page.wait_for_selector('#cabinet[data-state="ready"]')
    assert screenshot(page, "cabinet").stat().st_size > 10_000
    # The session is an HttpOnly cookie: page scripts cannot read it.
    assert "hromada_session" not in page.evaluate("document.cookie")
    assert page.evaluate("sessionStorage.getItem('hromada.csrf')")

    page.click("#logout")
    page.wait_for_url(base + "/login")
    # Signed out: the cabinet sends back to the sign-in page.
    page.goto(base + "/cabinet")
    page.wait_for_url(base + "/login")


def test_the_demo_citizen_sees_their_own_appeals(signed_in):
    page = signed_in("citizen", viewport={"width": 390, "height": 844})
    assert page.inner_text("#who-role") == "Мешканець"
    assert page.inner_text("#queue-title") == "Мої звернення"
    assert page.locator("#queue tbody tr").count() == demo_accounts.CITIZEN_APPEALS
    assert not page.is_visible("#filters")


# The links each role finds on /cabinet (the page every signed-in role lands on).
ROLE_LINKS = {
    "deputy": {"link-ward", "link-dashboard", "link-map"},
    "operator": {"link-operator", "link-wards", "link-dashboard", "link-map"},
    "curator": {"link-operator", "link-curator", "link-wards", "link-dashboard", "link-map"},
    "admin": {
        "link-admin",
        "link-operator",
        "link-wards",
        "link-planner",
        "link-dashboard",
        "link-map",
    },
    "planner": {"link-planner", "link-map"},
    "citizen": {"link-my-appeals", "link-appeal-new", "link-map"},
    "executor": {"link-dashboard", "link-map"},
    "manager": {"link-manager", "link-dashboard", "link-map"},
}


@pytest.mark.parametrize("role", ROLE_LINKS)
def test_each_role_finds_its_pages_on_the_cabinet(portal, signed_in, screenshot, role):
    """A deputy lands on /cabinet: a link takes them to their ward's page; a citizen finds
    their appeals and the form for a new one, a planner the thematic layers; everyone the map.
    The links of other roles are not shown."""
    base, account = portal.base, portal.account(role)
    page = signed_in(role, viewport={"width": 1200, "height": 800})
    shown = page.locator("#role-links a:visible").evaluate_all("as => as.map(a => a.id)")
    assert set(shown) == ROLE_LINKS[role]
    if role == "deputy":
        link = page.get_by_role("link", name="Мій виборчий округ: мапа, статистика, звіт")
        expect(link).to_be_visible()
        screenshot(page, "cabinet-deputy")
        link.click()
        page.wait_for_url(base + "/cabinet/ward")
        page.wait_for_selector(f'#deputy[data-ward="{account.ward_number}"]', timeout=15_000)
        expect(page.locator("#ward-title")).to_contain_text(str(account.ward_number))
        # The same link in English.
        page.goto(base + "/cabinet?lang=en")
        page.wait_for_selector('#cabinet[data-state="ready"]', timeout=15_000)
        expect(page.locator("#link-ward")).to_have_text("My ward: map, statistics, report")
        expect(page.locator("#who-scope")).to_have_text(f"Electoral ward No. {account.ward_number}")
    elif role == "citizen":
        page.click("#link-my-appeals")
        page.wait_for_url(base + "/cabinet/appeals")
        page.wait_for_selector('#my-appeals[data-state="ready"]', timeout=15_000)
        # The page shares cabinet.css: its crumbs and switch fit a phone.
        page.set_viewport_size({"width": 390, "height": 700})
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(page, "my-appeals-phone")
        page.set_viewport_size({"width": 1200, "height": 800})
        page.go_back()
        page.wait_for_selector('#cabinet[data-state="ready"]', timeout=15_000)
        page.click("#link-appeal-new")
        page.wait_for_url(base + "/appeal/new")
    elif role == "planner":
        page.click("#link-planner")
        page.wait_for_url(base + "/planner")
        page.go_back()
        page.wait_for_selector('#cabinet[data-state="ready"]', timeout=15_000)
        expect(page.locator("#queue-status")).to_have_text("Для цієї ролі черги звернень немає.")


def test_sign_in_in_english(portal, page, screenshot):
    """The sign-in page switched to English: a wrong password shows the API's message in
    English; the cabinet it leads to is English too (the language is kept in a cookie)."""
    base, executor = portal.base, portal.account("executor")
    page.set_viewport_size({"width": 1200, "height": 800})
    page.goto(base + "/login")
    page.click('a[data-lang="en"]')
    page.wait_for_url(base + "/login?lang=en")
    expect(page.locator("#login-submit")).to_have_text("Sign in")
    # On a phone the switch stays beside the back link, clear of it.
    page.set_viewport_size({"width": 390, "height": 700})
    back = page.locator(".crumbs a").first.bounding_box()
    switch = page.locator('a[data-lang="uk"]').bounding_box()
    assert switch["x"] >= back["x"] + back["width"] and switch["x"] + switch["width"] <= 390
    screenshot(page, "login-en-phone")
    page.set_viewport_size({"width": 1200, "height": 800})
    page.fill("#email", executor.login)
    page.fill("#password", "not-the-password")
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_have_text("Wrong e-mail address or password.")
    page.fill("#password", executor.password)
    page.click("#login-submit")
    page.wait_for_url(base + "/cabinet")
    page.wait_for_selector('#cabinet[data-state="ready"]', timeout=15_000)
    assert page.get_attribute("html", "lang") == "en"
    expect(page.locator("h1")).to_have_text("My account")
    expect(page.locator("#who-role")).to_have_text("Executor")
    expect(page.locator("#logout")).to_have_text("Sign out")
    expect(page.locator('a[data-lang="uk"]')).to_be_visible()
    screenshot(page, "cabinet-en")
