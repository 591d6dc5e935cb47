"""The portal's sign-in, in Debian's chromium: a demo executor signs in through the /login
form, sees the cabinet with their organisation and their queue, and signs out; a wrong
password shows the Ukrainian message."""

from __future__ import annotations

import datetime as dt
import os

import psycopg
import pytest
from live import serve
from test_portal import CHROMIUM, CHROMIUM_ARGS

from api import create_app
from gis.settings import Settings
from importers.demo import accounts as demo_accounts
from importers.demo import generate

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
SEED = 11
SCREENSHOTS = os.environ.get("HROMADA_SCREENSHOTS")  # a folder to keep the screenshots in


@pytest.fixture(scope="module")
def signin_server(server_url, template_url, shared_data):
    name = f"t_signin_{os.getpid()}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_url.rpartition("/")[2]}"')
    url = f"{server_url.rpartition('/')[0]}/{name}"
    generate(url, seed=SEED, appeals=1000, shared_dir=shared_data, now=NOW)
    accounts = demo_accounts.create(url, SEED, demo_mode=True)
    try:
        # Every role signs in here in turn: more sign-ins from 127.0.0.1 than the 10 a minute
        # the API allows one address (api/ratelimit.py, tested on its own).
        settings = Settings(database_url=url, demo_mode=True, rate_limit_login="100/minute")
        with serve(create_app(settings)) as base:
            yield base, accounts
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.browser
def test_a_demo_executor_signs_in_sees_the_queue_and_signs_out(signin_server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    base, accounts = signin_server
    executor = next(a for a in accounts if a.login == "rda-holosiivskyi@demo.hromada")
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 800}, locale="uk-UA")
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            # From the map's panel to the sign-in page.
            page.goto(base + "/")
            page.get_by_role("link", name="Увійти").click()
            page.wait_for_url(base + "/login")

            # A wrong password: the Ukrainian message, and no session.
            page.fill("#email", executor.login)
            page.fill("#password", "not-the-password")
            page.click("#login-submit")
            expect(page.locator("#login-error")).to_have_text(
                "Неправильна адреса e-mail або пароль."
            )
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
            shot = tmp_path / "cabinet.png"
            page.screenshot(path=str(shot), full_page=False)
            if SCREENSHOTS:
                page.screenshot(path=os.path.join(SCREENSHOTS, "cabinet.png"))
            assert shot.stat().st_size > 10_000
            # The session is an HttpOnly cookie: page scripts cannot read it.
            assert "hromada_session" not in page.evaluate("document.cookie")
            assert page.evaluate("sessionStorage.getItem('hromada.csrf')")

            page.click("#logout")
            page.wait_for_url(base + "/login")
            # Signed out: the cabinet sends back to the sign-in page.
            page.goto(base + "/cabinet")
            page.wait_for_url(base + "/login")
        finally:
            browser.close()
    assert errors == []


@pytest.mark.browser
def test_the_demo_citizen_sees_their_own_appeals(signin_server):
    from playwright.sync_api import sync_playwright

    base, accounts = signin_server
    citizen = next(a for a in accounts if a.role == "citizen")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844}, locale="uk-UA")
            page.goto(base + "/login")
            page.fill("#email", citizen.login)
            page.fill("#password", citizen.password)
            page.click("#login-submit")
            page.wait_for_selector('#cabinet[data-state="ready"]', timeout=15_000)
            assert page.inner_text("#who-role") == "Мешканець"
            assert page.inner_text("#queue-title") == "Мої звернення"
            assert page.locator("#queue tbody tr").count() == demo_accounts.CITIZEN_APPEALS
            assert not page.is_visible("#filters")
        finally:
            browser.close()


# The links each role finds on /cabinet (the page every signed-in role lands on).
ROLE_LINKS = {
    "deputy": {"link-ward", "link-map"},
    "operator": {"link-wards", "link-map"},
    "curator": {"link-wards", "link-map"},
    "admin": {"link-wards", "link-planner", "link-map"},
    "planner": {"link-planner", "link-map"},
    "citizen": {"link-my-appeals", "link-appeal-new", "link-map"},
    "executor": {"link-map"},
    "manager": {"link-map"},
}


def sign_in(page, base: str, account) -> None:
    page.goto(base + "/login")
    page.fill("#email", account.login)
    page.fill("#password", account.password)
    page.click("#login-submit")
    page.wait_for_url(base + "/cabinet")
    page.wait_for_selector('#cabinet[data-state="ready"]', timeout=15_000)


