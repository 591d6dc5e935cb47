"""The contact centre's curator, in Debian's chromium: from /cabinet to /curator, whose queues'
counts equal SQL counts on the demo city; the curator accepts one explained answer and returns
another for rework with a reason (the answer's photos beside the appeal's), and redirects an
appeal returned as not in competence after the routing dry run at its point. The queue "check"
holds only answers awaiting the curator, never a "done" one awaiting its author. An appeal
filed with no location gets its place (POST …/locate: the API's refusals, and in the page a
click on the card's map, then the redirect to routing's choice there). Desktop and tablet
(1024×768); no JavaScript errors."""

from __future__ import annotations

import io
import json

import psycopg
from browser import DESKTOP
from test_tiles import _until, decode, tile_of

from gis.curator import CURATOR_RESULTS
from gis.lifecycle import (
    R_CHECKED,
    R_DONE_AWAITING,
    R_EXPLAINED_CHECK,
    R_NOT_COMPETENT,
    R_REWORK_CURATOR,
    R_TAKEN,
)

SEED = 11
TABLET = {"width": 1024, "height": 768}
ANSWER = "Роз'яснено: ремонт включено до плану на весну."


def prepare(url: str) -> None:
    """Three fresh answers awaiting the curator (with the executor's answer event), one
    "done" answer awaiting its author, and one appeal returned as not in competence."""
    with psycopg.connect(url) as conn:
        ids = [r[0] for r in conn.execute(
            "SELECT id FROM appeals WHERE geom IS NOT NULL AND executor_id IS NOT NULL"
            " ORDER BY id DESC LIMIT 5").fetchall()]  # fmt: skip
        for i in ids[:3]:
            conn.execute(
                "UPDATE appeals SET status = 'on_check', result = %s, closed_at = NULL,"
                " answered_at = now() - interval '400 days',"
                " deadline_at = now() + interval '5 days' WHERE id = %s",
                (R_EXPLAINED_CHECK, i),
            )
            conn.execute(
                "INSERT INTO appeal_events (appeal_id, actor, action, old, new)"
                " VALUES (%s, 'Виконавець (демо)', 'answer', '{}', %s::jsonb)",
                (i, json.dumps({"answer": ANSWER, "answer_kind": "explained"})),
            )
        conn.execute(
            "UPDATE appeals SET status = 'on_check', result = %s, closed_at = NULL,"
            " answered_at = now() WHERE id = %s",
            (R_DONE_AWAITING, ids[3]),
        )
        conn.execute(
            "UPDATE appeals SET status = 'registered', result = %s, closed_at = NULL,"
            " updated_at = now() - interval '400 days',"
            " executor_id = (SELECT id FROM executors WHERE kind = 'contact_centre' LIMIT 1)"
            " WHERE id = %s",
            (R_NOT_COMPETENT, ids[4]),
        )
        conn.execute(
            "INSERT INTO appeal_events (appeal_id, actor, action, comment)"
            " VALUES (%s, 'Виконавець (демо)', 'return', 'Не наша ділянка')",
            (ids[4],),
        )
        # Open appeals filed with no location (the queue no_location), not among the above.
        conn.execute(
            "UPDATE appeals SET geom = NULL, address = NULL, district_id = NULL, ward_id = NULL"
            " WHERE id IN (SELECT id FROM appeals WHERE status IN ('registered', 'in_work')"
            " AND result IS DISTINCT FROM %s AND geom IS NOT NULL ORDER BY id LIMIT 4)",
            (R_NOT_COMPETENT,),
        )


PORTAL = {"seed": SEED, "appeals": 1500, "prepare": prepare}


def sql(url: str, query: str, params=()) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def expected_counts(url: str) -> dict[str, int]:
    contact_centre = "(SELECT id FROM executors WHERE kind = 'contact_centre')"
    return {
        "check": sql(url, "SELECT count(*) FROM appeals WHERE status = 'on_check'"
                          " AND result = ANY(%s)", (list(CURATOR_RESULTS),))[0][0],
        "not_competent": sql(url, "SELECT count(*) FROM appeals WHERE status = 'registered'"
                                  " AND result = %s", (R_NOT_COMPETENT,))[0][0],
        "no_location": sql(url, "SELECT count(*) FROM appeals WHERE status <> 'closed'"
                                " AND geom IS NULL")[0][0],
        "no_executor": sql(url, "SELECT count(*) FROM appeals WHERE status <> 'closed' AND"
                                f" (executor_id IS NULL OR (executor_id IN {contact_centre}"
                                " AND result IS DISTINCT FROM %s))", (R_NOT_COMPETENT,))[0][0],
    }  # fmt: skip


