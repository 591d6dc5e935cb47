"""The schema is built by Alembic from an empty database, and taken down again."""

import psycopg
import pytest
from pyproj import Transformer

from gis.migrate import current_revision, downgrade, upgrade

EXPECTED_TABLES = {
    "hromadas", "districts", "wards", "deputies", "executors", "executor_territories",
    "categories", "routing_rules", "appeals", "appeal_authors", "appeal_events",
    "advertising_structures", "kiosks", "layers", "layer_features", "streets", "import_runs",
    "users", "user_identities", "auth_sessions", "user_tokens", "personal_data_access",
    "login_failures",
    "appeal_photos", "idempotency_keys", "appeal_supporters",
    "resolutions", "feature_events", "audit_chain_heads",
    "notifications", "dispatch_subscriptions", "dispatch_batches", "dispatch_items",
    "permit_notices", "service_keys",
    "open311_clients", "open311_calls", "open311_tokens",
    "permit_documents", "placement_rules", "appeal_structures",
    "councils", "council_categories",
    "appeal_ids",  # the anchor of the partitioned appeals (0020)
    # procrastinate's (gis/jobs.py)
    "procrastinate_jobs", "procrastinate_events", "procrastinate_periodic_defers",
    "procrastinate_workers",
}  # fmt: skip
VERSIONED_AREAS = {"hromadas", "districts", "wards", "executor_territories"}


def _tables(url):
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
            # the months of appeals and appeal_events (0020) are partitions, not tables of ours
            " AND table_name NOT IN (SELECT relname FROM pg_class WHERE relispartition)"
        ).fetchall()
    return {r[0] for r in rows} - {"spatial_ref_sys", "alembic_version"}


def test_upgrade_from_empty_builds_every_table(empty_db_url):
    assert _tables(empty_db_url) == set()
    upgrade(empty_db_url)
    assert _tables(empty_db_url) == EXPECTED_TABLES
    assert current_revision(empty_db_url) is not None


def test_geometry_is_4326_with_gist_indexes_and_3857_copies_for_tiles(empty_db_url):
    upgrade(empty_db_url)
    with psycopg.connect(empty_db_url) as conn:
        cols = conn.execute(
            "SELECT f_table_name, f_geometry_column, srid FROM geometry_columns"
        ).fetchall()
        gist = {
            (r[0], r[1])
            for r in conn.execute(
                "SELECT t.relname, a.attname FROM pg_index x "
                "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
                "JOIN pg_am am ON am.oid = i.relam "
                "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(x.indkey) "
                "WHERE am.amname = 'gist'"
            ).fetchall()
        }
    by_column = {(t, c): srid for t, c, srid in cols}
    for table in EXPECTED_TABLES & {t for t, _ in by_column}:
        assert by_column[(table, "geom")] == 4326, table
        assert (table, "geom") in gist, f"{table}.geom has no GiST index"
    assert by_column[("appeals", "geom_3857")] == 3857
    assert ("appeals", "geom_3857") in gist


def test_areas_are_versioned(empty_db_url):
    upgrade(empty_db_url)
    with psycopg.connect(empty_db_url) as conn:
        for table in VERSIONED_AREAS:
            cols = {
                r[0]
                for r in conn.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = %s",
                    (table,),
                )
            }
            assert {"version", "valid_from", "valid_to"} <= cols, table


def test_3857_copy_follows_the_4326_geometry(empty_db_url):
    upgrade(empty_db_url)
    with psycopg.connect(empty_db_url) as conn:
        conn.execute("INSERT INTO layers (name, title, geometry_type) VALUES ('t', 'T', 'Point')")
        conn.execute(
            "INSERT INTO layer_features (layer_name, feature_key, content_hash, geom) "
            "VALUES ('t', 'a', 'x', ST_SetSRID(ST_MakePoint(30.5234, 50.4501), 4326))"
        )
        x, y = conn.execute(
            "SELECT ST_X(geom_3857), ST_Y(geom_3857) FROM layer_features"
        ).fetchone()
    ex, ey = Transformer.from_crs(4326, 3857, always_xy=True).transform(30.5234, 50.4501)
    assert abs(x - ex) < 0.01 and abs(y - ey) < 0.01


def test_downgrade_to_base_and_back(empty_db_url):
    upgrade(empty_db_url)
    downgrade(empty_db_url, "base")
    assert _tables(empty_db_url) == set()
    with psycopg.connect(empty_db_url) as conn:
        assert conn.execute("SELECT to_regclass('appeal_number_seq')").fetchone()[0] is None
        # procrastinate's functions and types went with its tables.
        left = conn.execute(
            "SELECT proname FROM pg_proc WHERE proname LIKE 'procrastinate%%' UNION ALL"
            " SELECT typname FROM pg_type WHERE typname LIKE 'procrastinate%%'"
        ).fetchall()
        assert left == []
    upgrade(empty_db_url)
    assert _tables(empty_db_url) == EXPECTED_TABLES


def test_models_and_migrations_agree(empty_db_url):
    """A model changed without a migration (or the reverse) fails here."""
    from alembic import command

    from gis.migrate import alembic_config

    upgrade(empty_db_url)
    command.check(alembic_config(empty_db_url))  # raises when autogenerate finds a difference


def test_one_current_version_per_area_is_enforced(empty_db_url):
    upgrade(empty_db_url)
    square = "ST_Multi(ST_MakeEnvelope(30, 50, 30.1, 50.1, 4326))"
    with psycopg.connect(empty_db_url) as conn:
        conn.execute(f"INSERT INTO districts (code, name, geom) VALUES ('UA1', 'A', {square})")
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(
                f"INSERT INTO districts (code, name, version, geom) VALUES ('UA1', 'A', 2, {square})"
            )
