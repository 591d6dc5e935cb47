"""The executor's cabinet, in Debian's chromium: a demo district administration's executor
signs in through /login, sees their territory on the map and only the appeals of their
organisation tree, takes an appeal, answers it with a photo (a refused empty answer shows the
API's message next to the field), a curator accepts it through the API and the appeal is
closed; another appeal is delegated to a sub-organisation and a third returned as not theirs.
No JavaScript errors, no request leaves 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import httpx
import psycopg
import pytest
from browser import DESKTOP, PHONE
from playwright.sync_api import expect

SEED = 11
LOGIN = "rda-holosiivskyi@demo.hromada"
TABLET = {"width": 1024, "height": 768}
OPEN_WORK = ("registered", "in_work", "rework")


def reopen(url: str, n: int = 4) -> None:
    """The demo's appeals of a year are almost all closed: the newest few of the district
    administration itself come back as just registered, to be worked on."""
    with psycopg.connect(url) as conn:
        conn.execute(
            "UPDATE appeals SET status = 'registered', result = NULL, closed_at = NULL,"
            " answered_at = NULL, extended_until = NULL, deadline_at = now() + interval '10 days'"
            " WHERE id IN (SELECT a.id FROM appeals a JOIN users u ON u.executor_id = a.executor_id"
            " WHERE u.email = %s ORDER BY a.id DESC LIMIT %s)",
            (LOGIN, n),
        )


PORTAL = {"seed": SEED, "appeals": 1500, "prepare": reopen}  # browser.portal's demo city


def sql(url: str, query: str, params=()) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def subtree(url: str, login: str) -> set[int]:
    return {r[0] for r in sql(url, "WITH RECURSIVE t(id) AS (SELECT executor_id FROM users"
                                   " WHERE email = %s UNION SELECT e.id FROM executors e"
                                   " JOIN t ON e.parent_id = t.id) SELECT id FROM t",
                              (login,))}  # fmt: skip


def png() -> dict:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 90, 40)).save(buf, "PNG")
    return {"name": "done.png", "mimeType": "image/png", "buffer": buf.getvalue()}


def status_of(url: str, number: str) -> str:
    return sql(url, "SELECT status FROM appeals WHERE number = %s", (number,))[0][0]


def shot(page, screenshot, name: str):
    page.evaluate("window.scrollTo(0, 0)")
    path = screenshot(page, name)
    assert path.stat().st_size > 10_000
    return path


def rows(page) -> list[str]:
    return page.locator("#queue tbody tr").evaluate_all("rs => rs.map(r => r.dataset.number)")


def choose(page, number: str) -> None:
    """Choose a row by keyboard: focus it and press Enter."""
    page.locator(f'#queue tbody tr[data-number="{number}"]').focus()
    page.keyboard.press("Enter")
    page.wait_for_function(
        "n => document.getElementById('card-number').textContent === n"
        " && !document.getElementById('appeal-card').hidden", arg=number)  # fmt: skip


def own_registered(page, url: str) -> list[str]:
    """The listed registered appeals of the district administration itself."""
    own = {r[0] for r in sql(url, "SELECT a.number FROM appeals a JOIN users u ON u.executor_id"
                                  " = a.executor_id WHERE u.email = %s AND a.status = 'registered'",
                             (LOGIN,))}  # fmt: skip
    return [n for n in rows(page) if n in own]


def wait_ready(page) -> None:
    page.wait_for_selector('#cabinet[data-state="ready"]', timeout=20_000)


def wait_action(page) -> None:
    page.wait_for_selector('#cabinet[data-action="done"]', timeout=15_000)


def test_an_executor_takes_answers_delegates_and_returns_from_the_cabinet(
    portal, signed_in, screenshot
):
    base, url = portal.base, portal.db
    executor, curator = portal.account("executor"), portal.account("curator")
    assert executor.login == LOGIN
    mine = subtree(url, LOGIN)
    assert len(mine) > 1  # the district administration and its sub-organisations
    page = signed_in(executor, viewport=DESKTOP)
    assert page.inner_text("#who-role") == "Виконавець"
    assert page.is_visible("#cabinet-map")
    # My territory is drawn: the territories of my organisation tree, and only those.
    drawn = int(page.get_attribute("#cabinet", "data-territories"))
    expected = sql(url, "SELECT count(*) FROM executor_territories WHERE"
                        " executor_id = ANY(%s) AND valid_to IS NULL", (list(mine),))[0][0]  # fmt: skip
    assert drawn == expected > 0
    assert page.locator("#cabinet-map .leaflet-overlay-pane path").count() >= drawn
    attribution = page.inner_text("#cabinet-map .leaflet-control-attribution")
    assert "© OpenStreetMap contributors" in attribution

    # Only the appeals of my scope are listed (and drawn as markers).
    listed = rows(page)
    assert listed
    outside = sql(url, "SELECT number FROM appeals WHERE number = ANY(%s)"
                       " AND NOT (executor_id = ANY(%s))", (listed, list(mine)))  # fmt: skip
    assert outside == []
    assert len(listed) == int(page.get_attribute("#cabinet", "data-rows"))

    # Filters: overdue only, and a period; every row answers to them (by SQL).
    page.check("#overdue-filter")
    wait_ready(page)
    overdue = rows(page)
    assert page.inner_text("#filters-error") == ""
    # (The default queue is the open work: registered, in work, rework.)
    expected_overdue = sql(
        url,
        "SELECT count(*) FROM appeals WHERE executor_id = ANY(%s) AND closed_at IS NULL"
        " AND coalesce(extended_until, deadline_at) < now()"
        " AND status IN ('registered', 'in_work', 'rework')",
        (list(mine),),
    )[0][0]
    assert int(page.get_attribute("#cabinet", "data-matched")) == expected_overdue
    assert len(overdue) == min(expected_overdue, 50)
    assert page.locator("#queue tbody .badge.overdue").count() == len(overdue)
    page.uncheck("#overdue-filter")
    wait_ready(page)
    page.fill("#from-filter", "2026-10-01")
    page.fill("#to-filter", "2026-10-15")
    page.locator("#to-filter").dispatch_event("change")
    wait_ready(page)
    period = rows(page)
    if period:
        dates = sql(url, "SELECT min(created_at), max(created_at) FROM appeals"
                         " WHERE number = ANY(%s)", (period,))[0]  # fmt: skip
        assert dates[0] >= dt.datetime(2026, 10, 1, tzinfo=dt.UTC) - dt.timedelta(hours=3)
        assert dates[1] < dt.datetime(2026, 10, 16, tzinfo=dt.UTC) + dt.timedelta(hours=3)
    page.fill("#from-filter", "")
    page.fill("#to-filter", "")
    page.locator("#to-filter").dispatch_event("change")
    wait_ready(page)

    # Registered appeals (of the district administration itself, whose sub-organisations it
    # may delegate to): take one into work.
    page.select_option("#status-filter", "registered")
    wait_ready(page)
    registered = own_registered(page, url)
    assert len(registered) >= 3, sql(
        url,
        "SELECT status, count(*) FROM appeals WHERE executor_id = ANY(%s) GROUP BY 1",
        (list(mine),),
    )
    number = registered[0]
    choose(page, number)
    assert page.get_attribute(f'#queue tr[data-number="{number}"]', "aria-selected") == "true"
    expect(page.locator("#card-status")).to_have_text("Зареєстровано")
    shot(page, screenshot, "executor-card")
    page.click("#act-take")
    wait_action(page)
    expect(page.locator(f'#queue tr[data-number="{number}"] td').nth(2)).to_have_text("В роботі")
    assert status_of(url, number) == "in_work"

    # Answer: an empty text is refused with the API's message next to the field.
    page.locator("#answer-box summary").click()
    page.click("#answer-submit")
    wait_action(page)
    # (in the page's words: the API's names the field as the API spells it, «text»)
    expect(page.locator("#answer-text-error")).to_have_text("Заповніть це поле.")
    assert status_of(url, number) == "in_work"
    page.select_option("#answer-kind", "done")
    page.fill("#answer-text", "Яму на тротуарі залатано.")
    page.set_input_files("#answer-photos", [png()])
    page.click("#answer-submit")
    wait_action(page)
    expect(page.locator(f'#queue tr[data-number="{number}"] td').nth(2)).to_have_text(
        "На перевірці"
    )
    expect(page.locator("#card-done")).to_contain_text("на перевірці")
    assert status_of(url, number) == "on_check"
    # The history shows what the executor answered.
    expect(page.locator("#card-history li").last).to_contain_text("Яму на тротуарі залатано.")
    assert sql(url, "SELECT count(*) FROM appeal_photos p JOIN appeals a ON a.id ="
                    " p.appeal_id WHERE a.number = %s AND p.kind = 'answer'",
               (number,))[0][0] == 1  # fmt: skip
    shot(page, screenshot, "executor-answered")

    # The curator accepts the answer through the API: the appeal is closed, and the
    # executor's card shows it when chosen again.
    with httpx.Client(base_url=base) as api:
        token = api.post("/api/v1/auth/login", json={
            "email": curator.login, "password": curator.password}).json()["access_token"]  # fmt: skip
        r = api.post(f"/api/v1/appeals/{number}/check",
                     json={"decision": "accept"},
                     headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        assert r.status_code == 200, r.text
    assert status_of(url, number) == "closed"
    choose(page, registered[1])
    choose(page, number)
    expect(page.locator("#card-status")).to_have_text("Закрито")
    expect(page.locator(f'#queue tr[data-number="{number}"] td').nth(2)).to_have_text("Закрито")

    # Delegate another appeal to a sub-organisation chosen from the API's options.
    second = registered[1]
    choose(page, second)
    page.locator("#delegate-box summary").click()
    options = page.locator("#delegate-executor option").evaluate_all(
        "os => os.map(o => o.value)")  # fmt: skip
    assert options
    page.select_option("#delegate-executor", options[0])
    page.click("#delegate-submit")
    wait_action(page)
    expect(page.locator("#card-done")).to_contain_text("делеговано")
    assert sql(url, "SELECT e.code FROM appeals a JOIN executors e ON e.id ="
                    " a.executor_id WHERE a.number = %s", (second,))[0][0] == options[0]  # fmt: skip

    # Return a third as not mine: a reason is required (the API's message by the field).
    third = registered[2]
    choose(page, third)
    page.locator("#return-box summary").click()
    page.click("#return-submit")
    wait_action(page)
    expect(page.locator("#return-reason-error")).not_to_be_empty()
    page.fill("#return-reason", "Ділянка не належить району.")
    page.click("#return-submit")
    wait_action(page)
    expect(page.locator("#cabinet")).to_contain_text("повернуто в 1551")
    row = sql(url, "SELECT status, result, executor_id FROM appeals WHERE number = %s",
              (third,))[0]  # fmt: skip
    assert row[0] == "registered"
    if row[2] not in mine:
        expect(page.locator(f'#queue tr[data-number="{third}"]')).to_have_count(0)
    shot(page, screenshot, "executor-cabinet")


def test_the_executor_cabinet_in_english(portal, signed_in, screenshot):
    """The cabinet switched to English: the queue's headers, its filters, the card and its
    actions are English, taking an appeal says so in English, and an answer the API refuses
    (no text) shows the API's English message next to the field; then on a phone; and back."""
    base, url = portal.base, portal.db
    executor = portal.account("executor")
    cyrillic = "[А-Яа-яЇїІіЄєҐґ]"
    page = signed_in(executor, viewport=DESKTOP)
    assert page.inner_text("#queue thead").split() == [
        "Номер", "Категорія", "Статус", "Адреса", "Строк"]  # fmt: skip
    page.click('a[data-lang="en"]')
    page.wait_for_url(base + "/cabinet?lang=en")
    wait_ready(page)
    assert page.get_attribute("html", "lang") == "en"
    assert page.title() == "My account — Hromada GIS"
    assert page.locator("#queue thead th").all_inner_texts() == [
        "Number", "Category", "Status", "Address", "Deadline"]  # fmt: skip
    expect(page.locator("#queue-title")).to_have_text("My appeal queue")
    expect(page.locator("#who-role")).to_have_text("Executor")
    expect(page.locator('label[for="status-filter"]')).to_have_text("Status")
    expect(page.locator('label[for="from-filter"]')).to_have_text("Created from")
    expect(page.locator('label[for="overdue-filter"]')).to_have_text("Overdue only")
    assert page.locator("#status-filter option").all_inner_texts() == [
        "all", "open (registered, in work, returned for rework)", "Registered", "In work",
        "On check", "Returned for rework", "Closed"]  # fmt: skip
    assert page.input_value("#status-filter") == "open"
    expect(page.locator("#queue-status")).to_have_text(re.compile(r"^Showing \d+"))
    expect(page.locator(".map-legend")).to_contain_text("My territory")
    expect(page.locator("#card-placeholder")).to_contain_text("Choose an appeal")
    assert page.locator("#role-links a:visible").all_inner_texts() == [
        "Dashboard: weeks, kinds, districts, executors; XLSX", "Public map of appeals"]  # fmt: skip

    # A registered appeal's card: English facts and actions; take it into work.
    page.select_option("#status-filter", "registered")
    wait_ready(page)
    registered = own_registered(page, url)
    assert registered
    number = registered[0]
    statuses = page.locator("#queue tbody td:nth-child(3)").all_inner_texts()
    assert set(statuses) == {"Registered"}
    choose(page, number)
    expect(page.locator("#card-title")).to_have_text(f"Appeal No. {number}")
    expect(page.locator("#card-status")).to_have_text("Registered")
    expect(page.locator("#act-take")).to_have_text("Take into work")
    expect(page.locator("#return-box summary")).to_have_text("Return as not ours")
    page.click("#act-take")
    wait_action(page)
    expect(page.locator("#card-done")).to_have_text("The appeal has been taken into work.")
    expect(page.locator(f'#queue tr[data-number="{number}"] td').nth(2)).to_have_text("In work")
    assert status_of(url, number) == "in_work"
    # The categories in English (where the catalogue has one), in the card and the rows; the
    # history's first step says "Registered" once, not "Registered → Registered".
    listed = page.evaluate(
        "() => fetch('/api/v1/queue?status=registered').then(r => r.json())")["items"]  # fmt: skip
    for i in listed:
        name = i["category_en"] or i["category"]
        expect(page.locator(f'#queue tr[data-number="{i["number"]}"] td').nth(1)).to_have_text(name)
    kinds = {k for (k,) in sql(url, "SELECT name_en FROM categories WHERE parent_id IS NULL"
                                    " AND name_en IS NOT NULL")}  # fmt: skip
    assert kinds and kinds <= set(page.locator("#category-filter option").all_inner_texts())
    card = page.evaluate(
        "n => fetch('/api/v1/queue/' + encodeURIComponent(n)).then(r => r.json())", number)  # fmt: skip
    expect(page.locator("#card-category")).to_have_text(card["category_en"] or card["category"])
    # Why routing chose this executor: its fixed words in English, the names as stored.
    assert card["routing_reason"] and card["routing_reason_en"] != card["routing_reason"]
    expect(page.locator("#card-routing")).to_have_text(card["routing_reason_en"])
    expect(page.locator("#card-routing")).not_to_contain_text("Правило")
    expect(page.locator("#card-history li").first).to_contain_text("Registered")
    expect(page.locator("#card-history li").first).not_to_contain_text("→")
    expect(page.locator("#answer-box summary")).to_have_text("Answer")
    expect(page.locator("#answer-submit")).to_be_hidden()
    page.locator("#answer-box summary").click()
    expect(page.locator('label[for="answer-text"]')).to_have_text("Answer text")
    assert page.locator("#answer-kind option").all_inner_texts() == [
        "Done", "Explained", "Needs funding"]  # fmt: skip
    expect(page.locator("#answer-submit")).to_have_text("Answer")

    # Refused by the API (no text): its English message next to the field, focused.
    page.click("#answer-submit")
    wait_action(page)
    expect(page.locator("#answer-text-error")).to_have_text("Fill in this field.")
    expect(page.locator("#answer-text")).to_be_focused()
    assert status_of(url, number) == "in_work"
    # Too many photos: the page's own English message by the field.
    page.set_input_files("#answer-photos", [dict(png(), name=f"{i}.png") for i in range(6)])
    page.fill("#answer-text", "Done.")
    page.click("#answer-submit")
    expect(page.locator("#answer-photos-error")).to_have_text("No more than 5 photos.")
    assert status_of(url, number) == "in_work"
    # Nothing Ukrainian on the card but its data (number, category, address, text...).
    # (The co-executors' choice is labelled by the units' names: data, not the page's text.)
    labels = page.locator(
        "#appeal-card dt, #appeal-card summary, #appeal-card label:not(.coexec-list label),"
        " #answer-kind option, #appeal-card legend, #appeal-card h3,"
        " #appeal-card button, #appeal-card .error, #card-done, #card-status,"
        " #card-deadline, #card-title"
    ).all_inner_texts()
    labels = [t.replace(number, "") for t in labels if t not in ("", "—")]
    assert len(labels) > 20
    assert not [t for t in labels if re.search(cyrillic, t)]
    shot(page, screenshot, "executor-card-en")

    # On a phone, still English and nothing wider than the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    wait_ready(page)
    expect(page.locator("#queue-title")).to_have_text("My appeal queue")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, screenshot, "executor-phone-en")

    # And back to Ukrainian.
    page.click('a[data-lang="uk"]')
    page.wait_for_url("**/cabinet?lang=uk")
    wait_ready(page)
    assert page.get_attribute("html", "lang") == "uk"
    expect(page.locator("#queue-title")).to_have_text("Моя черга звернень")
    expect(page.locator("#queue thead th").first).to_have_text("Номер")


