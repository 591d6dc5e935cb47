"""The embedded cluster: runs as an unprivileged user under root, stops cleanly, and says
what to install when PostgreSQL is missing."""

import os
import pwd

import psycopg
import pytest

from gis import embedded
from gis.embedded import EmbeddedCluster, EmbeddedDatabaseError, free_port


@pytest.fixture
def cluster(tmp_path):
    os.chmod(tmp_path, 0o755)
    c = EmbeddedCluster(
        base_dir=tmp_path / "pg", port=free_port(), database="probe", throwaway=True
    )
    yield c
    c.destroy()


def test_cluster_starts_with_postgis_stops_and_restarts(cluster):
    cluster.start()
    with psycopg.connect(cluster.url) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        assert conn.execute("SELECT postgis_lib_version()").fetchone()[0].startswith("3.")
        server_user = conn.execute(
            "SELECT usename FROM pg_stat_activity WHERE pid = pg_backend_pid()"
        ).fetchone()[0]
        assert int(conn.execute("SHOW server_version_num").fetchone()[0]) >= 150000
    assert server_user == "postgres"
    if os.geteuid() == 0:  # PostgreSQL refuses root: the files belong to the service user
        assert cluster.pgdata.stat().st_uid == pwd.getpwnam("postgres").pw_uid
    cluster.stop()
    assert not cluster.is_running()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(cluster.url, connect_timeout=2)
    cluster.start()  # the same data directory comes back
    assert cluster.is_running()


def test_start_twice_is_harmless(cluster):
    cluster.start()
    cluster.start()
    assert cluster.is_running()


def test_missing_binaries_name_the_command_to_run(monkeypatch):
    monkeypatch.setattr(embedded, "find_postgres_bindir", lambda: None)
    with pytest.raises(EmbeddedDatabaseError) as err:
        embedded.ensure_binaries(allow_install=False)
    assert "apt-get install -y postgresql-15 postgresql-15-postgis-3" in str(err.value)
