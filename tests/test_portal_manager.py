"""The manager's АРМ, in Debian's chromium: from /cabinet to /manager, whose counts (all
unexecuted, overdue, due within 2 days, due later, under personal control — in total and by
sub-organisation) equal SQL counts on the demo city; the manager issues a resolution with a
main executor and two co-executors (each with the deadline and the text), puts the appeal under
personal control (audited, never in the public history), downloads the list as CSV, and of two
executors' requests for a longer term grants one and declines the other (with a reason, never
in the public history).
Desktop and tablet (1024×768); no JavaScript errors."""

from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import psycopg
from browser import DESKTOP

SEED = 11
TABLET = {"width": 1024, "height": 768}
BUCKETS = {
    "open": "true",
    "overdue": "coalesce(extended_until, deadline_at) < now()",
    "due_2d": "coalesce(extended_until, deadline_at) >= now()"
    " AND coalesce(extended_until, deadline_at) < now() + interval '2 days'",
    "due_later": "coalesce(extended_until, deadline_at) >= now() + interval '2 days'",
    "control": "control_until IS NOT NULL",
    # A request for a longer term awaiting a decision: no grant or refusal after the latest.
    "extension": "(SELECT max(id) FROM appeal_events v WHERE v.appeal_id = appeals.id"
    " AND v.action = 'ask_extension') > coalesce((SELECT max(id) FROM appeal_events v"
    " WHERE v.appeal_id = appeals.id AND v.action IN ('extend', 'decline_extension')), 0)",
}
ASKER = "Виконавиця для тесту строків"
ASKED = "Потрібен підрядник для ремонту"


def manager_executor(conn) -> int:
    return conn.execute("SELECT executor_id FROM users WHERE role = 'manager' ORDER BY id LIMIT 1"
                        ).fetchone()[0]  # fmt: skip


def reopen(url: str) -> None:
    """The newest few of the manager's organisation itself come back as just registered, due
    in 10 days (the demo's year is almost all closed)."""
    with psycopg.connect(url) as conn:
        conn.execute(
            "UPDATE appeals SET status = 'registered', result = NULL, closed_at = NULL,"
            " answered_at = NULL, extended_until = NULL, deadline_at = now() + interval '10 days'"
            " WHERE id IN (SELECT id FROM appeals WHERE executor_id = %s ORDER BY id DESC LIMIT 3)",
            (manager_executor(conn),),
        )


def ask_extensions(url: str) -> None:
    """Two of those ask for a longer term (5 days more), as an executor does (the event
    gis/lifecycle.ask_extension writes); registered yesterday, so the 45 days allow it."""
    with psycopg.connect(url) as conn:
        for (appeal_id,) in conn.execute(
            "SELECT id FROM appeals WHERE executor_id = %s ORDER BY id DESC LIMIT 2 OFFSET 1",
            (manager_executor(conn),),
        ).fetchall():
            conn.execute("UPDATE appeals SET created_at = now() - interval '1 day' WHERE id = %s",
                         (appeal_id,))  # fmt: skip
            conn.execute(
                "INSERT INTO appeal_events (appeal_id, actor, action, old, new, comment, internal)"
                " SELECT id, %s, 'ask_extension', '{}', jsonb_build_object('requested_until',"
                " deadline_at + interval '5 days'), %s, true FROM appeals WHERE id = %s",
                (ASKER, ASKED, appeal_id),
            )


def prepare(url: str) -> None:
    reopen(url)
    ask_extensions(url)


PORTAL = {"seed": SEED, "appeals": 1500, "prepare": prepare}


def sql(url: str, query: str, params=()) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def subtree(url: str) -> list[int]:
    with psycopg.connect(url) as conn:
        top = manager_executor(conn)
        rows = conn.execute(
            "WITH RECURSIVE t(id) AS (SELECT %s::int UNION SELECT e.id FROM executors e"
            " JOIN t ON e.parent_id = t.id) SELECT id FROM t",
            (top,),
        ).fetchall()
    return [r[0] for r in rows]


def expected(url: str, executor: int | None = None) -> dict[str, int]:
    ids = subtree(url) if executor is None else [executor]
    return {
        b: sql(url, f"SELECT count(*) FROM appeals WHERE executor_id = ANY(%s)"
                    f" AND status <> 'closed' AND {cond}", (ids,))[0][0]
        for b, cond in BUCKETS.items()
    }  # fmt: skip


