"""Accessibility of every portal screen, checked in Debian's chromium by axe-core (the npm
package, installed by `make assets` beside Leaflet and never served): WCAG 2.1 A and AA rules —
labelled form fields, colour contrast of text (4.5:1, 3:1 for large text), names of buttons
and links, landmarks, the page's language — in Ukrainian and in English, for the anonymous
pages and for each signed-in role's page. Also: every form can be worked from the keyboard
(each field reachable by Tab, in an order that follows the page)."""

from __future__ import annotations

import os

import pytest
from conftest import demo_city
from live import serve
from test_portal import CHROMIUM, CHROMIUM_ARGS

from api import create_app
from gis.settings import Settings
from importers.demo import accounts as demo_accounts
from webmap import WEBMAP_DIR

AXE = WEBMAP_DIR / "node_modules" / "axe-core" / "axe.min.js"
SEED = 13
SCREENSHOTS = os.environ.get("HROMADA_SCREENSHOTS")

# (path, who signs in, the element whose data-state="ready" says the page has drawn)
SCREENS = [
    ("/", None, '#map[data-state="ready"]'),
    ("/appeal/new", None, '#appeal[data-state="ready"]'),
    ("/login", None, "#login-form"),
    ("/register", None, "form"),
    ("/account/reset", None, "form"),
    ("/planner", "planner", '#map[data-state="ready"]'),
    ("/cabinet", "executor", '#cabinet[data-state="ready"]'),
    ("/cabinet/appeals", "citizen", '#my-appeals[data-state="ready"]'),
    ("/cabinet/ward", "deputy", '#deputy[data-state="ready"]'),
]

# Leaflet's own map pane is a focusable region with tiles and vector shapes; axe's rules about
# it (scrollable region, nested interactive SVG paths) concern the library, not our pages.
EXCLUDE = [".leaflet-pane", ".leaflet-control-zoom"]


@pytest.fixture(scope="module")
def portal(server_url, template_url, shared_data, tmp_path_factory):
    if not AXE.exists():
        pytest.fail("axe-core is missing from webmap/node_modules: run `make assets`")
    with demo_city(server_url, template_url, shared_data, "a11y", seed=SEED, appeals=1500,
                   now=None) as url:  # fmt: skip
        accounts = demo_accounts.create(url, SEED, demo_mode=True)
        settings = Settings(
            database_url=url, demo_mode=True, data_dir=tmp_path_factory.mktemp("data")
        )
        with serve(create_app(settings)) as base:
            yield base, accounts


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def account_for(accounts, role: str):
    if role == "executor":
        return next(a for a in accounts if a.login == "rda-holosiivskyi@demo.hromada")
    return next(a for a in accounts if a.role == role)


def open_screen(browser, portal, path, role, ready, lang):
    base, accounts = portal
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="uk-UA")
    if role:
        who = account_for(accounts, role)
        r = context.request.post(
            base + "/api/v1/auth/login",
            data={"email": who.login, "password": who.password, "session": "cookie"},
        )
        assert r.ok, r.text()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}{path}?lang={lang}")
    page.wait_for_selector(ready, timeout=20_000)
    page.wait_for_load_state("networkidle")
    return context, page, errors


def axe_violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        """exclude => axe.run({include: [document], exclude: exclude.map(s => [s])}, {
               runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
               resultTypes: ['violations'],
           }).then(r => r.violations.map(v => ({
               id: v.id, impact: v.impact, help: v.help,
               nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' — '
                   + (n.failureSummary || '').replace(/\\s+/g, ' ').slice(0, 160)),
           })))""",
        EXCLUDE,
    )


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["uk", "en"])
@pytest.mark.parametrize(("path", "role", "ready"), SCREENS, ids=[s[0] for s in SCREENS])
def test_each_screen_passes_axe_wcag_aa(browser, portal, path, role, ready, lang, tmp_path):
    context, page, errors = open_screen(browser, portal, path, role, ready, lang)
    try:
        assert page.evaluate("document.documentElement.lang") == lang
        violations = axe_violations(page)
        if SCREENSHOTS:
            name = "a11y" + path.replace("/", "_") + f"_{lang}.png"
            page.screenshot(path=os.path.join(SCREENSHOTS, name))
        assert not violations, "\n".join(
            f"{v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"])
            for v in violations
        )
        assert not errors
    finally:
        context.close()


def tab_order(page, steps: int) -> list[str]:
    """The ids (or names) of the elements Tab reaches, in order."""
    seen = []
    for _ in range(steps):
        page.keyboard.press("Tab")
        seen.append(
            page.evaluate(
                "() => { const e = document.activeElement;"
                " return e ? (e.id || e.name || e.tagName.toLowerCase()) : ''; }"
            )
        )
    return seen


@pytest.mark.browser
def test_the_appeal_form_is_worked_by_keyboard(browser, portal):
    """From the top of /appeal/new, Tab reaches every field of the form, each once, in the
    order they stand on the page; none is skipped or trapped."""
    context, page, _ = open_screen(
        browser, portal, "/appeal/new", None, '#appeal[data-state="ready"]', "uk"
    )
    try:
        fields = page.locator("#appeal-form :is(input, select, textarea):visible").evaluate_all(
            "es => es.map(e => e.id || e.name)"
        )
        assert len(fields) >= 4
        reached = tab_order(page, 60)
        positions = [reached.index(f) for f in fields if f in reached]
        missing = [f for f in fields if f not in reached]
        assert not missing, f"Tab never reaches {missing}; it went {reached}"
        assert positions == sorted(positions), reached
    finally:
        context.close()


@pytest.mark.browser
def test_the_sign_in_form_is_worked_by_keyboard(browser, portal):
    base, accounts = portal
    who = account_for(accounts, "executor")
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        page.goto(base + "/login")
        page.wait_for_selector("#login-form")
        reached = tab_order(page, 8)
        assert reached.index("email") < reached.index("password") < reached.index("login-submit")
        page.focus("#email")
        page.keyboard.type(who.login)
        page.keyboard.press("Tab")
        page.keyboard.type(who.password)
        page.keyboard.press("Enter")
        page.wait_for_url(base + "/cabinet", timeout=15_000)
        page.wait_for_selector('#cabinet[data-state="ready"]', timeout=20_000)
    finally:
        context.close()


@pytest.mark.browser
def test_the_check_itself_finds_a_faint_text_and_an_unlabelled_field(browser, portal):
    """The guard on the guard: the same run on a page spoiled on purpose reports it."""
    context, page, _ = open_screen(browser, portal, "/login", None, "#login-form", "uk")
    try:
        page.evaluate(
            """() => {
                const p = document.createElement('p');
                p.textContent = 'Ледь видимий текст';
                p.style.cssText = 'color:#bbb;background:#fff';
                document.querySelector('main').append(p);
                document.querySelector('label[for=email]').remove();
            }"""
        )
        found = {v["id"] for v in axe_violations(page)}
        assert {"color-contrast", "label"} <= found, found
    finally:
        context.close()
