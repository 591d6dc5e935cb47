"""The administrator moves staff between councils (issue 17): PATCH /api/v1/users/{id}
`council` — an oblast administrator's choice; executors and managers follow their organisation
(another council is `council_mismatch`), citizens have none; a council's administrator names
only their own. Each move is audited (the council's code, old and new); a refusal writes
nothing. The staff's cards (the queue's and the curator's) name the appeal's council, so the
curator's transfer picker can offer only the others. On the two real hromadas of
tests/test_tenancy_roles.py (its `world` and `api` fixtures, a database of this module).
"""

from __future__ import annotations

import psycopg
from test_tenancy_roles import _h, api, world  # noqa: F401 — the fixtures, reused

from gis.db import libpq_url


def _trail(data: dict, user_id: int) -> list[tuple]:
    with psycopg.connect(libpq_url(data["url"])) as c:
        return c.execute(
            "SELECT action, actor_user_id, old, new FROM feature_events"
            " WHERE layer = 'users' AND feature_id = %s ORDER BY id",
            (str(user_id),),
        ).fetchall()


def _new(api, admin: dict, role: str, label: str, **binding) -> dict:  # noqa: F811
    r = api.post("/api/v1/users", headers=admin, json={
        "email": f"{role}-{label}@move.test", "full_name": f"Переведений {label}", "role": role,
        **binding})  # fmt: skip
    assert r.status_code == 201, r.text
    return r.json()


def test_an_oblast_admin_moves_an_operator_to_another_council(world, api):  # noqa: F811
    a, b = world["councils"]["A"], world["councils"]["B"]
    admin = _h(world, "oblast", "admin")
    admin_id = world["staff"][("oblast", "admin")][0]
    op = _new(api, admin, "operator", "op", council=a["slug"])
    assert op["council"] == a["code"] and op["executor_id"] == a["cc"]
    before = len(_trail(world, op["id"]))

    r = api.patch(f"/api/v1/users/{op['id']}", headers=admin, json={"council": b["code"]})
    assert r.status_code == 200, r.text
    assert r.json()["council"] == b["code"]
    assert r.json()["executor_id"] == b["cc"]  # the new council's contact centre
    trail = _trail(world, op["id"])
    assert len(trail) == before + 1
    action, actor, old, new = trail[-1]
    assert action == "updated" and actor == admin_id
    assert old["council"] == a["code"] and new["council"] == b["code"]
    assert "Переведений" not in repr(trail) and "move.test" not in repr(trail)
    # The list names each account's council; the moved one is B's now.
    users = {u["id"]: u for u in api.get("/api/v1/users?limit=500", headers=admin).json()["items"]}
    assert users[op["id"]]["council"] == b["code"]
    # B's administrator now sees the account, A's no longer.
    assert api.get(f"/api/v1/users/{op['id']}", headers=_h(world, "B", "admin")).status_code == 200
    assert api.get(f"/api/v1/users/{op['id']}", headers=_h(world, "A", "admin")).status_code == 404


def test_moves_that_break_a_rule_are_refused_and_write_nothing(world, api):  # noqa: F811
    a, b = world["councils"]["A"], world["councils"]["B"]
    admin = _h(world, "oblast", "admin")
    executor = _new(api, admin, "executor", "ex", executor_code="ut-A")
    operator = _new(api, admin, "operator", "op2", council=a["slug"])
    trails = {u["id"]: len(_trail(world, u["id"])) for u in (executor, operator)}

    def refused(user, body, headers, status=400, code="council_mismatch"):
        r = api.patch(f"/api/v1/users/{user['id']}", headers=headers, json=body)
        assert r.status_code == status and r.json()["code"] == code, (body, r.text)
        assert r.json()["detail"]

    # An executor follows its organisation: another council without B's organisation, no.
    refused(executor, {"council": b["slug"]}, admin)
    refused(executor, {"council": b["slug"], "executor_code": "ut-A"}, admin)
    # A council's administrator may not move their own staff out.
    refused(operator, {"council": b["slug"]}, _h(world, "A", "admin"))
    # Unknown council.
    refused(operator, {"council": "nowhere"}, admin, 404, "council_not_found")
    # A citizen has no council.
    refused(operator, {"role": "citizen", "council": b["slug"]}, admin)
    for user in (executor, operator):
        assert len(_trail(world, user["id"])) == trails[user["id"]]
        assert api.get(f"/api/v1/users/{user['id']}", headers=admin).json()["council"] == a["code"]
    # With B's organisation named, the executor moves (its council is the organisation's).
    r = api.patch(f"/api/v1/users/{executor['id']}", headers=admin,
                  json={"council": b["code"], "executor_code": "ut-B"})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["council"] == b["code"] and r.json()["executor_code"] == "ut-B"
    # A council's administrator naming their own council: nothing moves, nothing is recorded.
    r = api.patch(f"/api/v1/users/{operator['id']}", headers=_h(world, "A", "admin"),
                  json={"council": a["slug"]})  # fmt: skip
    assert r.status_code == 200 and r.json()["council"] == a["code"]
    assert len(_trail(world, operator["id"])) == trails[operator["id"]]


def test_the_staff_cards_name_the_appeal_s_council(world, api):  # noqa: F811
    a, b = world["councils"]["A"], world["councils"]["B"]
    operator = _h(world, "oblast", "operator")
    card = api.get(f"/api/v1/queue/{b['appeals'][0]}", headers=operator).json()
    assert card["council"] == {"code": b["code"], "slug": "kushuhumska", "name": "Кушугумська",
                               "name_en": None}  # fmt: skip
    mine = api.get(f"/api/v1/queue/{a['appeals'][0]}", headers=_h(world, "A", "executor")).json()
    assert mine["council"]["slug"] == "zaporizka"
    curator = api.get(f"/api/v1/curator/appeals/{a['appeals'][2]}",
                      headers=_h(world, "oblast", "curator")).json()  # fmt: skip
    assert curator["council"]["code"] == a["code"]


def test_the_users_list_narrows_to_a_council_and_finds_by_e_mail_or_name(world, api):  # noqa: F811
    a, b = world["councils"]["A"], world["councils"]["B"]
    admin = _h(world, "oblast", "admin")
    made = _new(api, admin, "curator", "find_me_50%", council=b["slug"])

    def ids(query: str, headers: dict = admin) -> set[int]:
        r = api.get(f"/api/v1/users?limit=500&{query}", headers=headers)
        assert r.status_code == 200, r.text
        return {u["id"] for u in r.json()["items"]}

    listed = api.get("/api/v1/users?limit=500", headers=admin).json()["items"]
    for ref, council in ((a["slug"], a), (b["code"].lower(), b)):
        expected = {u["id"] for u in listed if u["council"] == council["code"]}
        assert expected and ids(f"council={ref}") == expected
    assert made["id"] in ids(f"council={b['slug']}") and made["id"] not in ids(
        f"council={a['slug']}"
    )
    # A part of the e-mail or the name, in any case; % and _ are letters, not wildcards.
    assert ids("q=FIND_ME_50%25") == {made["id"]}
    assert made["id"] in ids("q=переведений find_me") and made["id"] in ids("q=ПЕРЕВЕДЕНИЙ")
    assert ids("q=find%25me") == set()
    assert api.get("/api/v1/users?council=no-such", headers=admin).status_code == 404
    # A council's administrator filtering by the other council sees nothing of it.
    assert ids(f"council={b['slug']}", _h(world, "A", "admin")) == set()
