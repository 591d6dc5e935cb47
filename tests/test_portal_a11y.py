"""Accessibility of every portal screen, checked in Debian's chromium by axe-core (the npm
package, installed by `make assets` beside Leaflet and never served): WCAG 2.1 A and AA rules —
labelled form fields, colour contrast of text (4.5:1, 3:1 for large text), names of buttons
and links, landmarks, the page's language — in Ukrainian and in English, for the anonymous
pages and for each signed-in role's page. Also: every form can be worked from the keyboard
(each field reachable by Tab, in an order that follows the page)."""

from __future__ import annotations

import pytest

from webmap import WEBMAP_DIR

AXE = WEBMAP_DIR / "node_modules" / "axe-core" / "axe.min.js"
SEED = 13

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
    ("/admin", "admin", '#admin[data-state="ready"]'),
    ("/curator", "curator", '#curator[data-state="ready"]'),
    ("/manager", "manager", '#manager[data-state="ready"]'),
    ("/operator", "operator", '#operator[data-state="ready"]'),
    ("/dashboard", "manager", '#dashboard[data-state="ready"]'),
    ("/dashboard", "deputy", '#dashboard[data-state="ready"]'),
    ("/dashboard", None, '#dashboard[data-state="ready"] #hex-map[data-state="ready"]'),
    ("/opendata", None, "#opendata"),
    ("/oblast", None, '#map[data-state="ready"]'),
    ("/h/kyiv/", None, '#map[data-state="ready"]'),
]

# Leaflet's own map pane is a focusable region with tiles and vector shapes; axe's rules about
# it (scrollable region, nested interactive SVG paths) concern the library, not our pages.
EXCLUDE = [".leaflet-pane", ".leaflet-control-zoom"]


PORTAL = {"seed": SEED, "appeals": 1500}  # browser.portal's demo city


@pytest.fixture(scope="module", autouse=True)
def axe_installed():
    if not AXE.exists():
        pytest.fail("axe-core is missing from webmap/node_modules: run `make assets`")


def open_screen(portal, new_context, signed_in, path, role, ready, lang):
    """The screen at `path` in `lang`, anonymous or signed in as `role`, once drawn."""
    # axe is injected as an inline script, which the portal's CSP refuses.
    page = signed_in(role, bypass_csp=True) if role else new_context(bypass_csp=True).new_page()
    page.goto(f"{portal.base}{path}?lang={lang}")
    page.wait_for_selector(ready, timeout=20_000)
    page.wait_for_load_state("networkidle")
    return page


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


@pytest.mark.parametrize("lang", ["uk", "en"])
@pytest.mark.parametrize(("path", "role", "ready"), SCREENS, ids=[s[0] for s in SCREENS])
def test_each_screen_passes_axe_wcag_aa(
    portal, new_context, signed_in, screenshot, path, role, ready, lang
):
    page = open_screen(portal, new_context, signed_in, path, role, ready, lang)
    assert page.evaluate("document.documentElement.lang") == lang
    violations = axe_violations(page)
    screenshot(page, "a11y" + path.replace("/", "_") + f"_{lang}")
    assert not violations, "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"])
        for v in violations
    )


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


def test_the_appeal_form_is_worked_by_keyboard(portal, new_context, signed_in):
    """From the top of /appeal/new, Tab reaches every field of the form, each once, in the
    order they stand on the page; none is skipped or trapped."""
    page = open_screen(
        portal, new_context, signed_in, "/appeal/new", None, '#appeal[data-state="ready"]', "uk"
    )
    fields = page.locator("#appeal-form :is(input, select, textarea):visible").evaluate_all(
        "es => es.map(e => e.id || e.name)"
    )
    assert len(fields) >= 4
    reached = tab_order(page, 60)
    positions = [reached.index(f) for f in fields if f in reached]
    missing = [f for f in fields if f not in reached]
    assert not missing, f"Tab never reaches {missing}; it went {reached}"
    assert positions == sorted(positions), reached


def test_the_sign_in_form_is_worked_by_keyboard(portal, page):
    base, who = portal.base, portal.account("executor")
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


def test_the_check_itself_finds_a_faint_text_and_an_unlabelled_field(
    portal, new_context, signed_in
):
    """The guard on the guard: the same run on a page spoiled on purpose reports it."""
    page = open_screen(portal, new_context, signed_in, "/login", None, "#login-form", "uk")
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


