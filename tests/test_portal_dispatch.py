"""The administrator's daily dispatch on /admin ("Розсилки"), in Debian's chromium over a demo
city: a subscription made with the form (a kind and a district, an e-mail address, CSV) is
listed; its first batch (made and delivered in-process at its time tomorrow, to the local
SMTP server) shows as sent with its count of appeals; a webhook subscription whose receiver
is down fails, shows as failed with its error, and 'Повторити' queues it again. The section
passes axe (WCAG 2.1 AA) with its form open, in Ukrainian and English."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from browser import run_async
from playwright.sync_api import expect
from test_portal_a11y import AXE, axe_violations

from gis import clock, dispatch, jobs
from gis.settings import Settings

SEED = 23
PORTAL = {"seed": SEED, "appeals": 300}  # browser.portal's demo city
POLICE = "police-ui@hromada.localhost"


def sql(url: str, query: str, params=()) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else []


def open_dispatch(signed_in, portal, lang: str = "uk", **context):
    page = signed_in("admin", **context)
    page.goto(f"{portal.base}/admin?lang={lang}")
    page.wait_for_selector('#dispatch[data-state="ready"]', timeout=20_000)
    return page


async def _day(url: str, now: dt.datetime, *, max_attempts: int = 6) -> list[str]:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        made = await dispatch.run_due(conn, now=now)
        out = []
        for batch in made:
            try:
                out.append(await dispatch.deliver_batch(conn, batch, attempt=max_attempts,
                                                        max_attempts=max_attempts))  # fmt: skip
            except dispatch.DeliveryFailed as exc:
                out.append(f"failed: {exc}")
        return out


def test_an_administrator_creates_a_subscription_and_sees_its_batch(
    portal, signed_in, smtp_server, screenshot, browser_log
):
    db = portal.db
    # The kind and district with the most appeals.
    ((kind_id, kind_name, district_code),) = sql(
        db, "SELECT p.id, p.name, d.code FROM appeals a JOIN categories c ON c.id = a.category_id"
            " JOIN categories p ON p.id = c.parent_id JOIN districts d ON d.id = a.district_id"
            " GROUP BY 1, 2, 3 ORDER BY count(*) DESC, 1, 3 LIMIT 1",
    )  # fmt: skip
    page = open_dispatch(signed_in, portal)
    page.locator("#dispatch-new-box summary").click()
    page.fill("#dispatch-name", "Поліція (тест)")
    page.select_option("#dispatch-categories", [str(kind_id)])
    page.select_option("#dispatch-area-kind", "district_code")
    page.select_option("#dispatch-district", district_code)
    # The district is drawn on the section's map.
    page.wait_for_function("() => document.querySelectorAll('#dispatch-map path').length > 0")
    page.fill("#dispatch-recipient", POLICE)
    page.fill("#dispatch-time", "07:00")
    page.select_option("#dispatch-format", "csv")
    page.click("#dispatch-submit")
    expect(page.locator("#dispatch-new-done")).to_contain_text("Поліція (тест)")
    row = page.locator("#dispatch-table tbody tr", has_text="Поліція (тест)")
    expect(row).to_contain_text(POLICE)
    demo = page.locator("#dispatch-table tbody tr", has_text="[demo] Поліція")
    expect(demo).to_contain_text("police-demo@hromada.localhost")
    expect(demo).to_contain_text("07:00")
    expect(row).to_contain_text(kind_name)
    ((sub_id, categories, code, fmt),) = sql(
        db, "SELECT id, category_ids, district_code, format FROM dispatch_subscriptions"
            " WHERE name = 'Поліція (тест)'",
    )  # fmt: skip
    assert (categories, code, fmt) == ([kind_id], district_code, "csv")

    # Its appeals: those of the kind in the district filed since the day before it was made.
    sql(db, "UPDATE dispatch_subscriptions SET created_at = created_at - interval '400 days'"
            " WHERE id = %s", (sub_id,))  # fmt: skip
    jobs.make_app(Settings(database_url=db, smtp_host="127.0.0.1", smtp_port=smtp_server.port), db)
    tomorrow = clock.kyiv_today() + dt.timedelta(days=1)
    # Ours and the demo city's own (the police's drug-advertising file, at 07:00 too).
    morning = dt.datetime.combine(tomorrow, dt.time(7, 5), clock.KYIV)
    assert run_async(_day, db, morning) == ["sent", "sent"]
    ((count,),) = sql(db, "SELECT count(*) FROM dispatch_items WHERE subscription_id = %s",
                      (sub_id,))  # fmt: skip
    assert count > 0
    mail = smtp_server.wait_for(POLICE)
    (attachment,) = list(mail.iter_attachments())
    assert attachment.get_payload(decode=True).decode("utf-8-sig").count("\r\n") == count + 1

    page.reload()
    page.wait_for_selector('#dispatch[data-state="ready"]', timeout=20_000)
    row = page.locator("#dispatch-table tbody tr", has_text="Поліція (тест)")
    expect(row.locator("td[data-status]")).to_have_attribute("data-status", "sent")
    expect(row).to_contain_text(f"{count} звернень")
    row.get_by_role("button", name="Відправлення").click()
    batch = page.locator("#dispatch-batches-table tbody tr")
    expect(batch).to_have_count(1)
    expect(batch).to_contain_text(tomorrow.isoformat())
    expect(batch).to_contain_text("надіслано")
    screenshot(page, "dispatch_sent", full_page=True)

    # A webhook nobody answers: failed after its last attempt, listed so, retried from the page.
    page.locator("#dispatch-new-box summary").click()
    page.fill("#dispatch-name", "Вебхук (тест)")
    page.select_option("#dispatch-categories", [str(kind_id)])
    page.select_option("#dispatch-area-kind", "")
    page.select_option("#dispatch-recipient-kind", "webhook_url")
    page.fill("#dispatch-recipient", "http://127.0.0.1:9/hook")
    page.click("#dispatch-submit")
    expect(page.locator("#dispatch-new-done")).to_contain_text("X-Hromada-Signature")
    sql(db, "UPDATE dispatch_subscriptions SET created_at = created_at - interval '400 days'"
            " WHERE name = 'Вебхук (тест)'")  # fmt: skip
    outcome = run_async(_day, db, dt.datetime.combine(tomorrow, dt.time(7, 10), clock.KYIV))
    assert len(outcome) == 1 and outcome[0].startswith("failed: URLError")
    page.reload()
    page.wait_for_selector('#dispatch[data-state="ready"]', timeout=20_000)
    row = page.locator("#dispatch-table tbody tr", has_text="Вебхук (тест)")
    expect(row.locator("td[data-status]")).to_have_attribute("data-status", "failed")
    row.get_by_role("button", name="Відправлення").click()
    failed = page.locator("#dispatch-batches-table tbody tr")
    expect(failed).to_contain_text("URLError")
    expect(failed).to_contain_text("не вдалося")
    screenshot(page, "dispatch_failed", full_page=True)
    failed.get_by_role("button", name="Повторити").click()
    expect(failed).to_contain_text("очікує")
    assert sql(db, "SELECT b.status FROM dispatch_batches b JOIN dispatch_subscriptions s"
                   " ON s.id = b.subscription_id WHERE s.name = 'Вебхук (тест)'"
               ) == [("pending",)]  # fmt: skip


@pytest.mark.parametrize("lang", ["uk", "en"])
def test_the_dispatch_section_passes_axe(portal, signed_in, screenshot, lang):
    if not AXE.exists():
        pytest.fail("axe-core is missing from webmap/node_modules: run `make assets`")
    page = open_dispatch(signed_in, portal, lang, bypass_csp=True)
    page.locator("#dispatch-new-box summary").click()
    page.select_option("#dispatch-area-kind", "area")
    page.wait_for_load_state("networkidle")
    if lang == "en":
        expect(page.locator("#dispatch-title")).to_have_text("Dispatch")
    violations = axe_violations(page)
    # Drawing: Leaflet-Geoman's toolbar on the map, its buttons named in the page's language.
    page.select_option("#dispatch-area-kind", "drawn")
    draw = "Draw a polygon" if lang == "en" else "Намалювати полігон"
    expect(page.get_by_title(draw)).to_be_visible()
    violations += axe_violations(page)
    screenshot(page, f"dispatch_axe_{lang}", full_page=True)
    assert not violations, "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']}\n    " + "\n    ".join(v["nodes"])
        for v in violations
    )


def _click_on_map(page, lat: float, lon: float) -> None:
    x, y = page.evaluate(
        "([lat, lon]) => { const p = window.hromadaDispatchMap.latLngToContainerPoint([lat, lon]);"
        " const r = document.getElementById('dispatch-map').getBoundingClientRect();"
        " return [r.left + p.x, r.top + p.y]; }",
        [lat, lon],
    )
    page.mouse.click(x, y)


def test_an_administrator_draws_the_area_on_the_map(portal, signed_in, screenshot, browser_log):
    """Leaflet-Geoman on the section's map: a polygon drawn by clicking its vertices (the first
    again closes it) is counted on the form (vertices, km²), erased, drawn again with two more,
    one of which is erased by the toolbar's eraser; saved, the subscription's geom is the
    MultiPolygon of the two drawn."""
    db = portal.db
    ((kind_id,),) = sql(db, "SELECT id FROM categories WHERE parent_id IS NULL AND is_active"
                            " ORDER BY id LIMIT 1")  # fmt: skip
    page = open_dispatch(signed_in, portal)
    page.locator("#dispatch-new-box summary").click()
    page.fill("#dispatch-name", "Намальована (тест)")
    page.select_option("#dispatch-categories", [str(kind_id)])
    page.select_option("#dispatch-area-kind", "drawn")
    expect(page.locator("#dispatch-draw-summary")).to_have_text("Ще нічого не намальовано.")
    page.wait_for_function("() => !window.hromadaDispatchMap._animatingZoom")
    lat0, lon0 = page.evaluate(
        "() => { const c = window.hromadaDispatchMap.getCenter(); return [c.lat, c.lng]; }"
    )
    ring = [(lat0 - 0.03, lon0 - 0.05), (lat0 - 0.03, lon0 + 0.05), (lat0 + 0.03, lon0 + 0.04),
            (lat0 + 0.04, lon0 - 0.04)]  # fmt: skip

    # Two more, east of it: a triangle that stays and one erased before saving.
    triangle = [(lat0 - 0.02, lon0 + 0.12), (lat0 - 0.02, lon0 + 0.2), (lat0 + 0.03, lon0 + 0.16)]
    erased = [(lat0 - 0.02, lon0 - 0.2), (lat0 - 0.02, lon0 - 0.12), (lat0 + 0.03, lon0 - 0.16)]

    def draw(vertices=ring):
        page.get_by_title("Намалювати полігон").click()
        for lat, lon in vertices:
            _click_on_map(page, lat, lon)
        _click_on_map(page, *vertices[0])  # the first vertex again: the polygon is closed

    def km2_drawn() -> float:
        said = summary.inner_text().split("≈ ")[1].split(" ")[0]
        return float(said.replace(",", ".").replace("\xa0", ""))

    summary = page.locator("#dispatch-draw-summary")
    draw()
    expect(summary).to_have_attribute("data-vertices", "4")
    expect(summary).to_contain_text("полігонів: 1, вершин: 4")
    # 0.00585 square degrees at 50.45° N: 0.00585 × 71.0 km × 111.2 km ≈ 46 km².
    assert 42 < km2_drawn() < 50, km2_drawn()
    page.click("#dispatch-draw-clear")
    expect(summary).to_have_text("Ще нічого не намальовано.")
    page.fill("#dispatch-recipient", POLICE)
    page.click("#dispatch-submit")
    expect(page.locator("#dispatch-new-error")).to_have_text(
        "Намалюйте на мапі хоча б один полігон."
    )
    draw()
    draw(triangle)
    draw(erased)
    expect(summary).to_contain_text("полігонів: 3, вершин: 10")
    page.get_by_title("Стерти полігон").click()
    _click_on_map(page, lat0, lon0 - 0.16)  # inside the one to erase
    expect(summary).to_contain_text("полігонів: 2, вершин: 7")
    page.get_by_title("Стерти полігон").click()  # the mode off
    km2 = km2_drawn()
    screenshot(page, "dispatch_drawn", full_page=True)
    page.click("#dispatch-submit")
    expect(page.locator("#dispatch-new-done")).to_contain_text("Намальована (тест)")
    expect(page.locator("#dispatch-table tbody tr", has_text="Намальована (тест)")).to_contain_text(
        "полігон"
    )
    wkt = "MULTIPOLYGON(" + ", ".join(
        "((" + ", ".join(f"{lon} {lat}" for lat, lon in [*v, v[0]]) + "))" for v in (ring, triangle)
    ) + ")"  # fmt: skip
    ((kind, parts, hausdorff, area_km2),) = sql(
        db, "SELECT GeometryType(geom), ST_NumGeometries(geom),"
            " ST_HausdorffDistance(geom, ST_GeomFromText(%s, 4326)),"
            " ST_Area(geom::geography) / 1e6 FROM dispatch_subscriptions"
            " WHERE name = 'Намальована (тест)'", (wkt,),
    )  # fmt: skip
    # A click lands on a whole pixel: at zoom 10 a pixel is about 0.0014° of longitude.
    assert (kind, parts) == ("MULTIPOLYGON", 2) and hausdorff < 0.003, (kind, parts, hausdorff)
    assert abs(area_km2 - km2) < 0.02 * km2, (area_km2, km2)