@pytest.mark.browser
def test_each_role_finds_its_pages_on_the_cabinet(signin_server, tmp_path):
    """A deputy lands on /cabinet: a link takes them to their ward's page; a citizen finds
    their appeals and the form for a new one, a planner the thematic layers; everyone the map.
    The links of other roles are not shown."""
    from playwright.sync_api import expect, sync_playwright

    base, accounts = signin_server
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for role, expected in ROLE_LINKS.items():
                account = next(a for a in accounts if a.role == role)
                context = browser.new_context(viewport={"width": 1200, "height": 800},
                                              locale="uk-UA")  # fmt: skip
                page = context.new_page()
                page.on("pageerror", lambda exc: errors.append(str(exc)))
                sign_in(page, base, account)
                shown = page.locator("#role-links a:visible").evaluate_all(
                    "as => as.map(a => a.id)")  # fmt: skip
                assert set(shown) == expected, role
                if role == "deputy":
                    link = page.get_by_role(
                        "link", name="Мій виборчий округ: мапа, статистика, звіт"
                    )
                    expect(link).to_be_visible()
                    shot = tmp_path / "cabinet-deputy.png"
                    page.screenshot(path=str(shot))
                    if SCREENSHOTS:
                        page.screenshot(path=os.path.join(SCREENSHOTS, "cabinet-deputy.png"))
                    link.click()
                    page.wait_for_url(base + "/cabinet/ward")
                    page.wait_for_selector(
                        f'#deputy[data-ward="{account.ward_number}"]', timeout=15_000
                    )
                    expect(page.locator("#ward-title")).to_contain_text(str(account.ward_number))
                    # The same link in English.
                    page.goto(base + "/cabinet?lang=en")
                    page.wait_for_selector('#cabinet[data-state="ready"]', timeout=15_000)
                    expect(page.locator("#link-ward")).to_have_text(
                        "My ward: map, statistics, report"
                    )
                    expect(page.locator("#who-scope")).to_have_text(
                        f"Electoral ward No. {account.ward_number}"
                    )
                elif role == "citizen":
                    page.click("#link-my-appeals")
                    page.wait_for_url(base + "/cabinet/appeals")
                    page.wait_for_selector('#my-appeals[data-state="ready"]', timeout=15_000)
                    # The page shares cabinet.css: its crumbs and switch fit a phone.
                    page.set_viewport_size({"width": 390, "height": 700})
                    assert page.evaluate("document.documentElement.scrollWidth") <= 390
                    page.screenshot(path=str(tmp_path / "my-appeals-phone.png"))
                    if SCREENSHOTS:
                        page.screenshot(path=os.path.join(SCREENSHOTS, "my-appeals-phone.png"))
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
                    expect(page.locator("#queue-status")).to_have_text(
                        "Для цієї ролі черги звернень немає."
                    )
                context.close()
        finally:
            browser.close()
    assert errors == []


@pytest.mark.browser
def test_sign_in_in_english(signin_server, tmp_path):
    """The sign-in page switched to English: a wrong password shows the API's message in
    English; the cabinet it leads to is English too (the language is kept in a cookie)."""
    from playwright.sync_api import expect, sync_playwright

    base, accounts = signin_server
    executor = next(a for a in accounts if a.login == "rda-holosiivskyi@demo.hromada")
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 800}, locale="uk-UA")
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(base + "/login")
            page.click('a[data-lang="en"]')
            page.wait_for_url(base + "/login?lang=en")
            expect(page.locator("#login-submit")).to_have_text("Sign in")
            # On a phone the switch stays beside the back link, clear of it.
            page.set_viewport_size({"width": 390, "height": 700})
            back = page.locator(".crumbs a").first.bounding_box()
            switch = page.locator('a[data-lang="uk"]').bounding_box()
            assert switch["x"] >= back["x"] + back["width"] and switch["x"] + switch["width"] <= 390
            page.screenshot(path=str(tmp_path / "login-en-phone.png"))
            if SCREENSHOTS:
                page.screenshot(path=os.path.join(SCREENSHOTS, "login-en-phone.png"))
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
            shot = tmp_path / "cabinet-en.png"
            page.screenshot(path=str(shot))
            if SCREENSHOTS:
                page.screenshot(path=os.path.join(SCREENSHOTS, "cabinet-en.png"))
        finally:
            browser.close()
    assert errors == []
