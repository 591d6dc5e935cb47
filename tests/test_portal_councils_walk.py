"""Issue 17's "done when", walked in Chromium on one database: the Kyiv demo city with two
councils of the region demo added (Кушугумська, A, and Запорізька, B, the oblast centre; their
demo accounts made as `hromada demo --region zaporizka` makes them).

1. A citizen opens A's form (/h/kushuhumska/ → «Подати звернення»), pins a point inside A,
   picks one of A's categories and files: the number carries A's prefix and the answer and the
   public card name A's executive committee.
2. A's executor finds it in the cabinet's queue and opens its card; B's executor does not: not
   in the queue (also asked for A's council by name), and the staff card, the resolutions and
   the author's data answer 404 from B's signed-in page. The public card stays public and holds
   none of the author's data.
3. The oblast's administrator (no council) opens /oblast: both councils drawn and listed, each
   one's tooltip gives its share of answers on time as the database counts it, and the
   councils' report the page colours them by counts each council's received appeals as the
   database does. (The page shows no table of the councils' figures yet.)
"""

from __future__ import annotations

import math
import re

from browser import DESKTOP, sign_in
from playwright.sync_api import expect
from staff import sql

from importers.demo import accounts as demo_accounts
from importers.demo import region

SEED = 29
A, B = "UA23060110000049870", "UA23060070000082704"  # Кушугумська, Запорізька
AUTHOR = {"full_name": "Мельник Ірина Степанівна", "email": "iryna.melnyk@example.com",
          "postal_address": "вул. Садова, 12, смт Кушугум"}  # fmt: skip

# An appeal's staff routes: its card, the curator's resolutions, the author's personal data.
STAFF_ROUTES = ("/api/v1/queue/{number}", "/api/v1/appeals/{number}/resolutions",
                "/api/v1/appeals/{number}/author")  # fmt: skip


def _prepare(url: str) -> None:
    region.generate_region(url, "zaporizka", seed=SEED, appeals=800, councils=(A, B))
    demo_accounts.create(url, SEED, demo_mode=True)  # the councils' and the oblast's accounts


PORTAL = {"seed": SEED, "appeals": 40, "prepare": _prepare}  # browser.portal's demo city


def account(url: str, login: str) -> demo_accounts.DemoAccount:
    return next(a for a in demo_accounts.listing(url, SEED) if a.login == login)


def council(url: str, code: str) -> dict:
    rows = sql(url, "SELECT id, slug, number_prefix, name FROM councils WHERE code = %s", (code,))
    assert rows, code
    return dict(zip(("id", "slug", "prefix", "name"), rows[0], strict=True))


def inside(url: str, code: str) -> tuple[float, float]:
    """A point inside the council's current hromada (lon, lat)."""
    rows = sql(url, "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p"
                    " FROM hromadas WHERE code = %s AND valid_to IS NULL) s", (code,))  # fmt: skip
    assert rows, code
    return rows[0][0], rows[0][1]


def category_of(url: str, k: dict) -> tuple[int, str]:
    """A sub-kind the council offers whose kind its rules give its executive committee (the
    organisation of the council's demo executor): its own «(демо)» one when so, else a shared
    one; (id, the form's label)."""
    rows = sql(
        url,
        "SELECT c.id, c.name || ' — ' || p.name FROM categories c"
        " JOIN categories p ON p.id = c.parent_id"
        " JOIN council_categories cc ON cc.category_id = c.id AND cc.council_id = %(k)s"
        "  AND cc.is_active"
        " JOIN routing_rules r ON r.category_id = p.id AND r.council_id = %(k)s AND r.is_active"
        " JOIN executors e ON e.id = r.executor_id AND e.code = %(vk)s"
        " WHERE c.is_active AND p.is_active AND (c.council_id IS NULL OR c.council_id = %(k)s)"
        " ORDER BY c.council_id IS NULL, c.id LIMIT 1",
        {"k": k["id"], "vk": f"{k['slug']}-vk"},
    )
    assert rows, k
    return rows[0][0], rows[0][1]