def shown_counts(page) -> dict[str, int]:
    return page.evaluate(
        "() => Object.fromEntries([...document.querySelectorAll('.count')]"
        ".map(s => [s.id.replace('count-', ''), Number(s.dataset.count)]))"
    )


def open_desk(page, base: str) -> None:
    page.click("#link-curator")
    page.wait_for_url(base + "/curator")
    page.wait_for_selector('#curator[data-state="ready"]', timeout=20_000)


def open_card(page, number: str) -> None:
    page.click(f'#queue-table tbody tr[data-number="{number}"] button')
    page.wait_for_function("n => document.getElementById('card').dataset.number === n", arg=number)


def wait_done(page) -> None:
    page.wait_for_function("() => document.getElementById('card-done').textContent !== ''")


def test_a_curator_accepts_one_answer_returns_another_and_redirects(
    portal, signed_in, screenshot, browser_log
):
    base, url = portal.base, portal.db
    page = signed_in("curator", viewport=DESKTOP)
    assert page.is_visible("#link-curator")
    open_desk(page, base)
    counts = expected_counts(url)
    assert counts["check"] >= 3 and counts["not_competent"] >= 1
    assert shown_counts(page) == counts
    # The "done" answer awaits its author, not the curator: on check, yet not in the queue.
    awaiting_author = sql(url, "SELECT number FROM appeals WHERE status = 'on_check'"
                               " AND result = %s", (R_DONE_AWAITING,))  # fmt: skip
    listed = page.locator("#queue-table tbody tr").evaluate_all(
        "rs => rs.map(r => r.dataset.number)"
    )
    assert listed and not {n for (n,) in awaiting_author} & set(listed)
    assert int(page.get_attribute("#queue-table", "data-rows")) == min(counts["check"], 100)

    prepared = {n for (n,) in sql(url, "SELECT a.number FROM appeals a JOIN appeal_events e"
                                       " ON e.appeal_id = a.id WHERE e.new ->> 'answer' = %s",
                                  (ANSWER,))}  # fmt: skip
    first, second = [n for n in listed if n in prepared][:2]
    open_card(page, first)
    assert page.inner_text("#answer-text") == ANSWER
    assert page.is_visible("#appeal-photos") and page.is_visible("#answer-photos")
    assert "куратора" in page.inner_text("#card-awaiting")
    screenshot(page, "curator_check_card")
    page.click("#check-accept")
    wait_done(page)
    assert sql(url, "SELECT status, result FROM appeals WHERE number = %s", (first,)) == [
        ("closed", R_CHECKED)
    ]
    page.wait_for_function(
        "n => Number(document.getElementById('count-check').dataset.count) === n",
        arg=counts["check"] - 1,
    )

    # Returning needs a reason: refused in the page, then sent with one.
    open_card(page, second)
    page.click("#check-return")
    assert page.inner_text("#check-error") != ""
    assert page.get_attribute("#check-comment", "aria-invalid") == "true"
    page.fill("#check-comment", "Немає фото виконаних робіт")
    page.click("#check-return")
    wait_done(page)
    assert sql(url, "SELECT status, result FROM appeals WHERE number = %s", (second,)) == [
        ("rework", R_REWORK_CURATOR)
    ]
    assert sql(url, "SELECT e.comment FROM appeal_events e JOIN appeals a ON a.id = e.appeal_id"
                    " WHERE a.number = %s AND e.action = 'rework'", (second,)) == [
        ("Немає фото виконаних робіт",)
    ]  # fmt: skip
    assert shown_counts(page) == expected_counts(url)

    # Returned as not in competence: the dry run at its point, then the redirect.
    page.click('.queue-tab[data-queue="not_competent"]')
    page.wait_for_function(
        "() => document.getElementById('queue-table').dataset.queue === 'not_competent'"
    )
    number = page.get_attribute("#queue-table tbody tr", "data-number")
    open_card(page, number)
    assert "Не наша ділянка" in page.inner_text("#returned-reason")
    assert "перенаправлення" in page.inner_text("#card-awaiting")  # it waits for the curator
    # The candidate territories: those covering the point, on the map and as buttons.
    covering = sql(
        url,
        "SELECT e.code FROM appeals a JOIN executor_territories t ON t.valid_to IS NULL"
        " AND ST_Covers(t.geom, a.geom) JOIN executors e ON e.id = t.executor_id"
        " WHERE a.number = %s",
        (number,),
    )
    buttons = page.locator("#territories button")
    shown = min(len(covering), 8)  # the 8 smallest at most
    assert buttons.count() == shown > 0
    assert page.get_attribute("#territory-map", "data-territories") == str(shown)
    assert page.locator("#territory-map path.leaflet-interactive").count() >= shown
    buttons.first.click()
    assert page.input_value("#redirect-executor") == buttons.first.get_attribute("data-executor")
    assert page.input_value("#redirect-executor") in {c for (c,) in covering}
    page.fill("#redirect-executor", "")
    page.click("#dry-run")
    page.wait_for_function("() => document.getElementById('dry-run-result').textContent !== ''")
    if not page.input_value("#redirect-executor"):
        page.fill(
            "#redirect-executor",
            sql(
                url, "SELECT code FROM executors WHERE kind <> 'contact_centre' ORDER BY id LIMIT 1"
            )[0][0],
        )
    target = page.input_value("#redirect-executor")
    page.fill("#redirect-reason", "За належністю: ділянка району")
    screenshot(page, "curator_redirect")
    page.click("#redirect-submit")
    wait_done(page)
    # Said by its name where a territory covering the point gives it, with its code.
    ((name,),) = sql(url, "SELECT coalesce(short_name, name) FROM executors WHERE code = %s",
                     (target,))  # fmt: skip
    if target in {c for (c,) in covering}:
        assert f"{name} ({target})" in page.inner_text("#card-done")
    assert sql(url, "SELECT e.code, a.status FROM appeals a JOIN executors e"
                    " ON e.id = a.executor_id WHERE a.number = %s", (number,)) == [
        (target, "registered")
    ]  # fmt: skip
    assert shown_counts(page) == expected_counts(url)
    assert browser_log.errors == []