def test_a_row_far_down_the_queue_brings_its_card_into_sight(portal, signed_in):
    """On a tablet the card sits above the queue's table: a row chosen far down the table
    (by the mouse, after scrolling to it) brings the card into sight."""
    page = signed_in(portal.account("executor"), viewport=TABLET)
    wait_ready(page)
    page.select_option("#status-filter", "")  # every status: a long table
    wait_ready(page)
    last = page.locator("#queue tbody tr").last
    last.scroll_into_view_if_needed()
    expect(page.locator("#card-placeholder")).not_to_be_in_viewport()
    number = last.get_attribute("data-number")
    last.click()
    page.wait_for_function(
        "n => document.getElementById('card-number').textContent === n", arg=number
    )
    expect(page.locator("#card-title")).to_be_in_viewport()


def login_token(base: str, account) -> str:
    r = httpx.post(f"{base}/api/v1/auth/login",
                   json={"email": account.login, "password": account.password})  # fmt: skip
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def test_the_queue_filters_and_my_executors_behind_the_cabinet(portal):
    """What the cabinet's filters ask of /api/v1/queue (overdue, created_from, created_to)
    answers to SQL, and /api/v1/me/executors lists the caller's organisation tree."""
    base, url = portal.base, portal.db
    executor = portal.account("executor")
    mine = subtree(url, LOGIN)
    h = {"Authorization": f"Bearer {login_token(base, executor)}"}
    with httpx.Client(base_url=base, headers=h) as api:
        got = api.get("/api/v1/me/executors").json()["items"]
        assert {e["id"] for e in got} == mine
        assert got[0]["id"] == sql(url, "SELECT executor_id FROM users WHERE email = %s",
                                   (LOGIN,))[0][0]  # fmt: skip

        def numbers(**params) -> set[str]:
            r = api.get("/api/v1/queue", params={"limit": 200, **params})
            assert r.status_code == 200, r.text
            assert r.json()["next"] is None  # the tree's appeals fit in a page
            return {i["number"] for i in r.json()["items"]}

        scope = "executor_id = ANY(%s)"
        late = "closed_at IS NULL AND coalesce(extended_until, deadline_at) < now()"
        overdue = {r[0] for r in sql(url, f"SELECT number FROM appeals WHERE {scope} AND {late}",
                                     (list(mine),))}  # fmt: skip
        assert numbers(overdue="true") == overdue
        assert numbers(overdue="false") == numbers() - overdue
        first, last = sql(url, f"SELECT min(created_at), max(created_at) FROM appeals"
                               f" WHERE {scope}", (list(mine),))[0]  # fmt: skip
        middle = (first + (last - first) / 2).date()
        since = numbers(created_from=middle.isoformat())
        until = numbers(created_to=middle.isoformat())
        assert since and until and since | until == numbers()
        assert len(since & until) <= len(numbers(created_from=middle.isoformat(),
                                                 created_to=middle.isoformat()))  # fmt: skip
        bad = api.get("/api/v1/queue", params={"created_from": "вчора"})
        assert bad.status_code in (400, 422)
        assert bad.json()["detail"]

    deputy = portal.account("deputy")
    r = httpx.get(f"{base}/api/v1/me/executors",
                  headers={"Authorization": f"Bearer {login_token(base, deputy)}"})  # fmt: skip
    assert r.status_code == 403


