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
        with serve(create_app(Settings(database_url=url, demo_mode=True))) as base:
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