def test_the_curator_desk_on_a_tablet_in_english(portal, signed_in, screenshot, browser_log):
    page = signed_in("curator", viewport=TABLET)
    page.goto(portal.base + "/curator?lang=en")
    page.wait_for_selector('#curator[data-state="ready"]', timeout=20_000)
    assert page.inner_text("h1") == "Curator's desk"
    assert shown_counts(page) == expected_counts(portal.db)
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "curator_tablet_en")
    assert browser_log.errors == []


def test_the_curator_api_refuses_an_unknown_queue(portal, signed_in):
    page = signed_in("curator", viewport=DESKTOP)
    answer = page.request.get(portal.base + "/api/v1/curator/queues/nope")
    assert answer.status == 400
    assert answer.json()["code"] == "invalid_value"
    answer = page.request.get(portal.base + "/api/v1/curator/appeals/0000-nope")
    assert answer.status == 404


def png() -> dict:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (40, 120, 200)).save(buf, "PNG")
    return {"name": "answer.png", "mimeType": "image/png", "buffer": buf.getvalue()}


def test_the_answers_photo_beside_the_appeals_on_the_curators_card(portal, signed_in, screenshot):
    """An executor answers "explained" with a photo (the API, multipart, as the cabinet does);
    the curator's card shows that photo, loaded, in the answer's column."""
    base, url = portal.base, portal.db
    executor = portal.account("executor")
    (number,) = sql(
        url,
        "UPDATE appeals SET status = 'in_work', result = %s, closed_at = NULL,"
        " deadline_at = now() + interval '5 days' WHERE id = (SELECT a.id FROM appeals a"
        " JOIN users u ON u.executor_id = a.executor_id WHERE u.email = %s"
        " ORDER BY a.id LIMIT 1) RETURNING number",
        (R_TAKEN, executor.login),
    )[0]
    worker = signed_in(executor, viewport=DESKTOP)
    token = worker.evaluate("() => sessionStorage.getItem('hromada.csrf')")
    answered = worker.request.post(
        f"{base}/api/v1/appeals/{number}/answer",
        multipart={"text": "Роз'яснено, фото додаю", "kind": "explained", "photos": png()},
        headers={"X-CSRF-Token": token},
    )
    assert answered.status == 200, answered.text()
    (sha,) = answered.json()["photos"]

    page = signed_in("curator", viewport=DESKTOP)
    page.goto(base + "/curator")
    page.wait_for_selector('#curator[data-state="ready"]', timeout=20_000)
    open_card(page, number)
    assert page.get_attribute("#answer-photos img", "src").endswith(f"/api/v1/photos/{sha}")
    page.wait_for_function(
        "() => { const i = document.querySelector('#answer-photos img');"
        " return i && i.complete && i.naturalWidth === 64; }"
    )
    assert page.is_visible("#appeal-photos")
    page.locator("#answer-photos").scroll_into_view_if_needed()
    screenshot(page, "curator_answer_photo")


