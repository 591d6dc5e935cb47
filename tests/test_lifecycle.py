"""The 1551 lifecycle (gis/lifecycle.py) over HTTP: every allowed and every refused transition
of the table, re-routing of an appeal returned as not in competence, delegation, extension,
the author's confirm/reject/cancel, the autoclose job, duplicates (nearby, support) and the
public history.

A small hand-made city: a contact centre, two district administrations (RDA 1 with a housing
office under it, RDA 2), one category routed city-wide to RDA 1, real users and bearer tokens.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json

import psycopg
import pytest
from fastapi.testclient import TestClient

from api import create_app
from gis import accounts, lifecycle, notify
from gis.db import libpq_url
from gis.settings import Settings

_n = itertools.count()
AUTHOR_EMAIL = "author@lifecycle.test"
AUTHOR_NAME = "Петренко Іван Миколайович"
AUTHOR_PHONE = "+380441234567"


def _run(url, fn):
    async def main():
        async with await psycopg.AsyncConnection.connect(libpq_url(url), autocommit=True) as c:
            return await fn(c)

    return asyncio.run(main())


def sql(url, query, params=None):
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(query, params)
        return cur.fetchall() if cur.description else None


class City:
    def __init__(self, url: str, client: TestClient, smtp):
        self.url, self.client, self.smtp = url, client, smtp
        self._conn: psycopg.Connection | None = None  # self.sql's
        with psycopg.connect(url, autocommit=True) as c:

            def ex(code, kind, parent=None):
                return c.execute(
                    "INSERT INTO executors (code, name, short_name, kind, parent_id)"
                    " VALUES (%s, %s, %s, %s, %s) RETURNING id",
                    (code, f"Виконавець {code}", code.upper(), kind, parent),
                ).fetchone()[0]

            self.cc = ex("cc", "contact_centre")
            self.rda1 = ex("rda1", "district_administration")
            self.jed1 = ex("jed1", "housing_office", self.rda1)
            self.rda2 = ex("rda2", "district_administration")
            self.cat = c.execute(
                "INSERT INTO categories (code, name) VALUES ('roads', 'Дороги') RETURNING id"
            ).fetchone()[0]
            self.cat2 = c.execute(
                "INSERT INTO categories (code, name) VALUES ('lights', 'Освітлення') RETURNING id"
            ).fetchone()[0]
            c.execute(
                "INSERT INTO routing_rules (priority, category_id, executor_id, note)"
                " VALUES (10, %s, %s, 'test')",
                (self.cat, self.rda1),
            )
            # The community served (a place given to an appeal must lie in it: locate).
            c.execute(
                "INSERT INTO hromadas (code, name, geom) VALUES ('test', 'Тестова громада',"
                " ST_Multi(ST_MakeEnvelope(30.2, 50.2, 30.9, 50.7, 4326)))"
            )
        self.users = {
            "executor": self.user("executor", executor_id=self.rda1),
            "manager": self.user("manager", executor_id=self.rda1),
            "jed": self.user("executor", executor_id=self.jed1),
            "rda2": self.user("executor", executor_id=self.rda2),
            "curator": self.user("curator"),
            "operator": self.user("operator"),
            "admin": self.user("admin"),
            "planner": self.user("planner"),
            "citizen": self.user("citizen", email=AUTHOR_EMAIL),
            "other_citizen": self.user("citizen"),
        }
        self.tokens = {k: self.token(v) for k, v in self.users.items()}

    def user(self, role, email=None, **binding) -> int:
        email = email or f"{role}-{next(_n)}@lifecycle.test"
        return _run(self.url, lambda c: accounts.create_user(
            c, email=email, password=None, full_name=f"Співробітник {role} {next(_n)}",
            role=role, confirmed=True, **binding))  # fmt: skip

    def token(self, user_id) -> str:
        async def make(c):
            s = await accounts.create_session(c, user_id=user_id, kind="bearer", ip=None,
                                              user_agent="pytest", ttl=dt.timedelta(hours=1))  # fmt: skip
            return s.token

        return _run(self.url, make)

    def h(self, who: str, lang: str | None = None) -> dict:
        out = {"Authorization": f"Bearer {self.tokens[who]}"}
        if lang:
            out["Accept-Language"] = lang
        return out

    def appeal(self, status="registered", executor=None, lon=None, lat=None, category=None,
               result=None, answered_days_ago=None) -> str:  # fmt: skip
        number = f"T-{next(_n)}"
        geom = (
            f"ST_SetSRID(ST_MakePoint({float(lon)}, {float(lat)}), 4326)"
            if lon is not None else "NULL"
        )  # fmt: skip
        with psycopg.connect(self.url, autocommit=True) as c:
            appeal_id = c.execute(
                "INSERT INTO appeals (number, category_id, text, channel, status, result,"
                f" executor_id, deadline_at, geom, answered_at) VALUES (%s, %s, %s, 'site', %s,"
                f" %s, %s, now() + interval '15 days', {geom},"
                " now() - make_interval(days => %s)) RETURNING id",
                (number, category or self.cat, "Яма на дорозі", status, result,
                 executor or self.rda1, answered_days_ago or 0),
            ).fetchone()[0]  # fmt: skip
            c.execute(
                "INSERT INTO appeal_authors (appeal_id, full_name, email, phone, postal_address,"
                " user_id) VALUES (%s, %s, %s, %s, 'вул. Хрещатик, 1', %s)",
                (appeal_id, AUTHOR_NAME, AUTHOR_EMAIL, AUTHOR_PHONE, self.users["citizen"]),
            )
        return number

    def sql(self, query, params=None):
        """`sql` on one connection kept open (autocommit, as `sql`'s): the table's walk reads
        and resets an appeal some 1,500 times, and a connection each was most of its time."""
        if self._conn is None:
            self._conn = psycopg.connect(self.url, autocommit=True)
        cur = self._conn.execute(query, params)
        return cur.fetchall() if cur.description else None

    def reset(self, number, status):
        self.sql("UPDATE appeals SET status = %s, executor_id = %s, extended_until = NULL,"
                 " result = NULL, closed_at = NULL, geom = NULL WHERE number = %s",
                 (status, self.rda1, number))  # fmt: skip

    def deliver(self) -> int:
        """Deliver the notifications queued so far as a worker's notify.deliver job does
        (gis/notify.py; tests/test_notify.py runs real workers); how many were sent."""

        async def run(c):
            cur = await c.execute("SELECT id FROM notifications WHERE status = 'pending'"
                                  " ORDER BY id")  # fmt: skip
            return [await notify.deliver_one(c, self.settings, r[0]) for r in await cur.fetchall()]

        return _run(self.url, run).count("sent")

    def row(self, number):
        return self.sql("SELECT status, result, executor_id, extended_until, closed_at"
                        " FROM appeals WHERE number = %s", (number,))[0]  # fmt: skip

    def events(self, number):
        return self.sql("SELECT e.action, e.old, e.new, e.comment, e.actor_user_id"
                        " FROM appeal_events e JOIN appeals a ON a.id = e.appeal_id"
                        " WHERE a.number = %s ORDER BY e.id", (number,))  # fmt: skip


@pytest.fixture
def city(db_url, smtp_server, tmp_path):
    settings = Settings(database_url=db_url, smtp_host="127.0.0.1", smtp_port=smtp_server.port,
                        rate_limits_enabled=False, demo_mode=False,
                        data_dir=tmp_path)  # fmt: skip
    with TestClient(create_app(settings)) as client:
        city = City(db_url, client, smtp_server)
        city.settings = settings
        yield city
        if city._conn is not None:
            city._conn.close()


# What each HTTP action sends: (path, body).
def _request(city: City, action: str) -> tuple[str, dict]:
    return {
        "take": ("take", {}),
        "answer": ("answer", {"text": "Яму засипано", "kind": "done"}),
        "return": ("return", {"reason": "Не наша дорога"}),
        "redirect": ("redirect", {"executor": "rda2", "reason": "За належністю"}),
        "locate": ("locate", {"lon": 30.52, "lat": 50.45}),
        "delegate": ("delegate", {"executor": "jed1"}),
        "resolutions": ("resolutions", {"co_executors": [{"executor": "jed1"}]}),
        "extend": ("extend", {"days": 5, "reason": "Потрібне обстеження"}),
        "ask_extension": ("extension-request", {"days": 5, "reason": "Потрібен підрядник"}),
        "decline_extension": ("extension-decline", {"reason": "Строку досить"}),
        "accept": ("check", {"decision": "accept"}),
        "rework": ("check", {"decision": "return", "comment": "Відповідь неповна"}),
        "confirm": ("confirm", {}),
        "reject": ("reject", {}),
        "cancel": ("cancel", {}),
    }[action]


# transfer needs a second council (tests/test_council_routing.py walks its table line).
HTTP_ACTIONS = [r.action for r in lifecycle.RULES if r.action not in ("autoclose", "transfer")]
CALLERS = ("executor", "manager", "curator", "operator", "citizen", "admin", "planner")
STATUSES = ("registered", "in_work", "on_check", "rework", "closed")


def test_the_table_is_the_whole_story():
    """Every (status, action, role) of the rules is in the table, and nothing else."""
    expected = {(s, r.action, role) for r in lifecycle.RULES for s in r.sources
                for role in r.roles}  # fmt: skip
    assert set(lifecycle.TABLE) == expected
    assert lifecycle.transition("closed", "take", "executor") is None
    assert lifecycle.transition("on_check", "confirm", "citizen").result == (
        "Виконано / Підтверджено заявником"
    )


def test_every_allowed_and_every_refused_transition(city):
    number = city.appeal()
    checked = {"allowed": 0, "conflict": 0, "forbidden": 0}
    for action in HTTP_ACTIONS:
        path, body = _request(city, action)
        for status in STATUSES:
            for role in CALLERS:
                city.reset(number, status)
                if action == "decline_extension":  # a request to decline (else 409)
                    city.sql("INSERT INTO appeal_events (appeal_id, actor, action, new,"
                             " internal) SELECT id, 'test', 'ask_extension', '{}', true"
                             " FROM appeals WHERE number = %s", (number,))  # fmt: skip
                before = len(city.events(number))
                r = city.client.post(f"/api/v1/appeals/{number}/{path}", json=body,
                                     headers=city.h(role))  # fmt: skip
                step = lifecycle.transition(status, action, role)
                where = f"{action} from {status} as {role}: {r.status_code} {r.text[:300]}"
                if role not in lifecycle.ACTIONS[action].roles:
                    assert r.status_code == 403, where
                    checked["forbidden"] += 1
                    continue
                if step is None:
                    assert r.status_code == 409, where
                    assert status in r.json()["detail"] or "«" in r.json()["detail"], where
                    assert len(city.events(number)) == before
                    checked["conflict"] += 1
                    continue
                assert r.status_code == 200, where
                row = city.row(number)
                assert row[0] == (step.to or status), where
                if step.result:
                    assert row[1] in (step.result, lifecycle.R_REDIRECTED), where
                events = city.events(number)
                assert len(events) > before, where
                mine = events[before]
                assert mine[0] == action, where
                if step.to and step.to != status:
                    assert mine[1]["status"] == status and mine[2]["status"] == step.to, where
                checked["allowed"] += 1
    assert all(checked.values()), checked


def test_conflict_names_the_status_in_both_languages(city):
    number = city.appeal("closed")
    uk = city.client.post(f"/api/v1/appeals/{number}/answer", json={"text": "x"},
                          headers=city.h("executor"))  # fmt: skip
    assert uk.status_code == 409 and uk.json()["code"] == "appeal_transition_refused"
    assert "«Закрито»" in uk.json()["detail"] and "«В роботі»" in uk.json()["detail"]
    en = city.client.post(f"/api/v1/appeals/{number}/answer", json={"text": "x"},
                          headers=city.h("executor", "en"))  # fmt: skip
    assert "'Closed'" in en.json()["detail"] and "In work" in en.json()["detail"]


def test_bad_input_is_400_and_outside_scope_404(city):
    number = city.appeal("in_work")
    r = city.client.post(f"/api/v1/appeals/{number}/answer", json={"text": " "},
                         headers=city.h("executor"))  # fmt: skip
    assert r.status_code == 400 and r.json()["code"] == "field_required"
    r = city.client.post(f"/api/v1/appeals/{number}/answer", json={"text": "ok", "kind": "x"},
                         headers=city.h("executor"))  # fmt: skip
    assert r.status_code == 400
    r = city.client.post(f"/api/v1/appeals/{number}/answer", content=b"[1]",
                         headers=city.h("executor"))  # fmt: skip
    assert r.status_code == 400
    # RDA 2's executor does not see RDA 1's appeal.
    r = city.client.post(f"/api/v1/appeals/{number}/answer", json={"text": "ok"},
                         headers=city.h("rda2"))  # fmt: skip
    assert r.status_code == 404
    assert city.row(number)[0] == "in_work"


def test_returned_not_in_competence_is_rerouted_or_left_for_a_curator(city):
    # Routing sends the category to RDA 1; an appeal wrongly at RDA 2 goes back to RDA 1.
    number = city.appeal("registered", executor=city.rda2)
    r = city.client.post(f"/api/v1/appeals/{number}/return", json={"reason": "Не наш район"},
                         headers=city.h("rda2"))  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["rerouted"] is True
    status, result, executor, *_ = city.row(number)
    assert (status, result, executor) == ("registered", lifecycle.R_REDIRECTED, city.rda1)
    actions = [e[0] for e in city.events(number)]
    assert actions == ["return", "reroute"]
    assert city.events(number)[0][2]["result"] == lifecycle.R_NOT_COMPETENT
    # Re-routed is redirected: the author is told where it went and why (art. 7).
    assert city.deliver() == 1
    mail = city.smtp.wait_for(AUTHOR_EMAIL)
    assert "передано за належністю" in mail["Subject"]
    assert "RDA1" in mail.get_content() and "Не наш район" in mail.get_content()
    # RDA 1 returns it too: routing names no one else, so it waits at the contact centre.
    r = city.client.post(f"/api/v1/appeals/{number}/return", json={"reason": "Теж не наше"},
                         headers=city.h("executor"))  # fmt: skip
    assert r.status_code == 200 and r.json()["rerouted"] is False
    assert city.row(number)[:3] == ("registered", lifecycle.R_NOT_COMPETENT, city.cc)
    # The curator redirects it to a named executor with a reason; the history says why.
    r = city.client.post(f"/api/v1/appeals/{number}/redirect",
                         json={"executor": "rda2", "reason": "Міст на балансі РДА 2"},
                         headers=city.h("curator"))  # fmt: skip
    assert r.status_code == 200, r.text
    assert city.row(number)[2] == city.rda2
    # Art. 7: the author is told where it went and why (queued with the change, then sent).
    assert r.json()["author_notified"] is True
    assert city.deliver() == 1
    mail = city.smtp.wait_for(AUTHOR_EMAIL)
    assert number in mail["Subject"] and "передано за належністю" in mail["Subject"]
    assert "Міст на балансі РДА 2" in mail.get_content()
    history = city.client.get(f"/api/v1/appeals/{number}/history").json()
    reasons = [e.get("reason") for e in history["events"]]
    assert "Міст на балансі РДА 2" in reasons and "Теж не наше" in reasons
    assert history["events"][-1]["executor"] == "RDA2"
    # A redirect needs a reason and a real executor.
    bad = city.client.post(f"/api/v1/appeals/{number}/redirect", json={"executor": "nope",
                           "reason": "x"}, headers=city.h("curator"))  # fmt: skip
    assert bad.status_code == 400 and bad.json()["code"] == "unknown_executor"


def test_delegation_only_to_a_sub_organisation(city):
    number = city.appeal("in_work")
    r = city.client.post(f"/api/v1/appeals/{number}/delegate", json={"executor": "rda2"},
                         headers=city.h("executor"))  # fmt: skip
    assert r.status_code == 400 and r.json()["code"] == "executor_not_subordinate"
    r = city.client.post(f"/api/v1/appeals/{number}/delegate", json={"executor": "cc"},
                         headers=city.h("executor"))  # fmt: skip
    assert r.status_code == 400
    too_late = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).isoformat()
    r = city.client.post(f"/api/v1/appeals/{number}/delegate",
                         json={"executor": "jed1", "deadline_at": too_late},
                         headers=city.h("executor"))  # fmt: skip
    assert r.status_code == 400 and r.json()["code"] == "resolution_deadline_too_late"
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(days=5)).isoformat()
    r = city.client.post(f"/api/v1/appeals/{number}/delegate",
                         json={"executor": "jed1", "deadline_at": soon},
                         headers=city.h("executor"))  # fmt: skip
    assert r.status_code == 200, r.text
    assert city.row(number)[:3] == ("registered", lifecycle.R_REDIRECTED, city.jed1)
    res = city.client.get(f"/api/v1/appeals/{number}/resolutions", headers=city.h("curator"))
    assert [(x["executor"], x["is_main"]) for x in res.json()["resolutions"]] == [("jed1", True)]
    # The housing office takes it into work; it cannot delegate upwards.
    assert city.client.post(f"/api/v1/appeals/{number}/take",
                            headers=city.h("jed")).status_code == 200  # fmt: skip
    r = city.client.post(f"/api/v1/appeals/{number}/delegate", json={"executor": "rda1"},
                         headers=city.h("jed"))  # fmt: skip
    assert r.status_code == 400
    # Taken: 1551's result says so.
    assert city.row(number)[:2] == ("in_work", lifecycle.R_TAKEN)


def test_delegating_again_leaves_one_main_executor(city):
    number = city.appeal("in_work")
    sql(city.url, "INSERT INTO executors (code, name, short_name, kind, parent_id)"
                  " VALUES ('jed1a', 'Дільниця ЖЕД 1', 'ДЖЕД1', 'housing_office', %s)",
        (city.jed1,))  # fmt: skip
    # The district administration gives it to its housing office, which gives it on.
    for target, by in (("jed1", "executor"), ("jed1a", "jed")):
        r = city.client.post(f"/api/v1/appeals/{number}/delegate", json={"executor": target},
                             headers=city.h(by))  # fmt: skip
        assert r.status_code == 200, r.text
    res = city.client.get(f"/api/v1/appeals/{number}/resolutions", headers=city.h("curator"))
    assert sorted((x["executor"], x["is_main"]) for x in res.json()["resolutions"]) == [
        ("jed1", False), ("jed1a", True)]  # fmt: skip


def test_a_refusal_names_the_action_in_words(city):
    number = city.appeal("registered")
    r = city.client.post(f"/api/v1/appeals/{number}/answer", data={"text": "x", "kind": "done"},
                         headers=city.h("executor"))  # fmt: skip
    assert r.status_code == 409 and "«відповісти»" in r.json()["detail"]
    r = city.client.post(f"/api/v1/appeals/{number}/answer", data={"text": "x", "kind": "done"},
                         headers={**city.h("executor"), "Accept-Language": "en"})  # fmt: skip
    assert r.status_code == 409 and "answer" in r.json()["detail"]
    assert "«answer»" in r.json()["detail"] or "'answer'" in r.json()["detail"]


def test_co_executors_by_resolution(city):
    number = city.appeal("in_work")
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).isoformat()
    r = city.client.post(f"/api/v1/appeals/{number}/resolutions",
                         json={"co_executors": [{"executor": "jed1", "deadline_at": soon}]},
                         headers=city.h("manager"))  # fmt: skip
    assert r.status_code == 200, r.text
    assert city.row(number)[0] == "in_work"
    rows = sql(city.url, "SELECT executor_id, is_main, deadline_at, created_by FROM resolutions")
    assert rows[0][0] == city.jed1 and rows[0][1] is False
    assert rows[0][3] == city.users["manager"]
    r = city.client.post(f"/api/v1/appeals/{number}/resolutions",
                         json={"co_executors": [{"executor": "rda2"}]},
                         headers=city.h("manager"))  # fmt: skip
    assert r.status_code == 400


def test_extension_is_capped_at_45_days_and_mailed_to_the_author(city):
    number = city.appeal("in_work")
    created = sql(city.url, "SELECT created_at FROM appeals WHERE number = %s", (number,))[0][0]
    over = (created + dt.timedelta(days=46)).isoformat()
    r = city.client.post(f"/api/v1/appeals/{number}/extend",
                         json={"until": over, "reason": "Обстеження"},
                         headers=city.h("manager"))  # fmt: skip
    assert r.status_code == 400 and r.json()["code"] == "extension_over_limit"
    assert "45" in r.json()["detail"]
    r = city.client.post(f"/api/v1/appeals/{number}/extend", json={"days": 1},
                         headers=city.h("manager"))  # fmt: skip
    assert r.status_code == 400 and r.json()["parameter"] == "reason"
    ok = (created + dt.timedelta(days=45)).isoformat()
    r = city.client.post(f"/api/v1/appeals/{number}/extend",
                         json={"until": ok, "reason": "Потрібне обстеження мосту"},
                         headers=city.h("curator"))  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["author_notified"] is True
    assert city.deliver() == 1
    mail = city.smtp.wait_for(AUTHOR_EMAIL)
    assert number in mail["Subject"]
    assert "Потрібне обстеження мосту" in mail.get_content()
    assert city.row(number)[3] == created + dt.timedelta(days=45)
    # Not later than the current term: refused; the executor may not extend at all.
    r = city.client.post(f"/api/v1/appeals/{number}/extend", json={"days": 0, "reason": "x"},
                         headers=city.h("curator"))  # fmt: skip
    assert r.status_code == 400
    r = city.client.post(f"/api/v1/appeals/{number}/extend", json={"days": 1, "reason": "x"},
                         headers=city.h("executor"))  # fmt: skip
    assert r.status_code == 403


def test_an_overdue_appeal_is_not_extended_to_a_day_already_past(city):
    number = city.appeal("in_work")
    sql(city.url, "UPDATE appeals SET created_at = now() - interval '35 days',"
                  " deadline_at = now() - interval '20 days' WHERE number = %s", (number,))  # fmt: skip
    r = city.client.post(f"/api/v1/appeals/{number}/extend", json={"days": 5, "reason": "Обстеження"},
                         headers=city.h("manager"))  # fmt: skip
    assert r.status_code == 400 and r.json()["code"] == "extension_in_past"
    assert r.json()["parameter"] == "until"
    r = city.client.post(f"/api/v1/appeals/{number}/extend", json={"days": 25, "reason": "Обстеження"},
                         headers=city.h("manager"))  # fmt: skip
    assert r.status_code == 200, r.text


def test_the_author_confirms_rejects_and_cancels_only_their_own(city):
    number = city.appeal("on_check", result=lifecycle.R_DONE_AWAITING)
    for action in ("confirm", "reject", "cancel"):
        r = city.client.post(f"/api/v1/appeals/{number}/{action}",
                             headers=city.h("other_citizen"))  # fmt: skip
        assert r.status_code == 404, action
        r = city.client.post(f"/api/v1/appeals/{number}/{action}", headers=city.h("curator"))
        assert r.status_code == 403, action
    r = city.client.post(f"/api/v1/appeals/{number}/reject",
                         json={"comment": "Яма досі є, дзвоніть +380441234567"},
                         headers=city.h("citizen"))  # fmt: skip
    assert r.status_code == 200, r.text
    assert city.row(number)[:2] == ("rework", lifecycle.R_REWORK_AUTHOR)
    # Rework → take → answer → the author confirms.
    h = city.h("executor")
    assert city.client.post(f"/api/v1/appeals/{number}/take", headers=h).status_code == 200
    assert (
        city.client.post(
            f"/api/v1/appeals/{number}/answer", json={"text": "Засипано повторно"}, headers=h
        ).status_code
        == 200
    )
    r = city.client.post(f"/api/v1/appeals/{number}/confirm", headers=city.h("citizen"))
    assert r.status_code == 200
    status, result, _, _, closed_at = city.row(number)
    assert (status, result) == ("closed", lifecycle.R_CONFIRMED) and closed_at is not None
    # Cancel: any open appeal, by its author.
    other = city.appeal("registered")
    r = city.client.post(f"/api/v1/appeals/{other}/cancel", headers=city.h("citizen"))
    assert r.status_code == 200 and city.row(other)[:2] == ("closed", lifecycle.R_CANCELLED)


def test_autoclose_job(city):
    old = city.appeal("on_check", result=lifecycle.R_DONE_AWAITING, answered_days_ago=11)
    fresh = city.appeal("on_check", result=lifecycle.R_DONE_AWAITING, answered_days_ago=2)
    curator_check = city.appeal("on_check", result=lifecycle.R_EXPLAINED_CHECK,
                                answered_days_ago=30)  # fmt: skip
    from argparse import Namespace

    from cli.main import cmd_jobs

    settings = Settings(database_url=city.url, appeal_confirm_days=10)
    assert cmd_jobs(Namespace(job="autoclose", days=None), settings) == 0
    assert city.row(old)[:2] == ("closed", lifecycle.R_AUTOCLOSED)
    assert city.row(fresh)[0] == "on_check"
    assert city.row(curator_check)[0] == "on_check"  # waits for the curator, not the author
    ev = city.events(old)[-1]
    assert ev[0] == "autoclose" and ev[4] is None and ev[2]["status"] == "closed"


def test_overdue_flag_in_the_queue_and_history(city):
    number = city.appeal("in_work")
    sql(city.url, "UPDATE appeals SET deadline_at = now() - interval '1 day' WHERE number = %s",
        (number,))  # fmt: skip
    q = city.client.get("/api/v1/queue", headers=city.h("curator")).json()
    assert [i["overdue"] for i in q["items"] if i["number"] == number] == [True]
    assert city.client.get(f"/api/v1/appeals/{number}/history").json()["overdue"] is True
    assert city.client.get(f"/api/v1/appeals/{number}").json()["overdue"] is True
    on_time = city.appeal("in_work")
    assert city.client.get(f"/api/v1/appeals/{on_time}").json()["overdue"] is False


def test_nearby_and_support(city):
    lon, lat = 30.5234, 50.4501
    near = city.appeal("registered", lon=lon + 0.0005, lat=lat)  # ≈ 35 m
    city.appeal("registered", lon=lon + 0.004, lat=lat)  # ≈ 285 m
    city.appeal("closed", lon=lon, lat=lat)
    city.appeal("registered", lon=lon, lat=lat, category=city.cat2)
    r = city.client.get("/api/v1/appeals/nearby",
                        params={"lon": lon, "lat": lat, "category": "roads"})  # fmt: skip
    assert r.status_code == 200, r.text
    assert [i["number"] for i in r.json()["items"]] == [near]
    assert 30 < r.json()["items"][0]["distance_m"] < 40
    assert "author" not in r.text and AUTHOR_EMAIL not in r.text
    bad = city.client.get("/api/v1/appeals/nearby", params={"lon": "x", "lat": lat,
                                                            "category": "roads"})  # fmt: skip
    assert bad.status_code == 400
    # Support: once per citizen; anonymous callers cannot.
    assert city.client.post(f"/api/v1/appeals/{near}/support").status_code == 401
    h = city.h("other_citizen")
    r = city.client.post(f"/api/v1/appeals/{near}/support", headers=h)
    assert r.status_code == 200 and r.json()["support_count"] == 1
    again = city.client.post(f"/api/v1/appeals/{near}/support", headers=h)
    assert again.status_code == 409 and again.json()["code"] == "appeal_already_supported"
    assert sql(city.url, "SELECT support_count FROM appeals WHERE number = %s", (near,)) == [(1,)]
    # When it is closed, the supporter is told.
    supporter = sql(city.url, "SELECT email FROM users WHERE id = %s",
                    (city.users["other_citizen"],))[0][0]  # fmt: skip
    sql(city.url, "UPDATE appeals SET status = 'on_check' WHERE number = %s", (near,))
    r = city.client.post(f"/api/v1/appeals/{near}/check", json={"decision": "accept"},
                         headers=city.h("curator"))  # fmt: skip
    assert r.status_code == 200 and r.json()["supporters_notified"] == 1
    city.deliver()
    assert near in city.smtp.wait_for(supporter)["Subject"]


def test_history_has_no_personal_data(city):
    number = city.appeal("registered")
    h = city.h("executor")
    city.client.post(f"/api/v1/appeals/{number}/take", headers=h)
    city.client.post(
        f"/api/v1/appeals/{number}/answer",
        json={"text": "Яму засипано 3 листопада", "kind": "done"},
        headers=h,
    )
    city.client.post(f"/api/v1/appeals/{number}/reject",
                     json={"comment": f"Я, {AUTHOR_NAME}, {AUTHOR_PHONE}: яма є"},
                     headers=city.h("citizen"))  # fmt: skip
    r = city.client.get(f"/api/v1/appeals/{number}/history")
    assert r.status_code == 200
    body = r.json()
    text = json.dumps(body, ensure_ascii=False)
    names = [n for (n,) in sql(city.url, "SELECT full_name FROM users")]
    for secret in (AUTHOR_NAME, AUTHOR_EMAIL, AUTHOR_PHONE, "Хрещатик", *names):
        assert secret not in text, secret
    assert [e["action"] for e in body["events"]] == ["take", "answer", "reject"]
    assert body["events"][1]["answer"] == "Яму засипано 3 листопада"
    assert body["events"][1]["status_to"] == "on_check"
    assert body["events"][2]["result"] == lifecycle.R_REWORK_AUTHOR
    assert "actor" not in body["events"][0]
    assert city.client.get("/api/v1/appeals/nope/history").status_code == 404


def test_answer_with_photos(city):
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(buf, format="PNG")
    number = city.appeal("in_work")
    r = city.client.post(
        f"/api/v1/appeals/{number}/answer",
        data={"text": "Яму засипано", "kind": "done"},
        files=[("photos", ("after.png", buf.getvalue(), "image/png"))],
        headers=city.h("executor"),
    )
    assert r.status_code == 200, r.text
    (sha,) = r.json()["photos"]
    rows = sql(city.url, "SELECT kind FROM appeal_photos WHERE sha256 = %s", (sha,))
    assert rows == [("answer",)]
    assert city.client.get(f"/api/v1/photos/{sha}").status_code == 200  # answers are public
    assert city.client.get(f"/api/v1/appeals/{number}").json()["answer"] == "Яму засипано"
    assert city.events(number)[-1][2]["answer_photos"] == [sha]
    bad = city.client.post(
        f"/api/v1/appeals/{number}/answer",
        data={"text": "x"},
        files=[("photos", ("a.png", b"not an image", "image/png"))],
        headers=city.h("executor"),
    )
    assert bad.status_code == 400