def pin(page, lon: float, lat: float, zoom: int = 15) -> None:
    """Centre the form's map on the place and click it, as a person would."""
    page.evaluate("([lat, lon, z]) => window.hromadaAppealMap.setView([lat, lon], z,"
                  " {animate: false})", [lat, lon, zoom])  # fmt: skip
    page.wait_for_function("z => window.hromadaAppealMap.getZoom() === z"
                           " && !window.hromadaAppealMap._animatingZoom", arg=zoom)  # fmt: skip
    point = page.evaluate(
        "([lat, lon]) => { const p = window.hromadaAppealMap.latLngToContainerPoint([lat, lon]);"
        " const r = document.getElementById('map').getBoundingClientRect();"
        " return [r.left + p.x, r.top + p.y]; }",
        [lat, lon],
    )
    page.mouse.click(point[0], point[1])
    page.wait_for_selector('#appeal[data-pin="set"]', timeout=10_000)


def fetch_status(page, path: str) -> int:
    """The status of a GET from the page (its cookie session, its CSRF token as the page sends
    it: the author's data asks for it)."""
    return page.evaluate("p => fetch(p, {credentials: 'same-origin', headers: {'X-CSRF-Token':"
                         " window.portal.csrf.get()}}).then(r => r.status)", path)  # fmt: skip


def fetch_json(page, path: str):
    return page.evaluate("p => fetch(p, {credentials: 'same-origin'}).then(r => r.json())", path)


def queue_numbers(page) -> list[str]:
    return page.locator("#queue tbody tr").evaluate_all("rs => rs.map(r => r.dataset.number)")


