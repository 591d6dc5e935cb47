"""Every import records its feature changes as feature_events (issue 4, item 7): set-based,
in the import's own transaction, hash-chained by the table's trigger."""

from __future__ import annotations

import getpass

import psycopg
import pytest
from test_importers import BUILDINGS, DATA, DISTRICTS, load_geojson, q, q1, write_geojson

import importers.pipeline
from gis.audit import verify
from importers import ImportFailed, run_import


def _events(url: str) -> list[tuple]:
    return q(url, "SELECT action, feature_id, old, new, layer, actor FROM feature_events"
                  " ORDER BY chain_seq")  # fmt: skip


def _verified(url: str) -> bool:
    with psycopg.connect(url) as conn:
        return verify(conn)["ok"]


def test_thematic_import_records_each_change(db_url, shared_data, tmp_path):
    first = run_import(db_url, shared_data / BUILDINGS, "abandoned_buildings")
    events = _events(db_url)
    assert len(events) == first.added == 310
    assert {e[0] for e in events} == {"added"}
    assert {e[4] for e in events} == {"abandoned_buildings"}
    assert events[0][5].startswith(f"import:{BUILDINGS} (")
    doc = load_geojson(shared_data / BUILDINGS)
    by_id = {e[1]: e for e in events}
    f0 = doc["features"][0]
    added = by_id[f0["id"]]
    assert added[2] is None
    assert {k: v for k, v in added[3].items() if k != "geom"} == f0["properties"]
    assert len(added[3]["geom"]) == 16, "the geometry as a short hash, not the geometry"
    assert _verified(db_url)

    # The same file again: nothing changed, nothing recorded.
    run_import(db_url, shared_data / BUILDINGS, "abandoned_buildings")
    assert q1(db_url, "SELECT count(*) FROM feature_events") == 310

    # One changed, one removed, one added: exactly three events.
    old_name = f0["properties"].get("name")
    f0["properties"]["name"] = "Відновлена будівля"
    removed = doc["features"].pop(1)
    doc["features"].append({"type": "Feature", "id": "way/1", "properties": {"name": "нова"},
                            "geometry": {"type": "Point", "coordinates": [30.5, 50.45]}})  # fmt: skip
    report = run_import(db_url, write_geojson(tmp_path / "b.geojson", doc), "abandoned_buildings")
    assert (report.added, report.changed, report.removed) == (1, 1, 1)
    new = _events(db_url)[310:]
    assert [(e[0], e[1]) for e in new] == [
        ("added", "way/1"), ("changed", f0["id"]), ("removed", removed["id"])
    ]  # fmt: skip
    assert new[0][2] is None and new[0][3]["name"] == "нова"
    assert (new[1][2], new[1][3]) == ({"name": old_name}, {"name": "Відновлена будівля"})
    assert new[2][3] is None and new[2][2]["geom"] == by_id[removed["id"]][3]["geom"]
    assert new[1][5] == new[0][5] == f"import:b.geojson ({getpass.getuser()})"
    assert _verified(db_url)


def test_geometry_change_is_a_hash_and_areas_are_recorded(db_url, shared_data, tmp_path):
    run_import(db_url, shared_data / DISTRICTS, "districts")
    n = q1(db_url, "SELECT count(*) FROM districts")
    assert q1(db_url, "SELECT count(*) FROM feature_events WHERE layer = 'districts'") == n
    doc = load_geojson(shared_data / DISTRICTS)
    geometry = doc["features"][0]["geometry"]
    moved = geometry["coordinates"]
    for ring in moved[0] if geometry["type"] == "MultiPolygon" else moved:
        for point in ring:
            point[0] += 0.001
    run_import(db_url, write_geojson(tmp_path / "d.geojson", doc), "districts")
    (action, _, old, new, _, _) = _events(db_url)[-1]
    assert action == "changed" and list(old) == list(new) == ["geom"]
    assert old["geom"] != new["geom"] and len(new["geom"]) == 16
    assert _verified(db_url)


def test_failed_import_leaves_no_events(db_url, shared_data, monkeypatch):
    def failing_record(conn, report):
        conn.execute("SELECT 1 / 0")

    monkeypatch.setattr(importers.pipeline, "_record_run", failing_record)
    with pytest.raises(ImportFailed, match="division by zero"):
        run_import(db_url, DATA / "bowtie.geojson", "one")
    assert q1(db_url, "SELECT count(*) FROM feature_events") == 0
    assert q(db_url, "SELECT * FROM audit_chain_heads") == []
    assert _verified(db_url)
