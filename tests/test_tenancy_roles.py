"""Councils as tenants (issue 17, slice B): what the staff of one council see and change of
another's — nothing. Two real neighbouring hromadas of Zaporizhzhia oblast (Запорізька and
Кушугумська, the Minregion ATU polygons), each a council with its executors, a ward No. 1
(ward numbers repeat), a routing rule, a dispatch subscription, an Open311 key, staff of every
role, and a few appeals whose authors carry canary names, phones and e-mails. Every staff
route is called as each role of council A with council B's real ids: 403/404 or an answer
without B's canaries, never a 5xx, and B's rows unchanged. Oblast staff (no council) see both.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import secrets
import urllib.parse
from pathlib import Path

import psycopg
import pytest
from conftest import TWO_COUNCILS, _counter, create_database, drop_database
from fastapi.testclient import TestClient

from api import create_app
from gis import accounts
from gis.db import libpq_url
from gis.lifecycle import R_EXPLAINED_CHECK, R_NOT_COMPETENT
from gis.settings import Settings

BOUNDARIES = "zaporizka_hromadas_minregion_atu_simplified_2024-04-28.geojson"  # shared data
# code → (slug, name, number prefix, the letter of its canaries)
COUNCILS = {
    TWO_COUNCILS[0]: ("zaporizka", "Запорізька", "ЗП", "A"),
    TWO_COUNCILS[1]: ("kushuhumska", "Кушугумська", "КШ", "B"),
}
COUNCIL_ROLES = ("operator", "curator", "executor", "manager", "deputy", "admin")
OBLAST_ROLES = ("operator", "curator", "admin")


def canaries(letter: str) -> tuple[str, ...]:
    """What of council `letter` nobody of the other council may read: its authors' names,
    phones and e-mails, its appeals' numbers and its directory's names."""
    prefix = "ЗП" if letter == "A" else "КШ"
    return (f"Канарка{letter}", f"+38067000000{ord(letter)}", f"canary-{letter.lower()}@",
            f"{prefix}-П-", f"Виконавець {letter}", f"Розсилка {letter}", f"Ключ {letter}",
            f"Правило {letter}")  # fmt: skip


def _polygons(shared: Path) -> dict[str, str]:
    data = json.loads((shared / BOUNDARIES).read_text(encoding="utf-8"))
    out = {}
    for f in data["features"]:
        code = f["properties"].get("katottg")
        if code in COUNCILS:
            out[code] = json.dumps(f["geometry"])
    assert set(out) == set(COUNCILS)
    return out


def _build(url: str, shared: Path) -> dict:
    """The two councils, their directories, staff and appeals; what the tests need to know."""
    world: dict = {"councils": {}}
    polygons = _polygons(shared)
    with psycopg.connect(libpq_url(url), autocommit=True) as c:

        def one(sql, params=()):
            return c.execute(sql, params).fetchone()[0]

        councils = {}
        for code, (slug, name, prefix, letter) in COUNCILS.items():
            one("INSERT INTO hromadas (code, name, geom) VALUES (%s, %s,"
                " ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(%s), 4326))) RETURNING id",
                (code, name, polygons[code]))  # fmt: skip
            councils[letter] = one(
                "INSERT INTO councils (code, slug, name, number_prefix) VALUES (%s, %s, %s, %s)"
                " RETURNING id",
                (code, slug, name, prefix),
            )
        kind = one("INSERT INTO categories (code, name, deadline_days) VALUES"
                   " ('t-kind', 'Благоустрій', 10) RETURNING id")  # fmt: skip
        sub = one("INSERT INTO categories (code, name, parent_id, deadline_days) VALUES"
                  " ('t-sub', 'Прибирання', %s, 10) RETURNING id", (kind,))  # fmt: skip
        world["category"] = sub
        world["kind"] = kind
        for code, (slug, _name, prefix, letter) in COUNCILS.items():
            k = councils[letter]
            cc = one("INSERT INTO executors (code, name, kind, council_id) VALUES"
                     " (%s, %s, 'contact_centre', %s) RETURNING id",
                     (f"cc-{letter}", f"Контакт-центр {letter}", k))  # fmt: skip
            ut = one("INSERT INTO executors (code, name, short_name, kind, council_id) VALUES"
                     " (%s, %s, %s, 'utility', %s) RETURNING id",
                     (f"ut-{letter}", f"Виконавець {letter}", f"Виконавець {letter}", k))  # fmt: skip
            child = one("INSERT INTO executors (code, name, kind, parent_id, council_id) VALUES"
                        " (%s, %s, 'utility', %s, %s) RETURNING id",
                        (f"ut-{letter}-1", f"Виконавець {letter} дільниця", ut, k))  # fmt: skip
            one("INSERT INTO executor_territories (executor_id, code, name, geom)"
                " SELECT %s, %s, %s, geom FROM hromadas WHERE code = %s RETURNING id",
                (ut, f"t-{letter}", f"Територія {letter}", code))  # fmt: skip
            ward = one("INSERT INTO wards (number, name, geom, council_id) SELECT 1, %s, geom, %s"
                       " FROM hromadas WHERE code = %s RETURNING id",
                       (f"Округ 1 {letter}", k, code))  # fmt: skip
            rule = one("INSERT INTO routing_rules (category_id, executor_id, note, council_id)"
                       " VALUES (%s, %s, %s, %s) RETURNING id",
                       (sub, ut, f"Правило {letter}", k))  # fmt: skip
            dispatch = one(
                "INSERT INTO dispatch_subscriptions (name, category_ids, recipient_email,"
                " council_id) VALUES (%s, %s, %s, %s) RETURNING id",
                (f"Розсилка {letter}", [sub], f"canary-{letter.lower()}@dispatch.test", k),
            )
            key = one("INSERT INTO open311_clients (name, key_sha256, council_id)"
                      " VALUES (%s, %s, %s) RETURNING id",
                      (f"Ключ {letter}", secrets.token_hex(32), k))  # fmt: skip
            appeals, notifications = [], []
            point = "SELECT ST_PointOnSurface(geom) FROM hromadas WHERE code = %s"
            for n, (status, result, executor, located) in enumerate((
                ("registered", None, ut, True),
                ("on_check", R_EXPLAINED_CHECK, ut, True),
                ("registered", R_NOT_COMPETENT, cc, True),
                ("in_work", None, child, False),
            ), start=1):  # fmt: skip
                number = f"{prefix}-П-{ord(letter)}{n:03d}"
                appeal = one(
                    "INSERT INTO appeals (number, category_id, text, channel, status, result,"
                    " geom, ward_id, executor_id, deadline_at, council_id)"
                    f" VALUES (%s, %s, %s, 'phone_1551', %s, %s, CASE WHEN %s THEN ({point})"
                    " END, %s, %s, now() + interval '10 days', %s) RETURNING id",
                    (number, sub, f"Текст {letter} {n}", status, result, located, code,
                     ward if located else None, executor, k),
                )  # fmt: skip
                c.execute(
                    "INSERT INTO appeal_authors (appeal_id, full_name, email, phone)"
                    " VALUES (%s, %s, %s, %s)",
                    (appeal, f"Канарка{letter} Авторка", f"canary-{letter.lower()}@mail.test",
                     f"+38067000000{ord(letter)}"),
                )  # fmt: skip
                notifications.append(one(
                    "INSERT INTO notifications (appeal_id, kind, channel, recipient, subject,"
                    " body, status, attempts) VALUES (%s, 'registered', 'email', %s, %s, %s,"
                    " 'failed', 5) RETURNING id",
                    (appeal, f"canary-{letter.lower()}@mail.test", f"Звернення {number}",
                     f"Канарка{letter}"),
                ))  # fmt: skip
                appeals.append(number)
            world["councils"][letter] = {
                "id": k, "code": code, "slug": slug, "executor": ut, "child": child, "cc": cc,
                "ward": ward, "rule": rule, "dispatch": dispatch, "key": key,
                "appeals": appeals, "notifications": notifications,
                "territory": f"t-{letter}", "phone": f"+38067000000{ord(letter)}",
            }  # fmt: skip

    async def staff() -> dict:
        out: dict = {}
        async with await psycopg.AsyncConnection.connect(libpq_url(url), autocommit=True) as c:

            async def bearer(role, label, **kw) -> tuple[int, dict]:
                user_id = await accounts.create_user(
                    c, email=f"{role}-{label}@tenancy.test", password=None,
                    full_name=f"Працівник {label} {role}", role=role, confirmed=True, **kw,
                )  # fmt: skip
                s = await accounts.create_session(
                    c, user_id=user_id, kind="bearer", ip=None, user_agent="pytest",
                    ttl=dt.timedelta(hours=2),
                )  # fmt: skip
                return user_id, {"Authorization": f"Bearer {s.token}"}

            for letter, council in world["councils"].items():
                for role in COUNCIL_ROLES:
                    kw: dict = {"council_id": council["id"]}
                    if role in ("executor", "manager"):
                        kw = {"executor_id": council["executor"]}
                    if role == "deputy":
                        kw["ward_number"] = 1
                    out[(letter, role)] = await bearer(role, letter.lower(), **kw)
            for role in OBLAST_ROLES:
                out[("oblast", role)] = await bearer(role, "oblast")
        return out

    world["staff"] = asyncio.run(staff())
    return world


@pytest.fixture(scope="module")
def world(server_url, template_url, shared_data):
    name = f"t_tenancy_roles_{os.getpid()}_{next(_counter)}"
    url = create_database(server_url, name, template=template_url.rpartition("/")[2])
    try:
        data = _build(url, shared_data)
        data["url"] = url
        yield data
    finally:
        drop_database(server_url, name)


@pytest.fixture(scope="module")
def api(world, tmp_path_factory):
    settings = Settings(database_url=world["url"], data_dir=tmp_path_factory.mktemp("tenancy"),
                        rate_limits_enabled=False)  # fmt: skip
    with TestClient(create_app(settings)) as c:
        yield c


def _h(world, letter: str, role: str) -> dict:
    return world["staff"][(letter, role)][1]


def _snapshot(world, letter: str) -> list:
    """Everything of council `letter` a mutation could touch."""
    k = world["councils"][letter]["id"]
    queries = (
        "SELECT id, email, full_name, role, executor_id, ward_number, is_active, council_id"
        " FROM users WHERE council_id = %(k)s ORDER BY id",
        "SELECT id, priority, category_id, executor_id, is_active, note FROM routing_rules"
        " WHERE council_id = %(k)s ORDER BY id",
        "SELECT id, name, is_active, send_at, format, recipient_email FROM dispatch_subscriptions"
        " WHERE council_id = %(k)s ORDER BY id",
        "SELECT id, name, revoked_at FROM open311_clients WHERE council_id = %(k)s ORDER BY id",
        "SELECT n.id, n.status, n.attempts FROM notifications n JOIN appeals a"
        " ON a.id = n.appeal_id WHERE a.council_id = %(k)s ORDER BY n.id",
        "SELECT number, status, result, executor_id, support_count, council_id, ST_AsText(geom)"
        " FROM appeals WHERE council_id = %(k)s ORDER BY id",
        "SELECT id, version, valid_to FROM executor_territories t WHERE executor_id IN"
        " (SELECT id FROM executors WHERE council_id = %(k)s) ORDER BY id",
        "SELECT category_id, is_active, deadline_days, keywords FROM council_categories"
        " WHERE council_id = %(k)s ORDER BY category_id",
        "SELECT name, number_prefix, occupied_since FROM councils WHERE id = %(k)s",
    )
    with psycopg.connect(libpq_url(world["url"])) as c:
        return [c.execute(q, {"k": k}).fetchall() for q in queries]


def _clean(response, letter: str) -> None:
    """Not a server error, and nothing of council `letter` in the body."""
    assert response.status_code < 500, (response.request.url, response.text[:300])
    body = response.text
    asked = urllib.parse.unquote(str(response.request.url)) + response.request.content.decode()
    for canary in canaries(letter):
        if canary in asked:  # a 404 may name what was asked for (a number B's staff gave)
            continue
        assert canary not in body, (response.request.method, str(response.request.url), canary)


def _territory_file() -> bytes:
    polygon = {"type": "Polygon", "coordinates": [[
        [35.1, 47.8], [35.2, 47.8], [35.2, 47.9], [35.1, 47.8]]]}  # fmt: skip
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": polygon}]}).encode()  # fmt: skip


def test_council_a_staff_reach_nothing_of_council_b(world, api):
    b = world["councils"]["B"]
    theirs = b["appeals"]
    before = _snapshot(world, "B")
    b_user = world["staff"][("B", "operator")][0]
    for role in COUNCIL_ROLES:
        h = _h(world, "A", role)
        lists = [
            ("GET", "/api/v1/queue?limit=200", None),
            ("GET", "/api/v1/curator/queues", None),
            *[("GET", f"/api/v1/curator/queues/{q}", None)
              for q in ("check", "not_competent", "no_location", "no_executor")],
            ("GET", "/api/v1/manager/summary", None),
            ("GET", "/api/v1/manager/appeals", None),
            ("GET", "/api/v1/manager/appeals.csv", None),
            ("GET", "/api/v1/users?limit=500", None),
            ("GET", "/api/v1/directory/executors", None),
            ("GET", "/api/v1/routing-rules", None),
            ("GET", "/api/v1/admin/dispatch", None),
            ("GET", "/api/v1/admin/notifications?status=failed", None),
            ("GET", "/api/v1/admin/open311/keys", None),
            ("GET", "/api/v1/admin/councils", None),
            ("GET", f"/api/v1/callers?phone={b['phone']}", None),
            ("GET", "/api/v1/callers?email=canary-b@mail.test", None),
            ("GET", "/api/v1/wards/1/statistics", None),
            ("GET", "/api/v1/me", None),
        ]  # fmt: skip
        for method, path, body in lists:
            _clean(api.request(method, path, headers=h, json=body), "B")
        # B's real ids and numbers: never found, never changed.
        direct = [
            *[("GET", f"/api/v1/queue/{n}", None) for n in theirs],
            *[("GET", f"/api/v1/appeals/{n}/author", None) for n in theirs],
            *[("GET", f"/api/v1/curator/appeals/{n}", None) for n in theirs],
            ("POST", f"/api/v1/appeals/{theirs[0]}/take", None),
            ("POST", f"/api/v1/appeals/{theirs[0]}/answer", {"text": "Виконано", "kind": "done"}),
            ("POST", f"/api/v1/appeals/{theirs[1]}/check",
             {"decision": "accept", "comment": "Добре"}),
            ("POST", f"/api/v1/appeals/{theirs[2]}/redirect", {"executor": "ut-A"}),
            ("POST", f"/api/v1/appeals/{theirs[0]}/support", {"phone": "+380671112233"}),
            ("POST", f"/api/v1/appeals/{theirs[0]}/control", {"until": "2030-01-01"}),
            ("GET", f"/api/v1/users/{b_user}", None),
            ("PATCH", f"/api/v1/users/{b_user}", {"is_active": False}),
            ("PATCH", f"/api/v1/users/{b_user}", {"full_name": "Змінено Ззовні"}),
            ("DELETE", f"/api/v1/routing-rules/{b['rule']}", None),
            ("POST", "/api/v1/routing-rules", {"executor_code": "ut-B", "note": "Чуже"}),
            ("POST", "/api/v1/users", {"email": "x-b@tenancy.test", "full_name": "Чужий Працівник",
                                       "role": "executor", "executor_code": "ut-B"}),
            ("GET", f"/api/v1/admin/dispatch/{b['dispatch']}", None),
            ("PATCH", f"/api/v1/admin/dispatch/{b['dispatch']}", {"is_active": False}),
            ("GET", f"/api/v1/admin/dispatch/{b['dispatch']}/batches", None),
            ("DELETE", f"/api/v1/admin/dispatch/{b['dispatch']}", None),
            ("POST", f"/api/v1/admin/notifications/{b['notifications'][0]}/retry", None),
            ("DELETE", f"/api/v1/admin/open311/keys/{b['key']}", None),
            ("GET", f"/api/v1/admin/open311/keys/{b['key']}/calls", None),
            ("PATCH", f"/api/v1/admin/councils/{b['slug']}", {"name": "Захоплено"}),
            ("GET", f"/api/v1/directory/councils/{b['slug']}/categories", None),
            ("PUT", f"/api/v1/directory/councils/{b['code']}/categories",
             {"items": [{"category_id": world["category"], "offered": False}]}),
            ("PATCH", f"/api/v1/categories/{world['category']}", {"deadline_days": 3}),
            ("GET", f"/api/v1/wards/1/statistics?council={b['slug']}", None),
        ]  # fmt: skip
        for method, path, body in direct:
            r = api.request(method, path, headers=h, json=body)
            _clean(r, "B")
            if "/directory/councils/" in path:
                assert r.status_code in (403, 404), (role, method, path, r.status_code)
            elif method == "GET" and r.status_code == 200:
                # only lists (no B row inside, checked above) or the caller's own
                assert "/statistics" in path, (role, path)
            elif path.startswith(("/api/v1/queue/", "/api/v1/curator/appeals/")) or (
                "/users/" in path or "/dispatch/" in path or "/open311/keys/" in path
                or "/notifications/" in path or "/routing-rules/" in path
            ):  # fmt: skip
                assert r.status_code in (403, 404), (role, method, path, r.status_code)
        r = api.post(f"/api/v1/directory/territories/{b['territory']}?filename=t.geojson&apply=true",
                     headers=h, content=_territory_file())  # fmt: skip
        assert r.status_code in (403, 404), (role, r.status_code, r.text[:200])
    assert _snapshot(world, "B") == before


def test_a_council_admin_binds_nobody_to_another_council(world, api):
    h = _h(world, "A", "admin")
    r = api.post("/api/v1/users", headers=h, json={
        "email": "exec-b@tenancy.test", "full_name": "Чужий Виконавець", "role": "executor",
        "executor_code": "ut-B"})  # fmt: skip
    assert r.status_code == 400 and r.json()["code"] == "council_mismatch"
    r = api.post("/api/v1/users", headers=h, json={
        "email": "op-b@tenancy.test", "full_name": "Чужий Оператор", "role": "operator",
        "council": "kushuhumska"})  # fmt: skip
    assert r.status_code == 400 and r.json()["code"] == "council_mismatch"
    r = api.post("/api/v1/routing-rules", headers=h, json={"executor_code": "ut-B"})
    assert r.status_code == 400 and r.json()["code"] == "council_mismatch"
    # Their own: an operator of A, bound to A's contact centre.
    r = api.post("/api/v1/users", headers=h, json={
        "email": "op-a@tenancy.test", "full_name": "Свій Оператор", "role": "operator"})  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.json()["council"] == world["councils"]["A"]["code"]
    assert r.json()["executor_id"] == world["councils"]["A"]["cc"]
    # A rule of A for A's executor; its list holds it and no rule of B.
    r = api.post("/api/v1/routing-rules", headers=h,
                 json={"executor_code": "ut-A", "category_id": world["category"], "note": "Нове"})  # fmt: skip
    assert r.status_code == 201, r.text
    notes = {x["note"] for x in api.get("/api/v1/routing-rules", headers=h).json()["items"]}
    assert "Нове" in notes and "Правило A" in notes and "Правило B" not in notes
    # The users list: A's staff only, no citizens, none of B.
    users = api.get("/api/v1/users?limit=500", headers=h).json()["items"]
    assert users and {u["council"] for u in users} == {world["councils"]["A"]["code"]}


def test_a_council_admin_edits_its_council_s_choice_of_categories(world, api):
    h = _h(world, "A", "admin")
    cat = world["category"]
    r = api.patch(f"/api/v1/categories/{cat}", headers=h, json={"deadline_days": 5})
    assert r.status_code == 200 and r.json()["deadline_days"] == 5
    with psycopg.connect(libpq_url(world["url"])) as c:
        shared = c.execute("SELECT deadline_days FROM categories WHERE id = %s", (cat,)).fetchone()
        own = c.execute(
            "SELECT council_id, deadline_days FROM council_categories WHERE category_id = %s"
            " ORDER BY council_id", (cat,)).fetchall()  # fmt: skip
        trail = c.execute("SELECT count(*) FROM feature_events WHERE layer = 'council_categories'"
                          ).fetchone()[0]  # fmt: skip
    assert shared[0] == 10  # the shared catalogue is the oblast's
    assert dict(own) == {world["councils"]["A"]["id"]: 5, world["councils"]["B"]["id"]: None}
    assert trail >= 1
    listed = {
        x["id"]: x for x in api.get("/api/v1/directory/categories", headers=h).json()["items"]
    }
    assert listed[cat]["deadline_days"] == 5
    b_listed = api.get("/api/v1/directory/categories", headers=_h(world, "B", "admin")).json()
    assert {x["id"]: x for x in b_listed["items"]}[cat]["deadline_days"] == 10


def test_oblast_staff_see_both_councils(world, api):
    a, b = world["councils"]["A"], world["councils"]["B"]
    admin = _h(world, "oblast", "admin")
    users = api.get("/api/v1/users?limit=500", headers=admin).json()["items"]
    assert {u["council"] for u in users} >= {a["code"], b["code"]}
    for path, marks in (
        ("/api/v1/directory/executors", ("Виконавець A", "Виконавець B")),
        ("/api/v1/routing-rules", ("Правило A", "Правило B")),
        ("/api/v1/admin/dispatch", ("Розсилка A", "Розсилка B")),
        ("/api/v1/admin/open311/keys", ("Ключ A", "Ключ B")),
        ("/api/v1/admin/notifications?status=failed", ("ЗП-П-", "КШ-П-")),
    ):  # fmt: skip
        text = api.get(path, headers=admin).text
        assert all(x in text for x in marks), path
    assert {x["code"] for x in api.get("/api/v1/admin/councils", headers=admin).json()["items"]} \
        == {a["code"], b["code"]}  # fmt: skip
    # A council's admin sees its own council only, and may not change it.
    own = api.get("/api/v1/admin/councils", headers=_h(world, "A", "admin")).json()["items"]
    assert [x["code"] for x in own] == [a["code"]]
    assert api.patch(f"/api/v1/admin/councils/{a['slug']}", headers=_h(world, "A", "admin"),
                     json={"name": "Своя"}).status_code == 404  # fmt: skip
    # The oblast admin renames B (audited); its prefix is fixed once it has appeals.
    r = api.patch(f"/api/v1/admin/councils/{b['code']}", headers=admin,
                  json={"name": "Кушугумська селищна", "occupied_source": "тест"})  # fmt: skip
    assert r.status_code == 200 and r.json()["name"] == "Кушугумська селищна"
    r = api.patch(f"/api/v1/admin/councils/{b['slug']}", headers=admin,
                  json={"number_prefix": "КГ"})  # fmt: skip
    assert r.status_code == 409 and r.json()["code"] == "council_prefix_in_use"
    r = api.patch(f"/api/v1/admin/councils/{b['slug']}", headers=admin,
                  json={"number_prefix": "x y"})  # fmt: skip
    assert r.status_code == 400
    api.patch(f"/api/v1/admin/councils/{b['slug']}", headers=admin, json={"name": "Кушугумська"})
    # An oblast admin creates an operator in B.
    r = api.post("/api/v1/users", headers=admin, json={
        "email": "op-b2@tenancy.test", "full_name": "Новий Оператор", "role": "operator",
        "council": b["slug"]})  # fmt: skip
    assert r.status_code == 201 and r.json()["council"] == b["code"]
    assert r.json()["executor_id"] == b["cc"]
    # The oblast curator's queues hold both councils' appeals.
    curator = _h(world, "oblast", "curator")
    check = api.get("/api/v1/curator/queues/check", headers=curator).json()
    assert {x["number"] for x in check["items"]} >= {a["appeals"][1], b["appeals"][1]}
    assert api.get(f"/api/v1/curator/appeals/{b['appeals'][1]}", headers=curator).status_code == 200
    counts = api.get("/api/v1/curator/queues", headers=curator).json()["counts"]
    assert counts["check"] == 2 and counts["not_competent"] == 2 and counts["no_location"] == 2
    own = api.get("/api/v1/curator/queues", headers=_h(world, "A", "curator")).json()["counts"]
    assert own["check"] == 1 and own["no_location"] == 1
    # Callers by B's phone: the oblast operator finds B's author, A's operator nobody.
    operator = _h(world, "oblast", "operator")
    # The oblast operator's queue holds both councils; `council` narrows it.
    both = {
        x["number"] for x in api.get("/api/v1/queue?limit=200", headers=operator).json()["items"]
    }
    assert both == set(a["appeals"]) | set(b["appeals"])
    only_b = api.get(f"/api/v1/queue?limit=200&council={b['slug']}", headers=operator).json()
    assert {x["number"] for x in only_b["items"]} == set(b["appeals"])
    narrowed = api.get(f"/api/v1/queue?council={b['code']}", headers=_h(world, "A", "operator"))
    assert narrowed.status_code == 200 and narrowed.json()["items"] == []
    found = api.get(f"/api/v1/callers?phone={b['phone']}", headers=operator).json()
    assert found["caller"]["full_name"].startswith("КанаркаB") and found["returned"] == 4
    mine = api.get(f"/api/v1/callers?phone={b['phone']}", headers=_h(world, "A", "operator")).json()
    assert mine["caller"] is None and mine["returned"] == 0
    # Ward No. 1 is each council's own: oblast staff name the council when there are several.
    r = api.get("/api/v1/wards/1/statistics", headers=operator)
    assert r.status_code == 400 and r.json()["code"] == "council_required"
    stats_b = api.get(f"/api/v1/wards/1/statistics?council={b['slug']}", headers=operator).json()
    stats_a = api.get("/api/v1/wards/1/statistics", headers=_h(world, "A", "deputy")).json()
    assert stats_b["ward"]["name"] == "Округ 1 B" and stats_b["total"] == 3
    assert stats_a["ward"]["name"] == "Округ 1 A" and stats_a["total"] == 3
    assert {x["number"] for x in stats_a["latest"]} <= set(a["appeals"])


def test_me_names_the_council_of_staff_and_none_for_oblast_staff(world, api):
    me = api.get("/api/v1/me", headers=_h(world, "B", "executor")).json()
    assert me["council"] == {"code": world["councils"]["B"]["code"], "slug": "kushuhumska",
                             "name": "Кушугумська"}  # fmt: skip
    assert api.get("/api/v1/me", headers=_h(world, "oblast", "curator")).json()["council"] is None


def test_a_council_chooses_its_sub_kinds_and_adds_its_own(world, api):
    a, b = world["councils"]["A"], world["councils"]["B"]
    h = _h(world, "A", "admin")
    r = api.put(f"/api/v1/directory/councils/{a['slug']}/categories", headers=h, json={
        "items": [{"category_id": world["category"], "offered": False, "deadline_days": 7}],
        "add": [{"parent_id": world["kind"], "name": "Прибирання узбережжя"}]})  # fmt: skip
    assert r.status_code == 200, r.text
    rows = {x["name"]: x for x in r.json()["items"]}
    assert rows["Прибирання"]["offered"] is False and rows["Прибирання"]["deadline_days"] == 7
    own = rows["Прибирання узбережжя"]
    assert own["own"] and own["offered"] and own["code"] == "zaporizka-1"
    assert own["catalogue_deadline_days"] == 10
    again = api.put(f"/api/v1/directory/councils/{a['slug']}/categories", headers=h,
                    json={"add": [{"parent_id": world["kind"], "name": "Прибирання узбережжя"}]})  # fmt: skip
    assert again.status_code == 409
    # B offers the shared sub-kind still and never sees A's own one.
    theirs = api.get(f"/api/v1/directory/councils/{b['slug']}/categories",
                     headers=_h(world, "B", "admin")).json()["items"]  # fmt: skip
    assert [(x["name"], x["offered"]) for x in theirs] == [("Прибирання", True)]
    # The oblast admin reads either council's choice.
    oblast = api.get(f"/api/v1/directory/councils/{a['code']}/categories",
                     headers=_h(world, "oblast", "admin"))  # fmt: skip
    assert {x["name"] for x in oblast.json()["items"]} == {"Прибирання", "Прибирання узбережжя"}
    # Undo, for the other tests: A offers the shared sub-kind again, its deadline the catalogue's.
    api.put(f"/api/v1/directory/councils/{a['slug']}/categories", headers=h,
            json={"items": [{"category_id": world["category"], "offered": True}]})  # fmt: skip