def test_the_executor_cabinet_on_a_phone(portal, signed_in, screenshot):
    executor = portal.account("executor")
    page = signed_in(executor, viewport=PHONE)
    assert page.is_visible("#cabinet-map")
    assert page.locator("#queue tbody tr").count() > 0
    # Nothing wider than the phone's screen.
    wide = page.evaluate(
        "Array.from(document.querySelectorAll('#cabinet *')).filter(e =>"
        " e.getBoundingClientRect().right > 391).slice(0, 8).map(e =>"
        " e.tagName + '#' + e.id + '.' + e.className + ':' +"
        " Math.round(e.getBoundingClientRect().right))"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, wide
    shot(page, screenshot, "executor-phone")


# --- a day's work from the default queue (issue 12) --------------------------------------------


@pytest.fixture(scope="module")
def reworked(portal) -> list[str]:
    """Two appeals the demo citizen files through the API, each with a photo, then (as a
    curator's return would leave them) back with the district administration for rework and
    overdue, their deadlines the soonest of its open work: the first rows of its queue."""
    base, url = portal.base, portal.db
    citizen = portal.account("citizen")
    rda = sql(url, "SELECT executor_id FROM users WHERE email = %s", (LOGIN,))[0][0]
    lon, lat = sql(url, "SELECT ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom))"
                        " FROM executor_territories WHERE executor_id = %s AND valid_to IS NULL"
                        " LIMIT 1", (rda,))[0]  # fmt: skip
    category = sql(url, "SELECT id FROM categories WHERE parent_id IS NOT NULL AND is_active"
                        " AND deadline_days = 15 ORDER BY id LIMIT 1")[0][0]  # fmt: skip
    h = {"Authorization": f"Bearer {login_token(base, citizen)}"}
    numbers = []
    for i in range(2):
        data = {
            "category": category,
            "text": f"Вибоїна на тротуарі біля під'їзду, глибока, небезпечна ({i + 1}).",
            "location": {"lon": lon, "lat": lat},
            # The demo citizen's own account name: the name check accepts it (issue 12).
            "author": {"postal_address": "м. Київ, вул. Васильківська, 1, кв. 1"},
            "consent_to_publish": False,
        }
        r = httpx.post(f"{base}/api/v1/appeals", headers={**h, "Idempotency-Key": f"ex-{i}"},
                       data={"data": json.dumps(data, ensure_ascii=False)},
                       files=[("photos", ("pit.png", png()["buffer"], "image/png"))])  # fmt: skip
        assert r.status_code == 201, r.text
        numbers.append(r.json()["number"])
    mine = list(subtree(url, LOGIN))
    soonest = sql(url, "SELECT min(coalesce(extended_until, deadline_at)) FROM appeals"
                       " WHERE executor_id = ANY(%s) AND status = ANY(%s)",
                  (mine, list(OPEN_WORK)))[0][0]  # fmt: skip
    soonest = min(soonest, dt.datetime.now(dt.UTC))
    for i, number in enumerate(numbers):
        deadline = soonest - dt.timedelta(days=2 - i)
        sql_do(url, "UPDATE appeals SET executor_id = %s, status = 'rework',"
                    " result = 'На доопрацювання / Спростовано куратором',"
                    " created_at = %s, deadline_at = %s WHERE number = %s",
               (rda, deadline - dt.timedelta(days=15), deadline, number))  # fmt: skip
    return numbers


def sql_do(url: str, query: str, params=()) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(query, params)


def open_queue(url: str) -> list[tuple[str, dt.datetime]]:
    """The district administration tree's open work, soonest deadline first (SQL)."""
    return sql(url, "SELECT number, coalesce(extended_until, deadline_at) FROM appeals"
                    " WHERE executor_id = ANY(%s) AND status = ANY(%s)"
                    " ORDER BY coalesce(extended_until, deadline_at), id",
               (list(subtree(url, LOGIN)), list(OPEN_WORK)))  # fmt: skip


@pytest.mark.parametrize("viewport", [DESKTOP, TABLET], ids=["desktop", "tablet"])
def test_an_executor_works_an_appeal_from_the_default_queue_to_answered(
    portal, signed_in, screenshot, reworked, viewport
):
    """The executor's day: the default queue is the open work by deadline, its count that of
    SQL; the first row, chosen by keyboard, is the citizen's overdue appeal back for rework:
    its card shows the citizen's photo, why it came here, the history, the resolutions and
    the deadline; the executor takes it, adds a co-executor, asks for an extension and
    answers with a photo; the citizen then sees the answer's photo above the decision."""
    base, url = portal.base, portal.db
    name = "desktop" if viewport == DESKTOP else "tablet"
    page = signed_in(portal.account("executor"), viewport=viewport)
    queue = open_queue(url)
    target = queue[0][0]
    assert target in reworked
    # The default queue: open work (the closed ones behind the status filter), by deadline.
    assert page.input_value("#status-filter") == "open"
    assert int(page.get_attribute("#cabinet", "data-matched")) == len(queue)
    assert rows(page) == [n for n, _ in queue[:50]]
    expect(page.locator("#queue-status")).to_have_text(
        f"Показано {min(len(queue), 50)} з {len(queue)}.")  # fmt: skip
    assert set(page.locator("#queue tbody td:nth-child(3)").all_inner_texts()) <= {
        "Зареєстровано", "В роботі", "На доопрацюванні"}  # fmt: skip
    shot(page, screenshot, f"executor-default-queue-{name}")

    # The first row by keyboard: its card.
    page.locator("#queue tbody tr").first.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(
        "n => document.getElementById('card-number').textContent === n"
        " && document.getElementById('appeal-card').dataset.photos === '1'", arg=target)  # fmt: skip
    expect(page.locator("#card-status")).to_have_text("На доопрацюванні")
    expect(page.locator("#card-deadline")).to_contain_text("(прострочено)")
    reason = sql(url, "SELECT routing_reason FROM appeals WHERE number = %s", (target,))[0][0]
    expect(page.locator("#card-routing")).to_have_text(reason or "—")
    photo = page.locator("#card-photos img")
    expect(photo).to_have_count(1)
    expect(photo).to_have_attribute("alt", "Фото заявника 1")
    page.wait_for_function(
        "() => { const i = document.querySelector('#card-photos img');"
        " return i && i.complete && i.naturalWidth > 0; }")  # fmt: skip
    expect(page.locator("#card-history li").first).to_contain_text("Зареєстровано")
    expect(page.locator("#card-resolutions")).to_have_text("Резолюцій немає.")
    page.locator("#card-photos-part").scroll_into_view_if_needed()
    screenshot(page, f"executor-card-photos-{name}")

    # Take it, by keyboard.
    page.locator("#act-take").focus()
    page.keyboard.press("Enter")
    wait_action(page)
    expect(page.locator("#card-status")).to_have_text("В роботі")
    assert status_of(url, target) == "in_work"

    # A co-executor (resolutions): a sub-organisation, chosen by keyboard.
    page.locator("#coexec-box summary").focus()
    page.keyboard.press("Enter")
    box = page.locator("#coexec-executors input").first
    unit = box.get_attribute("value")
    box.focus()
    page.keyboard.press("Space")
    page.locator("#coexec-submit").focus()
    page.keyboard.press("Enter")
    wait_action(page)
    expect(page.locator("#card-done")).to_have_text("Співвиконавців додано.")
    expect(page.locator("#card-resolutions li")).to_have_count(1)
    expect(page.locator("#card-resolutions li")).to_contain_text("співвиконавець")
    assert sql(url, "SELECT e.code, r.is_main FROM resolutions r JOIN executors e ON e.id ="
                    " r.executor_id JOIN appeals a ON a.id = r.appeal_id WHERE a.number = %s",
               (target,)) == [(unit, False)]  # fmt: skip

    # Ask for an extension: ten days more (within 45 from registration); the term stays.
    deadline = sql(url, "SELECT deadline_at FROM appeals WHERE number = %s", (target,))[0][0]
    page.locator("#extension-box summary").focus()
    page.keyboard.press("Enter")
    page.fill("#extension-until", (deadline + dt.timedelta(days=10)).date().isoformat())
    page.fill("#extension-reason", "Потрібен підрядник для ремонту покриття.")
    page.locator("#extension-submit").focus()
    page.keyboard.press("Enter")
    wait_action(page)
    expect(page.locator("#card-done")).to_have_text(
        "Прохання продовжити строк надіслано керівнику.")  # fmt: skip
    expect(page.locator("#card-history")).to_contain_text("Прохання продовжити строк")
    assert sql(url, "SELECT count(*) FROM appeal_events e JOIN appeals a ON a.id = e.appeal_id"
                    " WHERE a.number = %s AND e.action = 'ask_extension'", (target,))[0][0] == 1  # fmt: skip

    # Answer with a photo (multipart): on check; the answer's photo on the card.
    page.locator("#answer-box summary").focus()
    page.keyboard.press("Enter")
    page.select_option("#answer-kind", "done")
    page.fill("#answer-text", "Вибоїну залатано, покриття відновлено.")
    page.set_input_files("#answer-photos", [png()])
    page.locator("#answer-submit").focus()
    page.keyboard.press("Enter")
    wait_action(page)
    expect(page.locator("#card-status")).to_have_text("На перевірці")
    assert status_of(url, target) == "on_check"
    expect(page.locator("#card-answer-photos img")).to_have_count(1)
    page.locator("#card-answer-photos-part").scroll_into_view_if_needed()
    screenshot(page, f"executor-answered-{name}")

    # Closed appeals through the status filter only; their count is SQL's.
    page.select_option("#status-filter", "closed")
    wait_ready(page)
    closed = sql(url, "SELECT count(*) FROM appeals WHERE executor_id = ANY(%s)"
                      " AND status = 'closed'", (list(subtree(url, LOGIN)),))[0][0]  # fmt: skip
    assert int(page.get_attribute("#cabinet", "data-matched")) == closed
    assert set(page.locator("#queue tbody td:nth-child(3)").all_inner_texts()) == {"Закрито"}
    # Back to the open work: the answered appeal has left it.
    page.select_option("#status-filter", "open")
    wait_ready(page)
    assert target not in rows(page)
    assert int(page.get_attribute("#cabinet", "data-matched")) == len(open_queue(url))

    # The author's "my appeals": the answer's photo before the decision.
    mine = signed_in(portal.account("citizen"), viewport=viewport)
    mine.goto(base + "/cabinet/appeals")
    mine.wait_for_selector('#my-appeals[data-state="ready"]')
    item = mine.locator(f'.my-item[data-number="{target}"]')
    expect(item.locator(".my-answer-photos img")).to_have_count(1)
    expect(item.locator(".my-decision")).to_be_visible()
    above = item.evaluate(
        "li => Boolean(li.querySelector('.my-answer-photos').compareDocumentPosition("
        "li.querySelector('.my-decision')) & Node.DOCUMENT_POSITION_FOLLOWING)")  # fmt: skip
    assert above
    mine.wait_for_function(
        "n => { const i = document.querySelector(`.my-item[data-number='${n}'] .my-answer-photos"
        " img`); return i && i.complete && i.naturalWidth > 0; }", arg=target)  # fmt: skip
    item.scroll_into_view_if_needed()
    screenshot(mine, f"my-appeals-answer-photos-{name}")