def shown(page) -> dict[str, int]:
    return page.evaluate(
        "() => Object.fromEntries([...document.querySelectorAll('.count')]"
        ".map(s => [s.id.replace('count-', ''), Number(s.dataset.count)]))"
    )


def shown_units(page) -> dict[int, dict[str, int]]:
    rows = page.evaluate(
        "() => [...document.querySelectorAll('#by-unit tbody tr')].map(r => [Number("
        "r.dataset.executor), Object.fromEntries([...r.querySelectorAll('td')].map("
        "c => [c.dataset.bucket, Number(c.dataset.count)]))])"
    )
    return {executor: counts for executor, counts in rows}


def wait_list(page, bucket: str) -> None:
    page.wait_for_function("b => document.getElementById('list').dataset.bucket === b", arg=bucket)


def test_a_manager_issues_a_resolution_and_sets_personal_control(
    portal, signed_in, screenshot, browser_log
):
    base, url = portal.base, portal.db
    manager = portal.account("manager")
    page = signed_in(manager, viewport=DESKTOP)
    assert page.is_visible("#link-manager")
    page.click("#link-manager")
    page.wait_for_url(base + "/manager")
    page.wait_for_selector('#manager[data-state="ready"]', timeout=20_000)
    before = expected(url)
    assert before["open"] > 0 and before["due_later"] >= 3
    assert shown(page) == before
    units = shown_units(page)
    assert units and sum(u["open"] for u in units.values()) == before["open"]
    for executor, counts in units.items():
        assert counts == expected(url, executor), executor
    assert int(page.get_attribute("#list", "data-count")) == before["open"]
    # The map: every located unexecuted appeal, coloured by lateness as the counts are.
    page.wait_for_selector("#late-map[data-markers]")
    located = {
        b: sql(url, "SELECT count(*) FROM appeals WHERE executor_id = ANY(%s) AND status <>"
                    f" 'closed' AND geom IS NOT NULL AND {BUCKETS[b]}", (subtree(url),))[0][0]
        for b in ("open", "overdue", "due_2d", "due_later")
    }  # fmt: skip
    assert int(page.get_attribute("#late-map", "data-markers")) == located["open"] > 0
    for late in ("overdue", "due_2d", "due_later"):
        assert int(page.get_attribute("#late-map", f"data-{late}")) == (located[late]), late
    assert page.locator("#late-map path.leaflet-interactive").count() == located["open"]

    # An appeal of the organisation itself: a resolution to two of its sub-organisations.
    top = sql(url, "SELECT executor_id FROM users WHERE email = %s", (manager.login,))[0][0]
    number = sql(url, "SELECT number FROM appeals WHERE executor_id = %s AND status ="
                      " 'registered' ORDER BY id DESC LIMIT 1", (top,))[0][0]  # fmt: skip
    # The main executor a unit right below; the co-executor one below that (a housing office).
    main_id, main = sql(url, "SELECT id, code FROM executors WHERE parent_id = %s ORDER BY id"
                             " LIMIT 1", (top,))[0]  # fmt: skip
    co = sql(url, "SELECT code FROM executors WHERE parent_id = %s ORDER BY id LIMIT 1",
             (main_id,))[0][0]  # fmt: skip
    # A second co-executor: another unit of the organisation.
    co2 = sql(url, "SELECT code FROM executors WHERE id = ANY(%s) AND id <> ALL(%s)"
                   " AND code <> %s ORDER BY id LIMIT 1",
              (subtree(url), [top, main_id], co))[0][0]  # fmt: skip
    page.click('.queue-tab[data-bucket="due_later"]')
    wait_list(page, "due_later")
    page.click(f'#list tbody tr[data-number="{number}"] button')
    page.wait_for_function("n => document.getElementById('card').dataset.number === n",
                           arg=number)  # fmt: skip
    page.select_option("#res-main", main)
    page.check(f'#res-co input[value="{co}"]')
    page.check(f'#res-co input[value="{co2}"]')
    page.fill(f'#res-co .co-text[data-executor="{co}"]', "Засипати яму, фото — в системі")
    page.fill(f'#res-co .co-text[data-executor="{co2}"]', "Відновити освітлення над ямою")
    due = (dt.date.today() + dt.timedelta(days=5)).isoformat()
    page.fill("#res-deadline", due)
    own = (dt.date.today() + dt.timedelta(days=4)).isoformat()  # the co-executor's own
    page.fill(f'#res-co .co-deadline[data-executor="{co}"]', own)
    page.click("#res-submit")
    assert "текст резолюції" in page.inner_text("#res-error")  # the text is required
    page.fill("#res-text", "Усунути до кінця тижня, фото — в системі")
    page.click("#res-submit")
    page.wait_for_function("() => document.getElementById('card-done').textContent !== ''")
    got = sql(url, "SELECT e.code, r.is_main, r.deadline_at::date, r.comment FROM resolutions r"
                   " JOIN executors e ON e.id = r.executor_id JOIN appeals a ON a.id = r.appeal_id"
                   " WHERE a.number = %s ORDER BY r.is_main DESC, r.id", (number,))  # fmt: skip
    assert got == [
        (main, True, dt.date.fromisoformat(due), "Усунути до кінця тижня, фото — в системі"),
        (co, False, dt.date.fromisoformat(own), "Засипати яму, фото — в системі"),
        (co2, False, dt.date.fromisoformat(due), "Відновити освітлення над ямою"),
    ]
    assert sql(url, "SELECT e.code FROM appeals a JOIN executors e ON e.id = a.executor_id"
                    " WHERE a.number = %s", (number,)) == [(main,)]  # fmt: skip
    page.wait_for_function("() => document.getElementById('resolutions').dataset.rows === '3'")
    assert page.inner_text(f'#resolutions tr[data-executor="{co2}"] td:nth-child(4)') == (
        "Відновити освітлення над ямою"
    )
    screenshot(page, "manager_resolution")

    # Personal control: a date, kept with who set it, audited; the count follows.
    until = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    page.fill("#control-until", until)
    page.click("#control-set")
    page.wait_for_function(
        "n => Number(document.getElementById('count-control').dataset.count) === n",
        arg=before["control"] + 1,
    )
    assert sql(url, "SELECT a.control_until, u.email FROM appeals a JOIN users u"
                    " ON u.id = a.control_by WHERE a.number = %s", (number,)) == [
        (dt.date.fromisoformat(until), manager.login)
    ]  # fmt: skip
    assert sql(url, "SELECT e.internal, e.new ->> 'control_until' FROM appeal_events e"
                    " JOIN appeals a ON a.id = e.appeal_id WHERE a.number = %s"
                    " AND e.action = 'control'", (number,)) == [(True, until)]  # fmt: skip
    history = page.request.get(f"{base}/api/v1/appeals/{number}/history").json()
    assert "control" not in {e["action"] for e in history["events"]}
    assert shown(page) == expected(url)
    page.click('.queue-tab[data-bucket="control"]')
    wait_list(page, "control")
    assert page.locator(f'#list tbody tr[data-number="{number}"]').count() == 1
    screenshot(page, "manager_control")

    # The table as CSV: the same rows as the list.
    href = page.get_attribute("#csv-link", "href")
    answer = page.request.get(base + href)
    assert answer.status == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.text().lstrip("\ufeff"))))
    assert rows[0][0] == "Номер"
    # Registered and due as Kyiv's date and time, as a spreadsheet reads them (not UTC ISO).
    ((created,),) = sql(url, "SELECT to_char(created_at AT TIME ZONE 'Europe/Kyiv',"
                             " 'YYYY-MM-DD HH24:MI') FROM appeals WHERE number = %s",
                        (rows[1][0],))  # fmt: skip
    assert rows[1][rows[0].index("Зареєстровано")] == created
    assert [r[0] for r in rows[1:]] == page.locator("#list tbody tr").evaluate_all(
        "rs => rs.map(r => r.dataset.number)"
    )
    # Lifting the control.
    page.click(f'#list tbody tr[data-number="{number}"] button')
    page.wait_for_function("() => !document.getElementById('control-lift').disabled")
    page.click("#control-lift")
    page.wait_for_function(
        "n => Number(document.getElementById('count-control').dataset.count) === n",
        arg=before["control"],
    )
    assert sql(url, "SELECT control_until, control_by FROM appeals WHERE number = %s",
               (number,)) == [(None, None)]  # fmt: skip

    # Requests for a longer term: counted as SQL counts them, listed, granted and declined.
    asked = sql(url, "SELECT a.number, e.new ->> 'requested_until' FROM appeal_events e JOIN"
                     " appeals a ON a.id = e.appeal_id WHERE e.actor = %s ORDER BY a.id", (ASKER,))  # fmt: skip
    (granted, until), (declined, _) = asked
    before = expected(url)
    assert before["extension"] >= 2
    page.wait_for_function(
        "n => Number(document.getElementById('count-extension').dataset.count) === n",
        arg=before["extension"],
    )
    assert shown(page) == before
    assert sum(u["extension"] for u in shown_units(page).values()) == before["extension"]
    page.click('.queue-tab[data-bucket="extension"]')
    wait_list(page, "extension")
    assert int(page.get_attribute("#list", "data-count")) == before["extension"]
    page.click(f'#list tbody tr[data-number="{granted}"] button')
    page.wait_for_function("n => document.getElementById('card').dataset.number === n",
                           arg=granted)  # fmt: skip
    assert page.get_attribute("#extension", "data-state") == "pending"
    assert ASKER in page.inner_text("#ext-asked") and page.inner_text("#ext-reason") == ASKED
    kyiv_day = dt.datetime.fromisoformat(until).astimezone(ZoneInfo("Europe/Kyiv")).date()
    assert page.input_value("#ext-until") == kyiv_day.isoformat()
    assert page.input_value("#ext-grant-reason") == ASKED  # the reason, editable
    assert page.inner_text("#ext-grant").startswith("Продовжити до ")
    page.fill("#ext-grant-reason", ASKED + ": погоджено")
    page.click("#ext-grant")
    page.wait_for_function("() => document.getElementById('extension').dataset.state === 'granted'")
    assert sql(url, "SELECT extended_until FROM appeals WHERE number = %s", (granted,)) == [
        (dt.datetime.fromisoformat(until),)
    ]  # fmt: skip
    assert int(page.get_attribute("#count-extension", "data-count")) == before["extension"] - 1
    screenshot(page, "manager_extension_granted")
    # The other: a refusal needs a reason; then it is an internal event, never public.
    page.click(f'#list tbody tr[data-number="{declined}"] button')
    page.wait_for_function("n => document.getElementById('card').dataset.number === n",
                           arg=declined)  # fmt: skip
    page.click("#ext-decline")
    assert "причину відмови" in page.inner_text("#ext-error")
    page.fill("#ext-decline-reason", "Роботи на один день: строку досить")
    page.click("#ext-decline")
    page.wait_for_function(
        "() => document.getElementById('extension').dataset.state === 'declined'"
    )
    assert sql(url, "SELECT e.internal, e.comment FROM appeal_events e JOIN appeals a"
                    " ON a.id = e.appeal_id WHERE a.number = %s AND e.action = 'decline_extension'",
               (declined,)) == [(True, "Роботи на один день: строку досить")]  # fmt: skip
    assert sql(url, "SELECT extended_until FROM appeals WHERE number = %s", (declined,)) == [
        (None,)
    ]
    history = page.request.get(f"{base}/api/v1/appeals/{declined}/history")
    assert "decline_extension" not in history.text() and "строку досить" not in history.text()
    assert shown(page) == expected(url)
    assert expected(url)["extension"] == before["extension"] - 2
    assert int(page.get_attribute("#list", "data-count")) == before["extension"] - 2
    screenshot(page, "manager_extension_declined")
    assert browser_log.errors == []


