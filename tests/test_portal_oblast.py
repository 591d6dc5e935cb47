"""The oblast's councils page (issue 17, slice D) in Chromium, on the Kyiv demo city with two
councils of the region demo added (Кушугумська, open, and Бердянська, in the demo's example
occupied list): every council's boundary drawn with «© Мінрегіон», the occupied one hatched
and listed (axe, uk and en: tests/test_portal_a11y.py's SCREENS)."""

from __future__ import annotations

from playwright.sync_api import expect
from staff import sql
from test_tiles import decode

from importers.demo import region

KUSHUHUM, BERDIANSK = "UA23060110000049870", "UA23020050000046501"


def _prepare(url: str) -> None:
    region.generate_region(url, "zaporizka", seed=7, appeals=40, councils=(KUSHUHUM, BERDIANSK))


PORTAL = {"seed": 23, "appeals": 40, "prepare": _prepare}  # browser.portal's demo city


def test_the_oblast_page_draws_and_lists_the_councils(portal, new_context, screenshot):
    page = new_context(bypass_csp=False).new_page()
    page.goto(portal.base + "/oblast")
    page.wait_for_selector('#map[data-state="ready"]', timeout=20_000)
    # Kyiv's council and the two of the region: three boundaries on the map.
    expect(page.locator("#map")).to_have_attribute("data-councils", "3")
    # Coloured by the reports' on-time share of each council (its appeals were answered).
    expect(page.locator("#map")).to_have_attribute("data-choropleth", "on-time")
    expect(page.locator(".leaflet-control-attribution")).to_contain_text("© Мінрегіон")
    # Kyiv's boundary is OpenStreetMap's: both credits.
    expect(page.locator(".leaflet-control-attribution")).to_contain_text("OpenStreetMap")
    expect(page.locator(f'#occupied li[data-code="{BERDIANSK}"]')).to_contain_text("Бердянська")
    expect(page.locator(f'#councils tr[data-code="{KUSHUHUM}"]')).to_contain_text("Кушугумська")
    expect(page.locator(f'#councils tr[data-code="{BERDIANSK}"]')).to_have_count(0)
    # The councils compared: received and overdue now as the database counts them; sorting by
    # received puts the council with the most first, again: last.
    counts = {code: (received, overdue) for code, received, overdue in sql(
        portal.db,
        "SELECT k.code, count(a.id), count(a.id) FILTER (WHERE a.status <> 'closed'"
        " AND coalesce(a.extended_until, a.deadline_at) < now()) FROM councils k"
        " LEFT JOIN appeals a ON a.council_id = k.id WHERE k.occupied_since IS NULL"
        " GROUP BY k.code",
    )}  # fmt: skip
    rows = page.locator("#councils tbody tr")
    expect(rows).to_have_count(len(counts))
    for code, (received, overdue) in counts.items():
        row = page.locator(f'#councils tr[data-code="{code}"]')
        assert row.locator('td[data-key="received"]').inner_text() == str(received)
        assert row.locator('td[data-key="overdue"]').inner_text() == str(overdue)
    most = max(counts, key=lambda c: counts[c][0])
    page.locator('#councils button[data-sort="received"]').click()
    expect(rows.first).to_have_attribute("data-code", most)
    expect(page.locator("#councils th[aria-sort=descending]")).to_contain_text("Надійшло")
    page.locator('#councils button[data-sort="received"]').click()
    expect(rows.last).to_have_attribute("data-code", most)
    assert page.locator("path.leaflet-interactive").count() == 3
    screenshot(page, "oblast")

    # A council's own map: fitted to it, its boundary drawn, the list of its appeals only.
    tiles: list = []
    page.on("response", lambda r: tiles.append(r) if "/tiles/appeals/" in r.url else None)
    page.get_by_role("link", name="Кушугумська селищна громада").click()
    page.wait_for_url(portal.base + "/h/kushuhumska/")
    page.wait_for_selector('#map[data-state="ready"][data-council="kushuhumska"]')
    # Its appeal tiles are the council's (council=): of all time, their clusters count its
    # appeals, every one of them (the map is fitted to the council).
    page.wait_for_function("() => Number(document.getElementById('map').dataset.appealTiles) > 0")
    page.locator("#f-period").select_option("all")
    page.wait_for_selector('#map[data-filters="period=all"]')
    page.wait_for_load_state("networkidle")
    assert tiles and all("council=kushuhumska" in r.url for r in tiles), [r.url for r in tiles]
    tiles = [r for r in tiles if "datetime=" not in r.url]
    zoom = tiles[-1].url.split("/tiles/appeals/")[1].split("/")[0]
    drawn: dict[int, int] = {}  # a cluster (or point) id → its count, once per id
    for r in tiles:  # (Chromium keeps no body of the tiles the page fetched: asked again)
        if r.url.split("/tiles/appeals/")[1].startswith(zoom + "/") and r.status == 200:
            body = page.request.get(r.url).body()
            for f in decode(body).get("appeals", {"features": []})["features"]:
                drawn[f["id"]] = f["properties"].get("count", 1)
    own = sql(portal.db, "SELECT count(*) FROM appeal_features a JOIN councils k"
                         " ON k.id = a.council_id WHERE k.slug = 'kushuhumska'"
                         " AND a.geom IS NOT NULL")  # on the map: those with a place  # fmt: skip
    assert own and sum(drawn.values()) == own[0][0] > 0, [r.url for r in tiles]
    expect(page.get_by_role("heading", level=1)).to_have_text("Кушугумська селищна громада")
    page.wait_for_selector('#appeal-list[data-state="ready"] li')
    numbers = page.locator("#appeal-list li").evaluate_all("els => els.map(e => e.dataset.number)")
    assert numbers and all(n.startswith("КШ-") for n in numbers), numbers
    expect(page.locator("#link-file")).to_have_attribute("href", "/appeal/new?council=kushuhumska")
    screenshot(page, "council")
    # By code: the slug's page; an occupied council: a banner, no filing.
    page.goto(f"{portal.base}/h/{BERDIANSK}/")
    assert page.url.split("#")[0] == portal.base + "/h/berdianska/"
    expect(page.locator("#occupied-banner")).to_be_visible()
    expect(page.locator("#link-file")).to_have_count(0)


