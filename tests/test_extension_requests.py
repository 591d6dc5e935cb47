"""An executor's request for a longer term, as the manager sees it (gis/lifecycle.py
extension_request, decline_extension; gis/manager.py's 'extension' bucket): the count of
requests awaiting a decision equals SQL, granting (extend) or declining (with a reason) clears
it, the decline is never in the public history, and the executor's card tells the outcome.
Resolutions: each co-executor with a text of its own, stored and listed.

The small city of tests/test_lifecycle.py (RDA 1 with a housing office under it, RDA 2)."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from test_lifecycle import City, sql

from api import create_app
from gis.settings import Settings

# What "awaiting a decision" means, written independently of gis/: the appeal is open and its
# latest request came after every grant or refusal.
PENDING = """
    SELECT count(*) FROM appeals a WHERE a.status <> 'closed' AND a.executor_id = ANY(%s)
    AND (SELECT max(id) FROM appeal_events WHERE appeal_id = a.id AND action = 'ask_extension')
      > coalesce((SELECT max(id) FROM appeal_events WHERE appeal_id = a.id
                  AND action IN ('extend', 'decline_extension')), 0)
"""


@pytest.fixture
def city(db_url, smtp_server, tmp_path):
    settings = Settings(database_url=db_url, smtp_host="127.0.0.1", smtp_port=smtp_server.port,
                        rate_limits_enabled=False, demo_mode=False,
                        data_dir=tmp_path)  # fmt: skip
    with TestClient(create_app(settings)) as client:
        yield City(db_url, client, smtp_server)


def pending_sql(city: City) -> int:
    return sql(city.url, PENDING, ([city.rda1, city.jed1],))[0][0]


def ask(city: City, number: str, days: int = 5, who: str = "executor", reason="Потрібен підрядник"):
    r = city.client.post(f"/api/v1/appeals/{number}/extension-request",
                         json={"days": days, "reason": reason}, headers=city.h(who))  # fmt: skip
    assert r.status_code == 200, r.text
    return r.json()


def summary(city: City) -> dict:
    r = city.client.get("/api/v1/manager/summary", headers=city.h("manager"))
    assert r.status_code == 200, r.text
    return r.json()


def test_pending_requests_are_counted_granted_and_declined(city):
    a, b, c = city.appeal("in_work"), city.appeal("registered"), city.appeal("in_work")
    d = city.appeal("in_work", executor=city.jed1)
    assert summary(city)["total"]["extension"] == 0 == pending_sql(city)
    asked_a = ask(city, a, 5)
    ask(city, b, 7)
    ask(city, c, 3)
    ask(city, d, 4, who="jed", reason="Чекаємо на матеріали")
    # A second request of the same appeal is still one appeal awaiting a decision.
    ask(city, c, 6, reason="Підрядник не встигає")
    got = summary(city)
    assert got["total"]["extension"] == 4 == pending_sql(city)
    by_unit = {r["code"]: r["extension"] for r in got["rows"]}
    assert by_unit == {"rda1": 3, "jed1": 1}
    listed = city.client.get("/api/v1/manager/appeals?bucket=extension",
                             headers=city.h("manager")).json()  # fmt: skip
    assert listed["count"] == 4 and {i["number"] for i in listed["items"]} == {a, b, c, d}

    # The card shows the latest request: who asked, the reason, when, the term asked for.
    card = city.client.get(f"/api/v1/queue/{c}", headers=city.h("manager")).json()
    request = card["extension_request"]
    assert request["state"] == "pending" and request["reason"] == "Підрядник не встигає"
    assert request["asked_by"].startswith("Співробітник executor")
    assert request["asked_at"] and request["requested_until"]
    assert (
        city.client.get(
            f"/api/v1/queue/{city.appeal('in_work')}", headers=city.h("manager")
        ).json()["extension_request"]
        is None
    )

    # Granted with extend (the term asked for): no longer pending; the card says until when.
    r = city.client.post(f"/api/v1/appeals/{a}/extend",
                         json={"until": asked_a["requested_until"], "reason": "Погоджено"},
                         headers=city.h("manager"))  # fmt: skip
    assert r.status_code == 200, r.text
    assert summary(city)["total"]["extension"] == 3 == pending_sql(city)
    request = city.client.get(f"/api/v1/queue/{a}", headers=city.h("executor")).json()[
        "extension_request"
    ]
    assert request["state"] == "granted" and request["decision_reason"] == "Погоджено"
    assert dt.datetime.fromisoformat(request["extended_until"]) == dt.datetime.fromisoformat(
        asked_a["requested_until"]
    )

    # Declined: a reason is required (400, nothing written), then the request is cleared.
    before = len(city.events(b))
    for body in ({}, {"reason": "  "}):
        r = city.client.post(f"/api/v1/appeals/{b}/extension-decline", json=body,
                             headers=city.h("manager"))  # fmt: skip
        assert r.status_code == 400 and r.json()["code"] == "field_required", r.text
        assert r.json()["parameter"] == "reason"
    assert len(city.events(b)) == before
    r = city.client.post(f"/api/v1/appeals/{b}/extension-decline",
                         json={"reason": "Строку досить: роботи на один день"},
                         headers=city.h("curator"))  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "registered" and r.json()["requested_until"]
    assert summary(city)["total"]["extension"] == 2 == pending_sql(city)
    assert city.row(b)[0] == "registered" and city.row(b)[3] is None  # the term is unchanged
    action, old, new, comment, _ = city.events(b)[-1]
    assert (action, comment) == ("decline_extension", "Строку досить: роботи на один день")
    assert sql(city.url, "SELECT internal FROM appeal_events WHERE action = 'decline_extension'"
               ) == [(True,)]  # fmt: skip
    request = city.client.get(f"/api/v1/queue/{b}", headers=city.h("executor")).json()[
        "extension_request"
    ]
    assert request["state"] == "declined"
    assert request["decision_reason"] == "Строку досить: роботи на один день"
    # Never in the public history: neither the request nor its refusal, nor their words.
    history = city.client.get(f"/api/v1/appeals/{b}/history")
    assert history.status_code == 200
    assert {e["action"] for e in history.json()["events"]} & {
        "ask_extension",
        "decline_extension",
    } == set()
    assert "Строку досить" not in history.text and "підрядник" not in history.text.lower()

    # Nothing left to decline: 409 in both languages; the executor may not decline at all.
    r = city.client.post(f"/api/v1/appeals/{b}/extension-decline", json={"reason": "Ні"},
                         headers=city.h("manager"))  # fmt: skip
    assert r.status_code == 409 and r.json()["code"] == "extension_request_none"
    assert b in r.json()["detail"]
    r = city.client.post(f"/api/v1/appeals/{b}/extension-decline", json={"reason": "No"},
                         headers=city.h("manager", "en"))  # fmt: skip
    assert r.status_code == 409 and r.json()["detail"].startswith(f"Appeal No. {b} has no")
    r = city.client.post(f"/api/v1/appeals/{c}/extension-decline", json={"reason": "Ні"},
                         headers=city.h("executor"))  # fmt: skip
    assert r.status_code == 403
    # Outside the manager's organisation: 404.
    other = city.appeal("in_work", executor=city.rda2)
    ask(city, other, who="rda2")
    r = city.client.post(f"/api/v1/appeals/{other}/extension-decline", json={"reason": "Ні"},
                         headers=city.h("manager"))  # fmt: skip
    assert r.status_code == 404

    # A new request after a refusal is pending again; closing the appeal lapses it.
    ask(city, b, 9, reason="Знову просимо")
    assert summary(city)["total"]["extension"] == 3 == pending_sql(city)
    sql(city.url, "UPDATE appeals SET status = 'closed', closed_at = now() WHERE number = %s",
        (d,))  # fmt: skip
    assert summary(city)["total"]["extension"] == 2 == pending_sql(city)
    request = city.client.get(f"/api/v1/queue/{b}", headers=city.h("manager")).json()[
        "extension_request"
    ]
    assert request["state"] == "pending" and request["reason"] == "Знову просимо"


def test_each_co_executor_has_a_text_of_its_own(city):
    number = city.appeal("in_work")
    jed2 = sql(city.url, "INSERT INTO executors (code, name, short_name, kind, parent_id)"
                         " VALUES ('jed2', 'ЖЕД 2', 'JED2', 'housing_office', %s) RETURNING id",
               (city.rda1,))[0][0]  # fmt: skip
    # The manager's scope is resolved at sign-in: a fresh session sees the new unit.
    city.tokens["manager"] = city.token(city.users["manager"])
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).isoformat()
    r = city.client.post(
        f"/api/v1/appeals/{number}/resolutions",
        json={"co_executors": [
            {"executor": "jed1", "deadline_at": soon, "text": "Засипати яму"},
            {"executor": "jed2", "text": " "},
        ], "comment": "Спільна резолюція"},
        headers=city.h("manager"),
    )  # fmt: skip
    assert r.status_code == 200, r.text
    assert [(x["executor"], x["text"]) for x in r.json()["resolutions"]] == [
        ("jed1", "Засипати яму"), ("jed2", "Спільна резолюція"),
    ]  # fmt: skip
    assert sql(city.url, "SELECT executor_id, comment FROM resolutions ORDER BY id") == [
        (city.jed1, "Засипати яму"), (jed2, "Спільна резолюція"),
    ]  # fmt: skip
    listed = city.client.get(f"/api/v1/appeals/{number}/resolutions", headers=city.h("executor"))
    assert [(x["executor"], x["text"]) for x in listed.json()["resolutions"]] == [
        ("jed1", "Засипати яму"), ("jed2", "Спільна резолюція"),
    ]  # fmt: skip
    card = city.client.get(f"/api/v1/queue/{number}", headers=city.h("executor")).json()
    assert [x["text"] for x in card["resolutions"]] == ["Засипати яму", "Спільна резолюція"]
    # A new text for the same co-executor replaces its text; none given keeps it.
    r = city.client.post(
        f"/api/v1/appeals/{number}/resolutions",
        json={"co_executors": [{"executor": "jed1", "text": "Засипати й заасфальтувати"},
                               {"executor": "jed2"}]},
        headers=city.h("manager"),
    )  # fmt: skip
    assert r.status_code == 200, r.text
    assert sql(city.url, "SELECT comment FROM resolutions ORDER BY id") == [
        ("Засипати й заасфальтувати",), ("Спільна резолюція",),
    ]  # fmt: skip
    # A text that is not a string, or too long: 400.
    for bad in (12, "я" * 4001):
        r = city.client.post(f"/api/v1/appeals/{number}/resolutions",
                             json={"co_executors": [{"executor": "jed1", "text": bad}]},
                             headers=city.h("manager"))  # fmt: skip
        assert r.status_code == 400 and r.json()["parameter"] == "text", r.text
