"""GET /api/v1/layers: who keeps each layer, how often, and whether it is overdue."""

import psycopg
from fastapi.testclient import TestClient

from api import create_app
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
