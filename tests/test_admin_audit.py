"""The administrator's directory is audited (gis/admin.py → gis/audit.py): every account
created, changed or deactivated, every category changed and every routing rule created or
deleted is one feature_events row of the features' hash chain, naming the administrator and
only what changed, never an account's e-mail or name; a refused change leaves no row; the
chain still verifies. Also the directory's lists the administrator's page reads: every
organisation, and every category (inactive ones too)."""

from __future__ import annotations

import datetime as dt
import json

import psycopg
from test_roles import as_demo, demo_user

from gis.audit import verify

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
SEED = 5
ADMIN_LOGIN = "admin@demo.hromada"


DEMO = {
    "prefix": "adminaudit",
    "seed": SEED,
    "appeals": 100,
    "now": NOW,
    "accounts": True,
    "demo_mode": True,
}


def events(url: str, layer: str, row_id) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT action, actor, actor_user_id, old, new FROM feature_events"
            " WHERE layer = %s AND feature_id = %s ORDER BY id",
            (layer, str(row_id)),
        ).fetchall()


def test_each_change_of_an_account_is_audited_without_personal_data(client, demo_url):
    admin = as_demo(demo_url, ADMIN_LOGIN)
    admin_id = demo_user(demo_url, ADMIN_LOGIN)
    r = client.post("/api/v1/users", headers=admin, json={
        "email": "audited.executor@audit.test", "full_name": "Аудитована Виконавиця",
        "role": "executor", "executor_code": "demo-teploenergo",
    })  # fmt: skip
    assert r.status_code == 201, r.text
    user = r.json()
    r = client.patch(f"/api/v1/users/{user['id']}", headers=admin,
                     json={"role": "manager", "full_name": "Інше Ім'я"})  # fmt: skip
    assert r.status_code == 200, r.text
    r = client.patch(f"/api/v1/users/{user['id']}", headers=admin, json={"is_active": False})
    assert r.status_code == 200 and r.json()["is_active"] is False
    # A refused change (a manager needs an organisation, a ward needs to exist) writes nothing.
    r = client.patch(f"/api/v1/users/{user['id']}", headers=admin,
                     json={"role": "deputy", "ward_number": 99999})  # fmt: skip
    assert r.status_code == 400

    trail = events(demo_url, "users", user["id"])
    assert [e[0] for e in trail] == ["created", "updated", "deactivated"]
    assert {e[2] for e in trail} == {admin_id}
    assert all(e[1] and e[1] != "system" for e in trail)
    created, renamed, deactivated = trail
    assert created[3] is None and created[4]["role"] == "executor"
    assert created[4]["executor_id"] == user["executor_id"] and created[4]["is_active"] is True
    assert renamed[3] == {"role": "executor", "full_name_changed": False}
    assert renamed[4] == {"role": "manager", "full_name_changed": True}
    assert deactivated[3] == {"is_active": True} and deactivated[4] == {"is_active": False}
    text = repr(trail)
    assert "audit.test" not in text and "Аудитована" not in text and "Інше" not in text


def test_categories_and_routing_rules_are_audited_and_the_chain_holds(client, demo_url):
    admin = as_demo(demo_url, ADMIN_LOGIN)
    with psycopg.connect(demo_url) as conn:
        cat, days = conn.execute(
            "SELECT id, deadline_days FROM categories WHERE parent_id IS NOT NULL"
            " ORDER BY id LIMIT 1"
        ).fetchone()
    other = 30 if days != 30 else 15
    r = client.patch(f"/api/v1/categories/{cat}", headers=admin, json={"deadline_days": 46})
    assert r.status_code == 400
    assert events(demo_url, "categories", cat) == []
    r = client.patch(f"/api/v1/categories/{cat}", headers=admin,
                     json={"deadline_days": other, "is_active": False})  # fmt: skip
    assert r.status_code == 200, r.text
    (changed,) = events(demo_url, "categories", cat)
    assert changed[0] == "updated"
    assert changed[3] == {"deadline_days": days, "is_active": True}
    assert changed[4] == {"deadline_days": other, "is_active": False}

    # The administrator's list keeps the inactive category; the public one drops it.
    listed = client.get("/api/v1/directory/categories", headers=admin).json()
    mine = next(c for c in listed["items"] if c["id"] == cat)
    assert mine["is_active"] is False and mine["deadline_days"] == other and mine["kind"]
    public = client.get("/api/v1/categories").json()
    assert cat not in {s["id"] for k in public["kinds"] for s in k["subkinds"]}
    executors = client.get("/api/v1/directory/executors", headers=admin).json()
    with psycopg.connect(demo_url) as conn:
        assert executors["returned"] == conn.execute("SELECT count(*) FROM executors").fetchone()[0]
    assert client.get("/api/v1/directory/executors").status_code == 401

    r = client.post("/api/v1/routing-rules", headers=admin, json={
        "executor_code": "demo-vodokanal", "category_id": cat, "ward_number": 3, "priority": 5,
        "note": "аудит"})  # fmt: skip
    assert r.status_code == 201, r.text
    rule = r.json()
    assert client.delete(f"/api/v1/routing-rules/{rule['id']}", headers=admin).status_code == 204
    assert client.delete(f"/api/v1/routing-rules/{rule['id']}", headers=admin).status_code == 404
    created, deleted = events(demo_url, "routing_rules", rule["id"])
    assert (created[0], deleted[0]) == ("created", "deleted")
    assert created[3] is None and deleted[4] is None
    assert created[4] == deleted[3]
    assert created[4]["ward_number"] == 3 and created[4]["priority"] == 5
    assert created[4]["executor_id"] == rule["executor_id"]

    with psycopg.connect(demo_url) as conn:
        result = verify(conn)
    assert result["ok"], result["broken"]