def test_the_manager_desk_on_a_tablet_in_english(portal, signed_in, screenshot, browser_log):
    page = signed_in("manager", viewport=TABLET)
    page.goto(portal.base + "/manager?lang=en")
    page.wait_for_selector('#manager[data-state="ready"]', timeout=20_000)
    assert page.inner_text("h1") == "Manager's desk"
    assert shown(page) == expected(portal.db)
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, "manager_tablet_en")
    answer = page.request.get(portal.base + "/api/v1/manager/appeals.csv?bucket=overdue",
                              headers={"Accept-Language": "en"})  # fmt: skip
    assert answer.text().lstrip("\ufeff").startswith("Number,Category,Address,Status")
    assert browser_log.errors == []


def test_the_manager_api_refuses_bad_input(portal, signed_in):
    page = signed_in("manager", viewport=DESKTOP)
    bad = page.request.get(portal.base + "/api/v1/manager/appeals?bucket=nope")
    assert bad.status == 400 and bad.json()["code"] == "invalid_value"
    token = page.evaluate("() => sessionStorage.getItem('hromada.csrf')")
    number = page.evaluate(
        "() => fetch('/api/v1/manager/appeals?limit=1').then(r => r.json())"
        ".then(b => b.items[0].number)"
    )
    past = page.request.post(
        f"{portal.base}/api/v1/appeals/{number}/control",
        data={"until": "2001-01-01"}, headers={"X-CSRF-Token": token},
    )  # fmt: skip
    assert past.status == 400 and past.json()["code"] == "invalid_value"
    missing = page.request.post(
        f"{portal.base}/api/v1/appeals/{number}/control", data={},
        headers={"X-CSRF-Token": token},
    )  # fmt: skip
    assert missing.status == 400 and missing.json()["code"] == "field_required"
    # Control is for open appeals: a closed one is a 409 naming the action and the statuses.
    closed = sql(
        portal.db,
        "SELECT number FROM appeals WHERE status = 'closed' AND executor_id = ANY(%s) LIMIT 1",
        (subtree(portal.db),),
    )[0][0]
    refused = page.request.post(
        f"{portal.base}/api/v1/appeals/{closed}/control",
        data={"until": dt.date.today().isoformat()}, headers={"X-CSRF-Token": token},
    )  # fmt: skip
    assert refused.status == 409 and "«control»" in refused.json()["detail"]
    assert "«Закрито»" in refused.json()["detail"]


