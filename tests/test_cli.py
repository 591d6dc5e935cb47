"""The `hromada` command as a newcomer meets it: help, and `run` from an empty data directory
to a served map and back to a stopped database on Ctrl-C."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from gis.embedded import EmbeddedCluster, free_port

HROMADA = str(Path(sys.executable).with_name("hromada"))
SUBCOMMANDS = ["run", "serve", "purge", "db", "migrate", "import", "load", "demo", "open311"]


def test_help_lists_every_subcommand():
    out = subprocess.run([HROMADA, "--help"], capture_output=True, text=True, check=True).stdout
    for name in SUBCOMMANDS:
        assert f"\n    {name} " in out, name


@pytest.mark.parametrize(
    ("stop", "processes"), [(signal.SIGINT, 1), (signal.SIGTERM, 2)], ids=["ctrl-c", "sigterm"]
)
def test_run_serves_the_map_then_stops_the_database_on_ctrl_c(tmp_path, stop, processes):
    """Ctrl-C, or SIGTERM as `docker stop` and systemd send: the server ends and so does the
    embedded database (and, with two API processes, the redis-server of their rate limits)."""
    data_dir, db_port, http_port = tmp_path / "state", free_port(), free_port()
    env = dict(os.environ, HROMADA_DATA_DIR=str(data_dir), HROMADA_EMBEDDED_PORT=str(db_port),
               PORT=str(http_port), HOST="127.0.0.1",
               HROMADA_WEB_PROCESSES=str(processes))  # fmt: skip
    env.pop("HROMADA_RATE_LIMIT_STORAGE", None)
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen([HROMADA, "run", "--appeals", "500"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    cluster = EmbeddedCluster(base_dir=data_dir, port=db_port)
    try:
        base = f"http://127.0.0.1:{http_port}"
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read()
            try:
                health = httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.5)
        else:
            pytest.fail("hromada run did not serve within 5 minutes")
        assert health.status_code == 200
        assert cluster.is_running()
        districts = httpx.get(f"{base}/ogc/collections/districts/items", timeout=10).json()
        assert len(districts["features"]) == 10
        assert "leaflet" in httpx.get(base + "/", timeout=10).text.lower()

        proc.send_signal(stop)
        output, _ = proc.communicate(timeout=60)
        assert proc.returncode in (0, 130), output
        assert not cluster.is_running(), output
        assert f"http://127.0.0.1:{http_port}/" in output
        if processes > 1:  # the run's own redis-server, stopped with it
            from gis.redis_server import ping

            redis = re.search(r"redis-server at 127\.0\.0\.1:(\d+)", output)
            assert redis, output
            assert not ping(int(redis.group(1)))
    finally:
        if proc.poll() is None:
            proc.kill()
        cluster.destroy()


def test_run_refuses_a_busy_port_and_leaves_the_running_database_alone(tmp_path):
    import socket

    data_dir, db_port = tmp_path / "state", free_port()
    cluster = EmbeddedCluster(base_dir=data_dir, port=db_port)
    cluster.start()
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    try:
        env = dict(os.environ, HROMADA_DATA_DIR=str(data_dir), HROMADA_EMBEDDED_PORT=str(db_port),
                   PORT=str(busy.getsockname()[1]), HOST="127.0.0.1")  # fmt: skip
        env.pop("DATABASE_URL", None)
        done = subprocess.run([HROMADA, "run"], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 2
        assert "already in use" in done.stderr
        assert cluster.is_running()
    finally:
        busy.close()
        cluster.destroy()


def test_purge_applies_the_retention_periods(db_url):
    import psycopg

    with psycopg.connect(db_url) as conn:
        user = conn.execute(
            "INSERT INTO users (email, full_name, role) VALUES ('a@example.org', 'А', 'citizen') "
            "RETURNING id"
        ).fetchone()[0]
        conn.execute(
            "INSERT INTO auth_sessions (token_hash, user_id, kind, expires_at) VALUES "
            "('old', %(u)s, 'bearer', now() - interval '3 days'), "
            "('live', %(u)s, 'bearer', now() + interval '3 days')",
            {"u": user},
        )
    env = dict(os.environ, DATABASE_URL=db_url)
    done = subprocess.run([HROMADA, "purge"], env=env, capture_output=True, text=True, check=True)
    assert '"sessions": 1' in done.stdout
    with psycopg.connect(db_url) as conn:
        left = [r[0] for r in conn.execute("SELECT token_hash FROM auth_sessions")]
    assert left == ["live"]