def test_a_territory_is_replaced_from_a_file_through_the_importer(client, demo_url):
    admin = as_demo(demo_url, ADMIN_LOGIN)
    with psycopg.connect(demo_url) as conn:
        code, version, old_id, outline = conn.execute(
            "SELECT code, version, id, ST_AsGeoJSON(ST_Buffer(geom, 0.002))"
            " FROM executor_territories WHERE valid_to IS NULL ORDER BY id LIMIT 1"
        ).fetchone()
    file = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": json.loads(outline)}]}).encode()  # fmt: skip
    url = f"/api/v1/directory/territories/{code}"

    r = client.post(url, headers=admin, params={"filename": "new.geojson"}, content=file)
    assert r.status_code == 200, r.text
    preview = r.json()
    assert preview["applied"] is False and preview["version"] == version
    assert preview["new_area_m2"] > preview["old_area_m2"] > 0
    assert preview["old"]["type"] == preview["new"]["type"] == "MultiPolygon"
    with psycopg.connect(demo_url) as conn:  # nothing changed yet
        assert conn.execute("SELECT valid_to FROM executor_territories WHERE id = %s",
                            (old_id,)).fetchone() == (None,)  # fmt: skip

    r = client.post(url, headers=admin, params={"filename": "new.geojson", "apply": "true"},
                    content=file)  # fmt: skip
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["applied"] is True and done["version"] == version + 1 and done["id"] != old_id
    with psycopg.connect(demo_url) as conn:
        rows = conn.execute(
            "SELECT id, version, valid_to IS NULL, round(ST_Area(geom::geography))"
            " FROM executor_territories WHERE code = %s ORDER BY version",
            (code,),
        ).fetchall()
    assert [(r[0], r[1], r[2]) for r in rows][-2:] == [
        (old_id, version, False), (done["id"], version + 1, True)]  # fmt: skip
    assert float(rows[-1][3]) == done["new_area_m2"]
    (event,) = events(demo_url, "executor_territories", code)
    assert event[0] == "replaced" and event[3]["id"] == old_id and event[4]["id"] == done["id"]

    r = client.post(url, headers=admin, params={"filename": "x.geojson"}, content=b"{nonsense")
    assert r.status_code == 400 and r.json()["code"] == "territory_file_invalid"
    r = client.post(url, headers=admin, params={"filename": "x.txt"}, content=file)
    assert r.status_code == 400 and r.json()["code"] == "territory_file_invalid"
    point = json.dumps({"type": "Point", "coordinates": [30.5, 50.45]}).encode()
    r = client.post(url, headers=admin, params={"filename": "p.geojson"}, content=point)
    assert r.status_code == 400 and r.json()["code"] == "territory_file_invalid"
    r = client.post("/api/v1/directory/territories/nope", headers=admin,
                    params={"filename": "new.geojson"}, content=file)  # fmt: skip
    assert r.status_code == 404 and r.json()["code"] == "territory_not_found"
    executor = as_demo(demo_url, "teploenergo@demo.hromada")
    r = client.post(url, headers=executor, params={"filename": "new.geojson"}, content=file)
    assert r.status_code == 403
