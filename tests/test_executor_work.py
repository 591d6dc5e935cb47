"""The executor's work over HTTP, on a demo city (issue 12, items 3 and 6): the default queue
of open work ordered by deadline with its count; the card with the citizen's photos, the
routing reason, the history and the resolutions; asking for an extension; and "Загальні
питання", a sub-kind name many kinds share, named with its kind and counted per sub-kind in
the queue, the public feed and the ward's statistics. The demo citizen's own account name is
accepted by the name check."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools

import psycopg
import pytest
from conftest import demo_city
from fastapi.testclient import TestClient

from api import create_app
from gis import accounts, intake
from gis.db import libpq_url
from gis.settings import Settings

_counter = itertools.count()
OPEN_WORK = ("registered", "in_work", "rework")


@pytest.fixture(scope="module")
def demo_url(server_url, template_url, shared_data):
    with demo_city(
        server_url, template_url, shared_data, "executor", seed=11, appeals=800, now=None
    ) as url:
        yield url


@pytest.fixture(scope="module")
def client(demo_url, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("executor-data")
    settings = Settings(database_url=demo_url, data_dir=data_dir, rate_limits_enabled=False)
    with TestClient(create_app(settings)) as c:
        yield c


def sql(url: str, query: str, params=None) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else []


def token(url: str, role: str, **binding) -> str:
    n = next(_counter)

    async def make(conn):
        uid = await accounts.create_user(
            conn, email=f"{role}-{n}@executor.test", password=None,
            full_name=f"Тестовий {role}", role=role, confirmed=True, **binding,
        )  # fmt: skip
        s = await accounts.create_session(conn, user_id=uid, kind="bearer", ip=None,
                                          user_agent="pytest", ttl=dt.timedelta(hours=1))  # fmt: skip
        return s.token

    async def main():
        async with await psycopg.AsyncConnection.connect(libpq_url(url), autocommit=True) as c:
            return await make(c)

    return asyncio.run(main())


def bearer(t: str) -> dict:
    return {"Authorization": f"Bearer {t}"}


@pytest.fixture(scope="module")
def rda(demo_url) -> dict:
    """The district administration with the most appeals, whose sub-organisations exist; a
    dozen of its appeals reopened with deadlines from 5 days ago to 6 days ahead."""
    row = sql(demo_url, "SELECT a.executor_id, count(*) FROM appeals a JOIN executors e"
                        " ON e.id = a.executor_id WHERE e.kind = 'district_administration'"
                        " AND EXISTS (SELECT 1 FROM executors s WHERE s.parent_id = e.id)"
                        " GROUP BY 1 ORDER BY 2 DESC LIMIT 1")  # fmt: skip
    executor_id = row[0][0]
    ids = [r[0] for r in sql(demo_url, "SELECT id FROM appeals WHERE executor_id = %s"
                                       " ORDER BY id DESC LIMIT 12", (executor_id,))]  # fmt: skip
    for i, appeal_id in enumerate(ids):
        sql(demo_url,
            "UPDATE appeals SET status = %s, result = NULL, closed_at = NULL, answered_at = NULL,"
            " extended_until = NULL, created_at = now() - interval '10 days',"
            " deadline_at = now() + make_interval(days => %s) WHERE id = %s",
            (OPEN_WORK[i % 3], i - 5, appeal_id))  # fmt: skip
    return {"id": executor_id, "token": token(demo_url, "executor", executor_id=executor_id)}


def subtree(url: str, executor_id: int) -> list[int]:
    return [r[0] for r in sql(url, "WITH RECURSIVE t(id) AS (SELECT %s::int UNION SELECT e.id"
                                   " FROM executors e JOIN t ON e.parent_id = t.id)"
                                   " SELECT id FROM t", (executor_id,))]  # fmt: skip


# --- the default queue ---------------------------------------------------------------------


def test_the_open_queue_is_ordered_by_deadline_and_counted(client, demo_url, rda):
    mine = subtree(demo_url, rda["id"])
    expected = {r[0]: r[1] for r in sql(
        demo_url, "SELECT number, coalesce(extended_until, deadline_at) FROM appeals"
                  " WHERE executor_id = ANY(%s) AND status = ANY(%s)",
        (mine, list(OPEN_WORK)))}  # fmt: skip
    assert len(expected) >= 12
    seen: list[dict] = []
    params = {"status": "open", "order": "deadline", "count": "true", "limit": "5"}
    for _ in range(100):
        r = client.get("/api/v1/queue", params=params, headers=bearer(rda["token"]))
        assert r.status_code == 200, r.text
        page = r.json()
        assert page["matched"] == len(expected)
        seen += page["items"]
        if not page["next"]:
            break
        params["after"] = page["next"]
    assert [i["number"] for i in seen] == sorted(
        expected, key=lambda n: (expected[n], sql(demo_url, "SELECT id FROM appeals"
                                                            " WHERE number = %s", (n,))[0][0])
    )  # fmt: skip
    assert {i["status"] for i in seen} <= set(OPEN_WORK)
    # The overdue come first: once a row is not overdue, no later one is.
    flags = [i["overdue"] for i in seen]
    assert flags[0] and not flags[-1]
    assert flags == sorted(flags, reverse=True)
    # Closed ones only through the status filter; a bad order or cursor is a 4xx with a code.
    closed = client.get("/api/v1/queue", params={"status": "closed", "count": "true"},
                        headers=bearer(rda["token"])).json()  # fmt: skip
    assert closed["matched"] == sql(demo_url, "SELECT count(*) FROM appeals WHERE executor_id"
                                              " = ANY(%s) AND status = 'closed'", (mine,))[0][0]  # fmt: skip
    assert {i["status"] for i in closed["items"]} == {"closed"}
    for bad in ({"order": "sideways"}, {"order": "deadline", "after": "1-2"},
                {"status": "opened"}):  # fmt: skip
        r = client.get("/api/v1/queue", params=bad, headers=bearer(rda["token"]))
        assert 400 <= r.status_code < 500 and r.json()["code"], r.text


# --- the card --------------------------------------------------------------------------------


def test_the_card_shows_photos_routing_reason_history_and_resolutions(client, demo_url, rda):
    mine = subtree(demo_url, rda["id"])
    number, appeal_id = sql(demo_url, "SELECT number, id FROM appeals WHERE executor_id = %s"
                                      " AND status = 'registered' ORDER BY id DESC LIMIT 1",
                            (rda["id"],))[0]  # fmt: skip
    sql(demo_url, "UPDATE appeals SET is_public = false, routing_reason = 'правило 7: район'"
                  " WHERE id = %s", (appeal_id,))  # fmt: skip
    sql(demo_url, "INSERT INTO appeal_photos (appeal_id, sha256, content_type, bytes, kind)"
                  " VALUES (%s, %s, 'image/jpeg', 100, 'appeal')", (appeal_id, "a" * 64))  # fmt: skip
    sub = sql(demo_url, "SELECT code FROM executors WHERE id = ANY(%s) AND id <> %s"
                        " AND parent_id = %s ORDER BY id LIMIT 1",
              (mine, rda["id"], rda["id"]))[0][0]  # fmt: skip
    r = client.post(f"/api/v1/appeals/{number}/resolutions",
                    json={"co_executors": [{"executor": sub}], "comment": "разом"},
                    headers=bearer(rda["token"]))  # fmt: skip
    assert r.status_code == 200, r.text
    card = client.get(f"/api/v1/queue/{number}", headers=bearer(rda["token"])).json()
    assert card["routing_reason"] == "правило 7: район"
    assert card["photos"] == [{"url": f"/api/v1/photos/{'a' * 64}", "kind": "appeal",
                               "content_type": "image/jpeg", "width": None, "height": None}]  # fmt: skip
    assert [(x["executor"], x["is_main"]) for x in card["resolutions"]] == [(sub, False)]
    assert [e["action"] for e in card["events"]][-1] == "resolutions"
    assert card["deadline_at"]


# --- asking for an extension -------------------------------------------------------------------


def test_an_executor_asks_for_an_extension(client, demo_url, rda):
    number, deadline = sql(demo_url, "SELECT number, deadline_at FROM appeals WHERE executor_id"
                                     " = %s AND status = 'in_work' ORDER BY id LIMIT 1",
                           (rda["id"],))[0]  # fmt: skip
    url = f"/api/v1/appeals/{number}/extension-request"
    headers = bearer(rda["token"])
    r = client.post(url, json={"days": 5}, headers=headers)
    assert r.status_code == 400 and r.json()["parameter"] == "reason"
    r = client.post(url, json={"days": 400, "reason": "Потрібен підрядник."}, headers=headers)
    assert r.status_code == 400 and r.json()["code"] == "extension_over_limit"
    r = client.post(url, json={"days": 5, "reason": "Потрібен підрядник."}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "in_work"
    asked = dt.datetime.fromisoformat(r.json()["requested_until"])
    assert asked == deadline + dt.timedelta(days=5)
    # The term itself is unchanged; the request is in the staff's trail, not the public one.
    assert sql(demo_url, "SELECT extended_until FROM appeals WHERE number = %s",
               (number,))[0][0] is None  # fmt: skip
    events = client.get(f"/api/v1/queue/{number}", headers=headers).json()["events"]
    assert events[-1]["action"] == "ask_extension"
    assert events[-1]["comment"] == "Потрібен підрядник."
    public = client.get(f"/api/v1/appeals/{number}/history").json()["events"]
    assert "ask_extension" not in {e["action"] for e in public}
    # A citizen may not; a closed appeal is a 409.
    citizen = token(demo_url, "citizen")
    r = client.post(url, json={"days": 1, "reason": "x"}, headers=bearer(citizen))
    assert r.status_code == 403
    closed = sql(demo_url, "SELECT number FROM appeals WHERE executor_id = %s"
                           " AND status = 'closed' LIMIT 1", (rda["id"],))[0][0]  # fmt: skip
    r = client.post(f"/api/v1/appeals/{closed}/extension-request",
                    json={"days": 1, "reason": "x"}, headers=headers)  # fmt: skip
    assert r.status_code == 409


# --- "Загальні питання": with its kind, counted per sub-kind -------------------------------------


def _general(url: str) -> list[tuple[int, str]]:
    """The sub-kinds whose name other categories share: (id, "<kind> — <name>")."""
    return sql(url, "SELECT c.id, p.name || ' — ' || c.name FROM categories c"
                    " JOIN categories p ON p.id = c.parent_id WHERE EXISTS (SELECT 1 FROM"
                    " categories o WHERE o.name = c.name AND o.id <> c.id)")  # fmt: skip


def test_a_shared_sub_kind_name_is_shown_with_its_kind(client, demo_url):
    shared = dict(_general(demo_url))
    assert len(shared) > 1  # many kinds have their own "Загальні питання"
    assert any(label.endswith("Загальні питання") for label in shared.values())
    operator = token(demo_url, "operator")
    used = sql(demo_url, "SELECT category_id, count(*) FROM appeals WHERE category_id = ANY(%s)"
                         " GROUP BY 1 ORDER BY 2 DESC LIMIT 1", (list(shared),))  # fmt: skip
    cat = used[0][0]
    queue = client.get("/api/v1/queue", params={"category": cat},
                       headers=bearer(operator)).json()  # fmt: skip
    assert queue["items"] and {i["category"] for i in queue["items"]} == {shared[cat]}
    feed = client.get("/api/v1/appeals/public", params={"category": cat, "period": "all"})
    assert feed.status_code == 200, feed.text
    names = {f["category"]["name"] for f in feed.json()["items"]}
    assert names <= {shared[cat]}
    # A category whose name is its own stays as it is.
    plain = sql(demo_url, "SELECT c.id, c.name FROM appeals a JOIN categories c"
                          " ON c.id = a.category_id WHERE NOT (c.id = ANY(%s)) LIMIT 1",
                (list(shared),))[0]  # fmt: skip
    queue = client.get("/api/v1/queue", params={"category": plain[0]},
                       headers=bearer(operator)).json()  # fmt: skip
    assert {i["category"] for i in queue["items"]} == {plain[1]}


def test_the_ward_statistics_count_per_sub_kind(client, demo_url):
    shared = dict(_general(demo_url))
    ward = sql(demo_url, "SELECT w.number FROM appeals a JOIN wards w ON w.id = a.ward_id"
                         " WHERE a.category_id = ANY(%s) GROUP BY 1"
                         " ORDER BY count(DISTINCT a.category_id) DESC LIMIT 1",
               (list(shared),))[0][0]  # fmt: skip
    expected = dict(sql(demo_url, "SELECT a.category_id, count(*) FROM appeals a JOIN wards w"
                                  " ON w.id = a.ward_id WHERE w.number = %s GROUP BY 1",
                        (ward,)))  # fmt: skip
    operator = token(demo_url, "operator")
    stats = client.get(f"/api/v1/wards/{ward}/statistics", headers=bearer(operator))
    assert stats.status_code == 200, stats.text
    rows = stats.json()["by_category"]
    assert {r["category_id"]: r["count"] for r in rows} == expected
    for r in rows:
        if r["category_id"] in shared:
            assert r["category"] == shared[r["category_id"]]
    labels = [r["category"] for r in rows]
    assert len(labels) == len(set(labels))  # no two rows named alike


# --- the name check ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Мешканка Києва (демо)", "Петренко І. М."])
def test_the_demo_citizens_own_name_is_accepted(name):
    citizen = intake.Submitter(user_id=1, role="citizen", full_name=name, email="c@demo.test")
    author = intake.check_author(intake.Author(postal_address="Київ, вул. Хрещатик, 1"), citizen)
    assert author.full_name == name
    with pytest.raises(intake.InvalidInput):
        intake.check_author(intake.Author(full_name="Оксана 007", postal_address="Київ",
                                          email="o@x.test"), citizen)  # fmt: skip


# --- after filing, "Мої звернення" ----------------------------------------------------------------


def test_after_filing_my_appeals_leads_to_the_citizens_list(client):
    page = client.get("/appeal/new")
    assert page.status_code == 200
    link = page.text.split('id="done-mine"', 1)[1].split("</p>", 1)[0]
    assert 'href="/cabinet/appeals"' in link, link
    assert client.get("/cabinet/appeals").status_code == 200
