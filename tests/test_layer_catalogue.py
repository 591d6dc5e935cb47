"""GET /api/v1/layers: who keeps each layer, how often, and whether it is overdue."""

import asyncio
import datetime as dt

import psycopg
from fastapi.testclient import TestClient

from api import create_app
from gis import accounts
from gis.db import libpq_url
from gis.settings import Settings


def test_layers_list_their_owners_regimes_and_freshness(db_url):
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "INSERT INTO layers (name, title, geometry_type, owner_department, update_regime,"
            " last_updated, is_public) VALUES"
            " ('ads', 'Реклама', 'POINT', 'КП «Київреклама»', 'weekly', now() - interval '1 day', true),"
            " ('kiosks_old', 'МАФ', 'POINT', 'Департамент торгівлі', 'monthly',"
            "  now() - interval '40 days', true),"
            " ('never', 'Ніколи', 'POINT', NULL, 'quarterly', NULL, true),"
            " ('bounds', 'Межі', 'MULTIPOLYGON', NULL, 'on_change', now() - interval '3 years', true),"
            " ('secret', 'Службовий', 'POINT', NULL, 'daily', NULL, false)"
        )
    with TestClient(create_app(Settings(database_url=db_url))) as client:
        r = client.get("/api/v1/layers")
    assert r.status_code == 200
    layers = {layer["name"]: layer for layer in r.json()["layers"]}
    assert set(layers) == {"ads", "kiosks_old", "never", "bounds"}  # not the internal one
    assert layers["ads"]["overdue"] is False and layers["ads"]["due_by"]
    assert layers["ads"]["owner_department"] == "КП «Київреклама»"
    assert layers["kiosks_old"]["overdue"] is True
    assert layers["never"]["overdue"] is True and layers["never"]["last_updated"] is None
    assert layers["bounds"]["overdue"] is False  # updated when the boundary changes
    assert layers["ads"]["collection"] == "/ogc/collections/ads"
    assert layers["ads"]["tilejson"] == "/tiles/ads/tilejson.json"


def test_internal_layers_are_listed_for_staff_only(db_url):
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "INSERT INTO layers (name, title, geometry_type, kind, is_public) VALUES"
            " ('executor_territories', 'Території виконавців', 'MULTIPOLYGON', 'core', true),"
            " ('districts', 'Райони', 'MULTIPOLYGON', 'core', true)"
        )
        user_id = conn.execute(
            "INSERT INTO users (email, full_name, role, email_confirmed_at)"
            " VALUES ('op@layers.test', 'Оператор', 'operator', now()) RETURNING id"
        ).fetchone()[0]
    with TestClient(create_app(Settings(database_url=db_url))) as client:
        anonymous = {la["name"] for la in client.get("/api/v1/layers").json()["layers"]}
        token = asyncio.run(_token(db_url, user_id))
        staff = client.get("/api/v1/layers", headers={"Authorization": f"Bearer {token}"})
    assert anonymous == {"districts"}
    assert {la["name"] for la in staff.json()["layers"]} == {"districts", "executor_territories"}


async def _token(url: str, user_id: int) -> str:
    async with await psycopg.AsyncConnection.connect(libpq_url(url), autocommit=True) as conn:
        session = await accounts.create_session(
            conn, user_id=user_id, kind="bearer", ip=None, user_agent="pytest",
            ttl=dt.timedelta(hours=1),
        )  # fmt: skip
        return session.token