def test_a_citizen_files_in_one_council_its_executor_alone_sees_it_the_oblast_compares(
    portal, new_context, screenshot
):
    base, url = portal.base, portal.db
    a, b = council(url, A), council(url, B)
    assert a["prefix"] and b["prefix"] and a["prefix"] != b["prefix"]

    # 1. The citizen files in A, from A's own page.
    page = new_context(viewport=DESKTOP).new_page()
    page.goto(f"{base}/h/{a['slug']}/")
    page.wait_for_selector(f'#map[data-state="ready"][data-council="{a["slug"]}"]',
                           timeout=20_000)  # fmt: skip
    page.get_by_role("link", name="Подати звернення").click()
    page.wait_for_selector(f'#appeal[data-state="ready"][data-council="{a["slug"]}"]',
                           timeout=20_000)  # fmt: skip
    expect(page.locator("#council-info")).to_contain_text(a["name"])
    lon, lat = inside(url, A)
    pin(page, lon, lat)
    category_id, label = category_of(url, a)
    page.get_by_label("Категорія").fill(label)
    expect(page.locator("#category-kind")).to_contain_text("Строк розгляду")
    page.get_by_label("Текст звернення").fill("Біля зупинки розбито лавку, прошу замінити.")
    page.get_by_label("Прізвище, ім’я, по батькові").fill(AUTHOR["full_name"])
    page.get_by_label("Електронна пошта").fill(AUTHOR["email"])
    page.get_by_label("Поштова адреса").fill(AUTHOR["postal_address"])
    page.get_by_role("button", name="Надіслати звернення").click()
    page.wait_for_selector('#appeal[data-state="done"]', timeout=20_000)
    number = page.locator("#done-number").inner_text()
    assert re.fullmatch(rf"{a['prefix']}-\w+-\d+", number), number
    stored = sql(url, "SELECT a.council_id, a.category_id, e.code, coalesce(e.short_name, e.name)"
                      " FROM appeals a"
                      " JOIN executors e ON e.id = a.executor_id WHERE a.number = %s",
                 (number,))  # fmt: skip
    assert stored and stored[0][:3] == (a["id"], category_id, f"{a['slug']}-vk"), stored
    executor_name = stored[0][3]  # as the pages name it: «Виконком», A's (number, SQL)
    expect(page.locator("#done-route")).to_contain_text(executor_name)
    screenshot(page, "walk-filed")
    page.click("#done-link")  # the public card: routed to A's executive committee
    expect(page.locator("#card-title")).to_contain_text(number, timeout=15_000)
    expect(page.locator("#card-body")).to_contain_text(executor_name)
    page.context.close()

    # 2. A's executor finds it in the queue; B's executor cannot reach it by any route.
    page = new_context(viewport=DESKTOP).new_page()
    sign_in(page, base, account(url, f"executor-{a['slug']}@demo.hromada"))
    expect(page.locator("#who-scope")).to_contain_text(a["name"])  # «Виконавчий комітет (…)»
    page.select_option("#status-filter", "registered")
    page.wait_for_selector('#cabinet[data-state="ready"]')
    assert number in queue_numbers(page)
    page.locator(f'#queue tbody tr[data-number="{number}"]').focus()
    page.keyboard.press("Enter")
    page.wait_for_function("n => document.getElementById('card-number').textContent === n"
                           " && !document.getElementById('appeal-card').hidden", arg=number)  # fmt: skip
    expect(page.locator("#card-executor")).to_have_text(executor_name)
    card = fetch_json(page, f"/api/v1/queue/{number}")
    assert card["council"]["code"] == A, card
    for path in STAFF_ROUTES:  # (B's executor asks the same below)
        assert fetch_status(page, path.format(number=number)) == 200, path
    screenshot(page, "walk-executor-a")
    page.context.close()

    page = new_context(viewport=DESKTOP).new_page()
    sign_in(page, base, account(url, f"executor-{b['slug']}@demo.hromada"))
    page.select_option("#status-filter", "registered")
    page.wait_for_selector('#cabinet[data-state="ready"]')
    listed = queue_numbers(page)
    assert number not in listed
    assert all(n.startswith(f"{b['prefix']}-") for n in listed), listed
    for path in STAFF_ROUTES:
        assert fetch_status(page, path.format(number=number)) == 404, path
    narrowed = fetch_json(page, f"/api/v1/queue?council={a['slug']}&status=registered&limit=200")
    assert narrowed["items"] == [], narrowed  # narrowing to A's council: nothing of it
    public = fetch_json(page, f"/api/v1/appeals/{number}")
    assert public["number"] == number  # the public card is public…
    assert AUTHOR["full_name"] not in str(public) and AUTHOR["email"] not in str(public)
    screenshot(page, "walk-executor-b")
    page.context.close()

    # 3. The oblast's administrator compares the councils on /oblast.
    page = new_context(viewport=DESKTOP).new_page()
    sign_in(page, base, account(url, "oblast-admin@demo.hromada"))
    page.goto(base + "/oblast")
    page.wait_for_selector('#map[data-state="ready"]', timeout=20_000)
    for code in (A, B):
        expect(page.locator(f'#councils tr[data-code="{code}"]')).to_have_count(1)
    # Each council's tooltip: its share of answers given on time, as the database counts it.
    tips = []
    paths = page.locator("#map path.leaflet-interactive")
    for i in range(paths.count()):
        paths.nth(i).dispatch_event("mouseover")
        expect(page.locator("#map .leaflet-tooltip")).to_have_count(1)
        tips.append(page.locator("#map .leaflet-tooltip").inner_text())
        paths.nth(i).dispatch_event("mouseout")
        expect(page.locator("#map .leaflet-tooltip")).to_have_count(0)
    figures = {code: (received, on_time, answered) for code, received, on_time, answered in sql(
        url,
        "SELECT k.code, count(x.id), count(x.id) FILTER (WHERE coalesce(x.answered_at,"
        " x.closed_at) <= coalesce(x.extended_until, x.deadline_at)), count(x.id) FILTER"
        " (WHERE coalesce(x.answered_at, x.closed_at) IS NOT NULL)"
        " FROM councils k LEFT JOIN appeals x ON x.council_id = k.id GROUP BY k.code",
    ) or []}  # fmt: skip
    for k, code in ((a, A), (b, B)):
        _, on_time, answered = figures[code]
        assert answered > 0, figures
        share = math.floor(round(on_time / answered, 3) * 100 + 0.5)  # as oblast.js rounds
        assert f"{k['name']} — вчасно: {share}%" in tips, (tips, figures)
    screenshot(page, "walk-oblast")
    # …and the received of each in the table that compares them, as the database counts them.
    for code in (A, B):
        cell = page.locator(f'#councils tr[data-code="{code}"] td[data-key="received"]')
        assert int(cell.inner_text()) == figures[code][0] > 0, figures