@pytest.mark.parametrize("lang", ["uk", "en"])
def test_the_executors_card_with_its_actions_passes_axe(
    portal, new_context, signed_in, screenshot, lang
):
    """The executor's card open on the first row of the default queue (open work), with every
    action's form unfolded: photos, routing reason, resolutions, history, co-executors and the
    extension request included."""
    page = open_screen(portal, new_context, signed_in, "/cabinet", "executor",
                       '#cabinet[data-state="ready"]', lang)  # fmt: skip
    assert page.locator("#queue tbody tr").count() > 0
    page.locator("#queue tbody tr").first.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => !document.getElementById('appeal-card').hidden"
        " && document.getElementById('card-history').children.length > 0"
    )
    page.evaluate(
        "() => document.querySelectorAll('#appeal-card details').forEach(d => d.open = true)"
    )
    violations = axe_violations(page)
    page.locator("#appeal-card").scroll_into_view_if_needed()
    screenshot(page, f"a11y_executor_card_{lang}")
    assert not violations, "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"])
        for v in violations
    )


@pytest.mark.parametrize(
    ("path", "role", "ready", "row"),
    [
        ("/curator", "curator", '#curator[data-state="ready"]', "#queue-table tbody tr button"),
        ("/manager", "manager", '#manager[data-state="ready"]', "#list tbody tr button"),
    ],
    ids=["curator", "manager"],
)
def test_the_desks_card_passes_axe(portal, new_context, signed_in, path, role, ready, row):
    """The curator's and the manager's desks with an appeal's card open (its forms, photos,
    resolutions and maps) pass the same WCAG 2.1 AA rules."""
    page = open_screen(portal, new_context, signed_in, path, role, ready, "uk")
    page.click(row)
    page.wait_for_selector("#card:not([hidden])")
    page.wait_for_load_state("networkidle")
    violations = axe_violations(page)
    assert not violations, "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"])
        for v in violations
    )


def test_the_curators_card_of_an_appeal_with_no_location_passes_axe(portal, new_context, signed_in):
    """The curator's card of an appeal filed with no location: the place's form, the map to
    click and the address search's results pass the same rules."""
    page = open_screen(
        portal, new_context, signed_in, "/curator", "curator", '#curator[data-state="ready"]', "uk"
    )
    page.click('.queue-tab[data-queue="no_location"]')
    page.wait_for_function(
        "() => document.getElementById('queue-table').dataset.queue === 'no_location'"
    )
    if not page.locator("#queue-table tbody tr").count():
        pytest.skip("the demo city has no open appeal without a location")
    page.click("#queue-table tbody tr button")
    page.wait_for_selector("#locate-form:not([hidden])")
    page.fill("#locate-q", "Хрещатик")
    page.click("#locate-search")
    page.wait_for_function(
        "() => document.querySelector('#locate-results button')"
        " || document.getElementById('locate-error').textContent !== ''"
    )
    page.wait_for_load_state("networkidle")
    violations = axe_violations(page)
    assert not violations, "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"])
        for v in violations
    )


def _author_links(portal) -> dict[str, str]:
    """The links of an author's notification for an appeal on check, its answer awaiting them
    (set up here: the demo city's answers carry no event)."""
    import json
    from types import SimpleNamespace

    import psycopg
    from browser import run_async

    from gis import author_links
    from gis.db import libpq_url
    from gis.lifecycle import R_DONE_AWAITING

    answer = {"answer": "Виконано: ліхтар замінено.", "answer_kind": "done"}
    with psycopg.connect(portal.db, autocommit=True) as conn:
        appeal_id, number = conn.execute(
            "UPDATE appeals SET status = 'on_check', result = %s, closed_at = NULL"
            " WHERE id = (SELECT a.id FROM appeals a JOIN appeal_authors au"
            " ON au.appeal_id = a.id ORDER BY a.id DESC LIMIT 1) RETURNING id, number",
            (R_DONE_AWAITING,),
        ).fetchone()
        conn.execute(
            "INSERT INTO appeal_events (appeal_id, actor, action, old, new)"
            " VALUES (%s, 'Виконавець (демо)', 'answer', '{}', %s::jsonb)",
            (appeal_id, json.dumps(answer)),
        )

    async def make():
        conninfo = libpq_url(portal.db)
        async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as c:
            settings = SimpleNamespace(public_base_url=portal.base)
            return await author_links.author_links(c, settings, appeal_id, number)

    return run_async(make)  # a live chromium keeps its loop in this thread


@pytest.mark.parametrize("lang", ["uk", "en"])
def test_the_authors_pages_from_a_notifications_link_pass_axe(portal, new_context, lang):
    """The appeal's page for its author (the answer, confirm and reject) and the unsubscribe
    page, opened from a notification's links by nobody signed in."""
    links = _author_links(portal)
    page = new_context(bypass_csp=True).new_page()
    for link, ready in ((links["reject"], '#author[data-state="ready"]'),
                        (links["unsubscribe"], "#unsubscribe")):  # fmt: skip
        page.goto(f"{link.split('#')[0]}&lang={lang}")
        page.wait_for_selector(ready)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("document.documentElement.lang") == lang
        violations = axe_violations(page)
        assert not violations, "\n".join(
            f"{v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"])
            for v in violations
        )
