"""What the browser tests share (loaded by conftest.py as a plugin): pytest-playwright driving
Debian's chromium, a live demo city, a page signed in as any of its roles, and a log of each
test's JavaScript errors and requests.

pytest-playwright gives each module one browser and each test its `page` (a fresh context);
the chromium is /usr/bin/chromium, so no browser is downloaded and PLAYWRIGHT_BROWSERS_PATH
plays no part. Every test that uses a browser fixture is marked `browser`.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import demo_city
from live import serve

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
# Every context: a desktop window of a Ukrainian browser in Kyiv (a test may ask otherwise).
CONTEXT = {
    "viewport": {"width": 1280, "height": 800},
    "locale": "uk-UA",
    "timezone_id": "Europe/Kyiv",
}
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# The roles of the demo city; "administrator" is the role called "admin" in the database.
ROLES = ("citizen", "operator", "curator", "executor", "manager", "deputy", "planner", "admin")
ALIASES = {"administrator": "admin"}
LOCAL = ("http://127.0.0.1:", "data:", "blob:", "about:")


def pytest_collection_modifyitems(items):
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


# Playwright's sync API keeps an asyncio loop running in this thread for as long as it lives,
# and asyncio.run() refuses to start under it: one Playwright (and one chromium) per module
# instead of pytest-playwright's one per session, so that the modules after it may use
# asyncio.run. (In a browser module, run async code in a thread: run_async.)
@pytest.fixture(scope="module")
def playwright():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser_context_args():
    # (pytest-playwright's asks for the session's Playwright, for --device.) Our defaults are
    # CONTEXT, given by new_context.
    return {}


@pytest.fixture(scope="module")
def browser_type(playwright, browser_name):
    return getattr(playwright, browser_name)


@pytest.fixture(scope="module")
def launch_browser(browser_type_launch_args, browser_type):
    return lambda **kwargs: browser_type.launch(**{**browser_type_launch_args, **kwargs})


@pytest.fixture(scope="module")
def browser(launch_browser):
    browser = launch_browser()
    yield browser
    browser.close()


def run_async(coroutine_function, *args):
    """asyncio.run(coroutine_function(*args)) in a thread of its own (see `playwright`)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(coroutine_function(*args))).result()


@dataclass
class BrowserLog:
    """What the pages of one test did: uncaught JavaScript errors, console errors, requests
    that left 127.0.0.1, and answers of 400 or more."""

    errors: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def watch(self, context) -> None:
        context.on("weberror", lambda e: self.errors.append(e.error.stack or str(e.error)))
        context.on("console", lambda m: self.console.append(f"{m.text} {m.location}")
                   if m.type == "error" else None)  # fmt: skip
        context.on("request", lambda r: self.foreign.append(r.url)
                   if not r.url.startswith(LOCAL) else None)  # fmt: skip
        context.on("response", lambda r: self.failed.append(f"{r.status} {r.url}")
                   if r.status >= 400 else None)  # fmt: skip


@pytest.fixture
def browser_log() -> Iterator[BrowserLog]:
    """The log of the test's pages. No page may throw an uncaught error or reach beyond this
    machine: checked when the test ends."""
    log = BrowserLog()
    yield log
    assert log.errors == [], "JavaScript errors"
    assert log.foreign == [], "requests that left 127.0.0.1"


@pytest.fixture
def new_context(new_context, browser_log):
    """pytest-playwright's new_context with CONTEXT as defaults, its pages watched by
    browser_log; `page` comes from it too."""

    def make(**kwargs):
        context = new_context(**{**CONTEXT, **kwargs})
        browser_log.watch(context)
        return context

    return make


@pytest.fixture
def screenshot(tmp_path):
    """screenshot(page, name) saves <name>.png in tmp_path, which conftest keeps in
    test-output/screenshots; returns its path."""

    def take(page, name: str, *, full_page: bool = False) -> Path:
        path = tmp_path / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


@dataclass
class Portal:
    """A live server of a demo city: its base URL, its database and its demo accounts."""

    base: str
    db: str
    accounts: list

    def account(self, role: str):
        role = ALIASES.get(role, role)
        assert role in ROLES, role
        return next(a for a in self.accounts if a.role == role)


@contextmanager
def live_portal(
    server_url, template_url, shared_data, data_dir: Path, prefix: str, *, seed: int = 11,
    appeals: int = 400, now=None, prepare=None, **settings,
) -> Iterator[Portal]:  # fmt: skip
    """The demo city (conftest.demo_city) with its demo accounts, `prepare(db url)` run on
    it, served by the real app (tests/live.py). Sign-ins are not rate-limited here: every
    role signs in from 127.0.0.1 (the limits are tested on their own)."""
    from api import create_app
    from gis.embedded import free_port
    from gis.settings import Settings
    from importers.demo import accounts as demo_accounts

    with demo_city(server_url, template_url, shared_data, prefix, seed=seed, appeals=appeals,
                   now=now) as url:  # fmt: skip
        accounts = demo_accounts.create(url, seed, demo_mode=True)
        if prepare:
            prepare(url)
        port = free_port()
        options = {
            "demo_mode": True, "data_dir": data_dir, "rate_limit_login": "1000/minute",
            "public_base_url": f"http://127.0.0.1:{port}",  # the OGC API's "next" links
        }  # fmt: skip
        app = create_app(Settings(database_url=url, **{**options, **settings}))
        with serve(app, port) as base:
            yield Portal(base, url, accounts)


@pytest.fixture(scope="module")
def portal(request, server_url, template_url, shared_data, tmp_path_factory) -> Iterator[Portal]:
    """The module's demo city, live: live_portal with the module's PORTAL dict (seed,
    appeals, now, prepare, settings)."""
    options = getattr(request.module, "PORTAL", {})
    prefix = re.sub(r"\W", "", request.module.__name__.removeprefix("test_portal_"))[:20]
    with live_portal(server_url, template_url, shared_data, tmp_path_factory.mktemp("data"),
                     prefix, **options) as live:  # fmt: skip
        yield live


def sign_in(page, base: str, account) -> None:
    """Sign in through the /login form, as a person does; on /cabinet once it has drawn."""
    page.goto(base + "/login")
    page.fill("#email", account.login)
    page.fill("#password", account.password)
    page.click("#login-submit")
    page.wait_for_url(base + "/cabinet")
    page.wait_for_selector('#cabinet[data-state="ready"]', timeout=20_000)


@pytest.fixture
def signed_in(portal, new_context):
    """signed_in(role) → a page of its own context, signed in to `portal` as the demo
    account of that role (or as the account given) and on /cabinet, drawn. Context options
    (viewport, locale...) may follow."""

    def open_as(who, **context_args):
        account = portal.account(who) if isinstance(who, str) else who
        page = new_context(**context_args).new_page()
        sign_in(page, portal.base, account)
        return page

    return open_as