# --- a place for an appeal filed without one -------------------------------------------------


def no_location(url: str) -> list[str]:
    return [n for (n,) in sql(url, "SELECT number FROM appeals WHERE status <> 'closed'"
                                   " AND geom IS NULL ORDER BY id")]  # fmt: skip


def ward_point(url: str, offset: int) -> tuple[float, float]:
    """A point inside a current ward (so inside a district and the community)."""
    return sql(url, "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM wards"
                    " WHERE valid_to IS NULL ORDER BY number OFFSET %s LIMIT 1) x",
               (offset,))[0]  # fmt: skip


def covering(url: str, lon: float, lat: float) -> tuple:
    """The district and the ward covering the point (the lowest ids, as routing takes them)."""
    point = "ST_SetSRID(ST_MakePoint(%s, %s), 4326)"
    return sql(url, f"SELECT (SELECT id FROM districts WHERE valid_to IS NULL AND"
                    f" ST_Covers(geom, {point}) ORDER BY id LIMIT 1), (SELECT id FROM wards"
                    f" WHERE valid_to IS NULL AND ST_Covers(geom, {point}) ORDER BY id LIMIT 1)",
               (lon, lat, lon, lat))[0]  # fmt: skip


def test_the_locate_api_places_an_appeal_once_inside_the_city(portal, signed_in):
    base, url = portal.base, portal.db
    page = signed_in("curator", viewport=DESKTOP)
    token = page.evaluate("() => sessionStorage.getItem('hromada.csrf')")
    waiting = no_location(url)
    assert waiting, "the demo city has no open appeal without a location"
    number = waiting[-1]
    before = expected_counts(url)

    def locate(data, who=page, csrf=token, lang="uk"):
        return who.request.post(f"{base}/api/v1/appeals/{number}/locate", data=data,
                                headers={"X-CSRF-Token": csrf, "Accept-Language": lang})  # fmt: skip

    # Outside the community (Lviv): 400 in both languages, nothing written.
    refused = locate({"lon": 24.0316, "lat": 49.8429})
    assert refused.status == 400 and refused.json()["code"] == "locate_outside_city"
    assert "поза межами громади" in refused.json()["detail"] and number in refused.json()["detail"]
    english = locate({"lon": 24.0316, "lat": 49.8429}, lang="en")
    assert "outside the community" in english.json()["detail"]
    assert locate({"lon": "x", "lat": 50.45}).status == 400
    # A citizen may not.
    citizen = signed_in("citizen", viewport=DESKTOP)
    ctoken = citizen.evaluate("() => sessionStorage.getItem('hromada.csrf')")
    forbidden = locate({"lon": 30.52, "lat": 50.45}, who=citizen, csrf=ctoken)
    assert forbidden.status == 403 and forbidden.json()["code"] == "forbidden"
    assert sql(url, "SELECT geom IS NULL FROM appeals WHERE number = %s", (number,)) == [(True,)]
    assert sql(url, "SELECT count(*) FROM appeal_events e JOIN appeals a ON a.id = e.appeal_id"
                    " WHERE a.number = %s AND e.action = 'locate'", (number,)) == [(0,)]  # fmt: skip

    # The tile at the point, cached before the write.
    lon, lat = ward_point(url, 0)
    z, x, y = tile_of(lon, lat, 16)
    tile = f"{base}/tiles/appeals/{z}/{x}/{y}.mvt"
    (appeal_id,) = sql(url, "SELECT id FROM appeals WHERE number = %s", (number,))[0]

    def in_tile() -> bool:
        layer = decode(page.request.get(tile).body()).get("appeals", {"features": []})
        return appeal_id in {f["id"] for f in layer["features"]}

    assert not in_tile()

    placed = locate({"lon": lon, "lat": lat, "address": "вул. Тестова, 1"})
    assert placed.status == 200, placed.text()
    body = placed.json()
    district_id, ward_id = covering(url, lon, lat)
    assert district_id is not None and ward_id is not None
    assert sql(url, "SELECT round(ST_X(geom)::numeric, 6)::float, round(ST_Y(geom)::numeric, 6)::float,"
                    " district_id, ward_id, address, status FROM appeals WHERE number = %s",
               (number,)) == [(round(lon, 6), round(lat, 6), district_id, ward_id,
                               "вул. Тестова, 1", body["status"])]  # fmt: skip
    assert body["district"]["code"] == sql(url, "SELECT code FROM districts WHERE id = %s",
                                           (district_id,))[0][0]  # fmt: skip
    assert body["ward"]["number"] == sql(url, "SELECT number FROM wards WHERE id = %s",
                                         (ward_id,))[0][0]  # fmt: skip
    # The answer's executor is the routing dry run's at the point.
    (category,) = sql(url, "SELECT category_id FROM appeals WHERE number = %s", (number,))[0]
    dry = page.request.get(f"{base}/api/v1/route?category={category}&lon={lon}&lat={lat}").json()
    assert body["routing"]["executor_code"] == dry["executor_code"]
    # It left the queue: the API's counts are SQL's.
    counts = page.request.get(f"{base}/api/v1/curator/queues").json()["counts"]
    assert counts == expected_counts(url)
    assert counts["no_location"] == before["no_location"] - 1
    # The tile cache forgot the tile at the point.
    assert _until(in_tile), "the appeal did not appear in its cached tile"
    # Twice: 409.
    again = locate({"lon": lon, "lat": lat})
    assert again.status == 409 and again.json()["code"] == "appeal_already_located"
    # The public history says 'locate' and the address, and nobody's name.
    events = page.request.get(f"{base}/api/v1/appeals/{number}/history").json()["events"]
    step = [e for e in events if e["action"] == "locate"]
    assert len(step) == 1 and step[0]["address"] == "вул. Тестова, 1"
    (actor,) = sql(url, "SELECT e.actor FROM appeal_events e JOIN appeals a ON a.id ="
                        " e.appeal_id WHERE a.number = %s AND e.action = 'locate'", (number,))[0]  # fmt: skip
    assert actor not in json.dumps(events, ensure_ascii=False)