def test_a_council_page_files_an_appeal_with_no_place_to_that_council(portal, new_context):
    """/h/<slug>/ → «Подати звернення»: the form names the council, lists its categories and
    offers «Без місця»; the appeal goes to that council (its number carries the prefix)."""
    page = new_context(bypass_csp=False).new_page()
    page.goto(portal.base + "/h/kushuhumska/")
    page.wait_for_selector('#map[data-state="ready"][data-council="kushuhumska"]')
    expect(page.locator("#check-number")).to_have_attribute("placeholder", "напр. КШ-К-398")
    page.get_by_role("link", name="Подати звернення").click()
    page.wait_for_selector('#appeal[data-state="ready"][data-council="kushuhumska"]')
    expect(page.locator("#council-info")).to_contain_text("Кушугумська селищна громада")
    page.get_by_label("Без місця").check()
    label = page.locator("#category-list option").first.get_attribute("value")
    page.get_by_label("Категорія").fill(label or "")
    expect(page.locator("#category-kind")).to_contain_text("Строк розгляду")
    page.get_by_label("Текст звернення").fill("Прошу пояснити графік вивезення сміття в громаді.")
    page.get_by_label("Прізвище, ім’я, по батькові").fill("Коваленко Олена Петрівна")
    page.get_by_label("Електронна пошта").fill("olena.kovalenko@example.com")
    page.get_by_label("Поштова адреса").fill("вул. Центральна, 1, смт Кушугум")
    page.get_by_role("button", name="Надіслати звернення").click()
    page.wait_for_selector('#appeal[data-state="done"]', timeout=20_000)
    assert (page.locator("#appeal").get_attribute("data-number") or "").startswith("КШ-")
    # The home page of several councils: the switch to each council and the oblast's map.
    page.goto(portal.base + "/")
    expect(page.locator("#link-oblast")).to_have_attribute("href", "/oblast")
    page.locator("#council-switch summary").click()
    expect(page.locator('#council-switch a[href="/h/kushuhumska/"]')).to_be_visible()