def test_the_resolution_form_offers_only_what_the_api_takes(portal, signed_in, browser_log):
    """Only sub-organisations of the appeal's executor, only while it is worked on, and no
    date after the appeal's term: an appeal of a housing office (no units below it) and one
    already answered say there is no one to give it to instead of a form the API refuses."""
    url = portal.db
    with psycopg.connect(url) as conn:
        top = manager_executor(conn)
    below = [i for i in subtree(url) if i != top]
    (leaf,) = sql(url, "SELECT min(id) FROM executors e WHERE id = ANY(%s) AND NOT EXISTS"
                       " (SELECT 1 FROM executors c WHERE c.parent_id = e.id)", (below,))[0]  # fmt: skip
    numbers = {}
    for name, executor, status in (("top", top, "in_work"), ("leaf", leaf, "registered"),
                                   ("answered", top, "on_check")):  # fmt: skip
        numbers[name] = sql(url, """
            UPDATE appeals SET status = %s, executor_id = %s, closed_at = NULL,
                   extended_until = NULL, deadline_at = now() + interval '20 days'
             WHERE id = (SELECT id FROM appeals WHERE executor_id = %s
                            AND number <> ALL(%s) ORDER BY id LIMIT 1) RETURNING number""",
            (status, executor, top, list(numbers.values())))[0][0]  # fmt: skip
    page = signed_in("manager", viewport=DESKTOP)
    page.goto(portal.base + "/manager")
    page.wait_for_selector('#manager[data-state="ready"]', timeout=20_000)
    page.click('.queue-tab[data-bucket="due_later"]')
    wait_list(page, "due_later")

    def open_card(number):
        page.click(f'#list tbody tr[data-number="{number}"] button')
        page.wait_for_function("n => document.getElementById('card').dataset.number === n",
                               arg=number)  # fmt: skip

    open_card(numbers["top"])
    offered = page.evaluate("() => [...document.querySelectorAll('#res-co input[type=checkbox]')]"
                            ".map(b => b.value)")  # fmt: skip
    codes = {c for (c,) in sql(url, "SELECT code FROM executors WHERE id = ANY(%s)", (below,))}
    assert offered and set(offered) == codes  # the organisation itself is not offered
    term = sql(url, "SELECT (deadline_at AT TIME ZONE 'UTC')::date FROM appeals WHERE number = %s",
               (numbers["top"],))[0][0]  # fmt: skip
    assert page.get_attribute("#res-deadline", "max") == term.isoformat()
    assert page.is_visible("#res-submit") and page.is_hidden("#res-none")
    for name in ("leaf", "answered"):
        open_card(numbers[name])
        assert page.is_visible("#res-none"), name
        assert page.is_hidden("#res-submit"), name
        assert page.get_attribute("#resolution-form", "data-offered") == "0"
    assert "немає підпорядкованих" not in page.inner_text("#res-none")  # the answered one
    assert browser_log.errors == []