def test_a_curator_places_an_appeal_on_the_map_and_redirects_it(
    portal, signed_in, screenshot, browser_log
):
    base, url = portal.base, portal.db
    page = signed_in("curator", viewport=DESKTOP)
    open_desk(page, base)
    assert shown_counts(page) == expected_counts(url)
    page.click('.queue-tab[data-queue="no_location"]')
    page.wait_for_function(
        "() => document.getElementById('queue-table').dataset.queue === 'no_location'"
    )
    listed = page.locator("#queue-table tbody tr").evaluate_all(
        "rs => rs.map(r => r.dataset.number)"
    )
    redirectable = {n for (n,) in sql(url, "SELECT number FROM appeals WHERE geom IS NULL AND"
                                           " status IN ('registered', 'in_work', 'rework')")}  # fmt: skip
    assert listed and set(listed) <= set(no_location(url))
    number = next(n for n in listed if n in redirectable)
    open_card(page, number)
    assert page.is_visible("#locate-form") and page.is_visible("#territory-map")
    assert page.is_disabled("#locate-submit")
    page.wait_for_function(
        "() => Number(document.getElementById('territory-map').dataset.districts) > 0"
    )
    screenshot(page, "curator_locate_card", full_page=True)
    # A click on the map at a ward's inner point.
    lon, lat = ward_point(url, 3)
    # The map centred on the point (the test's own view), then a click at its centre.
    page.evaluate("([lat, lon]) => window.hromadaCuratorMap.setView([lat, lon], 16, {animate: false})",
                  [lat, lon])  # fmt: skip
    box = page.locator("#territory-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function("() => !document.getElementById('locate-submit').disabled")
    clicked = page.get_attribute("#territory-map", "data-place")
    c_lon, c_lat = map(float, clicked.split(","))
    assert abs(c_lon - lon) < 0.001 and abs(c_lat - lat) < 0.001
    page.click("#locate-submit")
    page.wait_for_function("() => document.getElementById('locate-result').textContent !== ''")
    assert sql(url, "SELECT geom IS NOT NULL, district_id IS NOT NULL, ward_id IS NOT NULL"
                    " FROM appeals WHERE number = %s", (number,)) == [(True, True, True)]  # fmt: skip
    assert number not in no_location(url)
    assert shown_counts(page) == expected_counts(url)
    assert page.is_hidden("#locate-form")
    # The redirect form: routing's choice at the point, prefilled.
    (category,) = sql(url, "SELECT category_id FROM appeals WHERE number = %s", (number,))[0]
    dry = page.request.get(
        f"{base}/api/v1/route?category={category}&lon={c_lon}&lat={c_lat}"
    ).json()  # fmt: skip
    assert page.is_visible("#redirect-form")
    assert page.input_value("#redirect-executor") == (dry["executor_code"] or "")
    assert dry["executor_code"] and dry["executor_code"] in page.inner_text("#dry-run-result")
    screenshot(page, "curator_located", full_page=True)
    page.fill("#redirect-reason", "Місце встановлено: за належністю")
    page.click("#redirect-submit")
    wait_done(page)
    assert sql(url, "SELECT e.code FROM appeals a JOIN executors e ON e.id = a.executor_id"
                    " WHERE a.number = %s", (number,)) == [(dry["executor_code"],)]  # fmt: skip
    assert shown_counts(page) == expected_counts(url)
    assert browser_log.errors == []


def test_a_long_queue_is_read_to_its_end_page_by_page(portal, signed_in, browser_log):
    """A queue longer than a page (100) shows 'Показати ще' until every appeal of it is listed
    (the newest of 672 answers were out of reach on the demo city)."""
    url = portal.db
    wanted = 130 - expected_counts(url)["no_location"]
    if wanted > 0:
        # Closed appeals of the demo's year come back, registered with no place.
        sql(url, "UPDATE appeals SET geom = NULL, status = 'registered', result = NULL,"
                 " closed_at = NULL WHERE id IN (SELECT id FROM appeals WHERE geom IS NOT NULL"
                 " ORDER BY status <> 'closed', id LIMIT %s) RETURNING id", (wanted,))  # fmt: skip
    total = expected_counts(url)["no_location"]
    assert total > 100
    page = signed_in("curator", viewport=DESKTOP)
    page.goto(portal.base + "/curator")
    page.wait_for_selector('#curator[data-state="ready"]', timeout=20_000)
    page.click('.queue-tab[data-queue="no_location"]')
    page.wait_for_function("() => document.getElementById('queue-table').dataset.queue"
                           " === 'no_location'")  # fmt: skip
    rows = page.locator("#queue-table tbody tr")
    assert rows.count() == 100
    assert page.is_visible("#queue-next")
    while page.is_visible("#queue-next"):
        before = rows.count()
        page.click("#queue-next")
        more = "n => document.querySelectorAll('#queue-table tbody tr').length > n"
        page.wait_for_function(more, arg=before)
    assert rows.count() == total
    numbers = page.evaluate("() => [...document.querySelectorAll('#queue-table tbody tr')]"
                            ".map(r => r.dataset.number)")  # fmt: skip
    assert len(set(numbers)) == total  # no appeal twice
    assert page.inner_text("#queue-more") == ""
    assert browser_log.errors == []


def test_the_curator_s_dry_run_and_results_in_english(portal, signed_in):
    """For English pages the dry run's reason (the route API's reason_en; the locate answer
    gives it too) and an appeal's result (result_en) have their fixed words in English."""
    page = signed_in("curator", viewport=TABLET)
    ((category, lon, lat),) = sql(
        portal.db, "SELECT category_id, ST_X(geom), ST_Y(geom) FROM appeals"
                   " WHERE geom IS NOT NULL ORDER BY id LIMIT 1")  # fmt: skip
    answer = page.request.get(f"{portal.base}/api/v1/route?category={category}&lon={lon}&lat={lat}")
    body = answer.json()
    assert answer.status == 200 and body["reason_en"], body
    assert "Правило" not in body["reason_en"] and "Rule" in body["reason_en"], body
    items = page.request.get(portal.base + "/api/v1/curator/queues/check?limit=5").json()["items"]
    assert items and all(i["result_en"] and i["result_en"] != i["result"] for i in items), items
    card = page.request.get(f"{portal.base}/api/v1/curator/appeals/{items[0]['number']}").json()
    assert card["result_en"] == items[0]["result_en"]
