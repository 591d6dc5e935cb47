"""Several API processes behind one address (issue 18, item 4): a real `hromada serve
--processes 2` (two uvicorn workers on one socket, the rate limits in the private
redis-server it starts) on a small demo city. Each request is sent on a keep-alive connection
whose accepting process is read from /proc, so that the test knows which process answered:

- a login-failure limit is counted across both (the failures alternate; the next attempt is
  refused by either, which per-process counters would each have allowed);
- a session made through one is valid through the other, and signing out through that one
  ends it in the first;
- a tile cached by one changes (a new ETag) after a write through the other (each process
  LISTENs for the database's change notices), while a write that sends no notice leaves the
  cached tile as it was (so the tile was really cached).

Everything started (the server, its workers and its redis-server) is stopped in `finally`."""

from __future__ import annotations

import http.client
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from live import ROOT, wait_for
from staff import bearer

from gis.db import libpq_url
from gis.embedded import free_port
from gis.redis_server import ping

DEMO = {"prefix": "procs", "seed": 18, "appeals": 120}
# Far from the demo city's structures: only this test's own features in the tile.
LON, LAT, Z = 30.0, 49.0, 14
LOGIN_LIMIT = 4


def tile_path() -> str:
    n = 2**Z
    x = int((LON + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(LAT))) / math.pi) / 2 * n)
    return f"/tiles/advertising_structures/{Z}/{x}/{y}.mvt"


def _descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _accepted_by(server: int, port: int, client_port: int) -> int | None:
    """The process under `server` holding the accepted end of the connection from
    client_port to port (from /proc/net/tcp's socket inode and the processes' descriptors)."""
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        cols = line.split()
        if int(cols[1].split(":")[1], 16) == port and int(cols[2].split(":")[1], 16) == client_port:
            inode = cols[9]
    if inode in (None, "0"):
        return None
    for pid in _descendants(server):
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    return None


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class Server:
    """`hromada serve --processes 2` on a free port, and keep-alive connections to each of its
    API processes."""

    def __init__(self, db_url: str, data_dir: Path) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("HROMADA_RATE_LIMIT")}
        env.update(HROMADA_DATABASE_URL=db_url, HROMADA_DATA_DIR=str(data_dir),
                   HROMADA_RATE_LIMIT_LOGIN=f"{LOGIN_LIMIT}/minute", HROMADA_DEMO_MODE="false",
                   HROMADA_POOL_MAX_SIZE="3", HROMADA_LOG_LEVEL="warning")  # fmt: skip
        self.log = data_dir / "serve.log"
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from cli.main import main; raise SystemExit(main())",
             "serve", "--host", "127.0.0.1", "--port", str(self.port), "--processes", "2"],
            cwd=ROOT, env=env, stdout=self.log.open("w"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        self.connections: dict[tuple[int, str], http.client.HTTPConnection] = {}
        self.started: set[int] = set()

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self) -> None:
        def healthy() -> bool:
            assert self.process.poll() is None, self.output()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/healthz")
                return conn.getresponse().status == 200
            except OSError:
                return False

        wait_for(healthy, timeout=60, what="the server's /healthz")

    def redis_port(self) -> int:
        found = re.search(r"redis-server at 127\.0\.0\.1:(\d+)", self.output())
        assert found, self.output()
        return int(found.group(1))

    def _connect(self, source: str) -> tuple[http.client.HTTPConnection, int]:
        conn = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=30, source_address=(source, 0)
        )
        conn.request("GET", "/healthz")
        conn.getresponse().read()
        pid = _accepted_by(self.process.pid, self.port, conn.sock.getsockname()[1])
        assert pid is not None
        return conn, pid

    def pin(self, source: str = "127.0.0.1") -> list[int]:
        """Open connections from `source` until one reaches each of the two API processes
        (the kernel hands each new connection to one of them); their pids."""
        seen: dict[int, http.client.HTTPConnection] = {}
        for _ in range(200):
            conn, pid = self._connect(source)
            if pid in seen:
                conn.close()
            else:
                seen[pid] = conn
            if len(seen) == 2:
                break
        assert len(seen) == 2, f"the connections all reached {sorted(seen)}"
        for pid, conn in seen.items():
            self.connections[pid, source] = conn
        return sorted(seen)

    def call(
        self, pid: int, method: str, path: str, body: dict | None = None,
        headers: dict | None = None, source: str = "127.0.0.1",
    ) -> tuple[int, dict, bytes]:  # fmt: skip
        """One request answered by the API process `pid` (reconnecting until a connection
        reaches it again, should it have closed an idle one)."""
        data = json.dumps(body).encode() if body is not None else None
        hdrs = {**(headers or {}), **({"Content-Type": "application/json"} if data else {})}
        for _ in range(200):
            conn = self.connections.get((pid, source))
            if conn is None:
                conn, got = self._connect(source)
                if got != pid:
                    conn.close()
                    continue
                self.connections[pid, source] = conn
            try:
                conn.request(method, path, body=data, headers=hdrs)
                r = conn.getresponse()
                content = r.read()
            except (http.client.RemoteDisconnected, ConnectionError):
                conn.close()
                del self.connections[pid, source]
                continue
            assert _accepted_by(self.process.pid, self.port, conn.sock.getsockname()[1]) == pid
            return r.status, {k.lower(): v for k, v in r.getheaders()}, content
        raise AssertionError(f"no connection reached process {pid}")

    def stop(self) -> None:
        for conn in self.connections.values():
            conn.close()
        self.started = _descendants(self.process.pid)  # the workers, the redis-server
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        try:  # anything of its session still there: the workers, the redis-server
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)


def _silent_sql(url: str, query: str, params=None) -> None:
    """A write with the triggers off (no change notice): what no process hears of."""
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute(query, params)


@pytest.fixture(scope="module")
def citizen(demo_url) -> tuple[str, str]:
    import asyncio

    from gis import accounts

    email, password = "two-processes@example.test", "дуже-довгий-пароль-18"

    async def make() -> None:
        async with await psycopg.AsyncConnection.connect(libpq_url(demo_url), autocommit=True) as c:
            await accounts.create_user(c, email=email, password=password, full_name="Двоє Процесів",
                                       role="citizen", confirmed=True)  # fmt: skip

    asyncio.run(make())
    return email, password


def test_two_processes_share_limits_sessions_and_cache_invalidation(demo_url, citizen, tmp_path):
    server = Server(demo_url, tmp_path)
    redis_port = None
    try:
        server.wait_ready()
        redis_port = server.redis_port()
        a, b = server.pin()

        # A session made through one process is valid through the other; signing out through
        # that one ends it for both (sessions live in PostgreSQL: auth_sessions).
        email, password = citizen
        status, _h, body = server.call(a, "POST", "/api/v1/auth/login",
                                       {"email": email, "password": password})  # fmt: skip
        assert status == 200, body
        auth = {"Authorization": f"Bearer {json.loads(body)['access_token']}"}
        status, _h, body = server.call(b, "GET", "/api/v1/me", headers=auth)
        assert status == 200 and json.loads(body)["email"] == email, body
        assert server.call(b, "POST", "/api/v1/auth/logout", headers=auth)[0] == 200
        assert server.call(a, "GET", "/api/v1/me", headers=auth)[0] == 401

        # A tile cached by B: a write that sends no change notice (triggers off) leaves it as
        # it was; a write through A (the planners' OGC API) changes it at once.
        planner = bearer(demo_url, "planner", label="procs")
        feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [LON, LAT]},
                   "properties": {"code": "PROC-1", "kind": "billboard", "size": "6x3",
                                  "sides": 2, "owner": "ТОВ «Реклама»", "permit_number": "P-1",
                                  "permit_type": "дозвіл", "permit_valid_from": "2026-01-01",
                                  "permit_valid_until": "2027-01-01",
                                  "address": "вул. Тестова, 1"}}  # fmt: skip
        status, _h, body = server.call(
            a, "POST", "/ogc/collections/advertising_structures/items", feature,
            headers={**planner, "Content-Type": "application/geo+json"},
        )  # fmt: skip
        assert status == 201, body
        fid = json.loads(body)["id"]

        def b_tile() -> tuple[str, bytes]:
            status, headers, content = server.call(b, "GET", tile_path())
            assert status == 200
            return headers["etag"], content

        first_etag, first = wait_for(lambda: (t := b_tile())[1] and t, what="the new structure")
        _silent_sql(demo_url, "UPDATE advertising_structures SET geom = "
                    "ST_SetSRID(ST_MakePoint(%s, %s), 4326) WHERE id = %s",
                    (LON + 0.002, LAT + 0.002, fid))  # fmt: skip
        assert b_tile() == (first_etag, first)  # served from B's cache

        feature["properties"]["code"] = "PROC-2"
        feature["geometry"]["coordinates"] = [LON + 0.001, LAT - 0.001]
        status, _h, body = server.call(
            a, "POST", "/ogc/collections/advertising_structures/items", feature,
            headers={**planner, "Content-Type": "application/geo+json"},
        )  # fmt: skip
        assert status == 201, body
        started = time.monotonic()
        wait_for(lambda: b_tile()[0] != first_etag, timeout=10, what="B's tile to change")
        print(f"B's tile changed {time.monotonic() - started:.2f} s after A's write")

        # The login-failure limit of one address, counted across both processes: failures
        # alternate between them; the next attempt is refused by either. (Per-process counters
        # would have seen LOGIN_LIMIT / 2 each and let it through.)
        ip = "127.0.0.2"
        server.pin(ip)
        for i in range(LOGIN_LIMIT):
            status, _h, body = server.call((a, b)[i % 2], "POST", "/api/v1/auth/login",
                                           {"email": f"nobody-{i}@example.test",
                                            "password": "wrong"}, source=ip)  # fmt: skip
            assert status == 401, body
        for pid in (a, b):
            status, headers, body = server.call(pid, "POST", "/api/v1/auth/login",
                                                {"email": email, "password": password},
                                                source=ip)  # fmt: skip
            assert status == 429, body
            assert json.loads(body)["code"] == "rate_limited" and int(headers["retry-after"]) >= 1
        # Another address is not held back, through either process.
        assert server.call(b, "POST", "/api/v1/auth/login",
                           {"email": email, "password": password})[0] == 200  # fmt: skip
        assert ping(redis_port)
    finally:
        server.stop()
    assert server.process.returncode == 0, server.output()
    assert redis_port is not None and not ping(redis_port), "redis-server still running"
    # (multiprocessing's resource tracker ends a moment after the server)
    wait_for(lambda: not any(_alive(pid) for pid in server.started), timeout=10,
             what="every process the server started to end")  # fmt: skip


def test_the_shared_storage_counts_for_every_limiter_and_its_loss_is_no_500(tmp_path):
    """Two limiters (as in two processes) on one private redis-server count together; with
    the redis-server gone, each counts alone in memory instead of failing the request."""
    from api.ratelimit import RateLimiter, shared_storage_needed
    from gis.errors import RateLimited
    from gis.redis_server import RedisServer
    from gis.settings import Settings

    assert not shared_storage_needed(Settings(), 1) and shared_storage_needed(Settings(), 2)
    assert not shared_storage_needed(Settings(rate_limit_storage="memory://"), 2)
    redis = RedisServer(tmp_path / "redis").start()
    try:
        settings = Settings(rate_limit_storage=redis.url, rate_limit_login="3/minute")
        one, two = RateLimiter(settings), RateLimiter(settings)
        one.hit("login", "ip", "203.0.113.5")
        two.hit("login", "ip", "203.0.113.5")
        one.hit("login", "ip", "203.0.113.5")
        with pytest.raises(RateLimited):
            two.hit("login", "ip", "203.0.113.5")
    finally:
        redis.stop()
    assert not redis.is_running() and not ping(redis.port)
    for _ in range(3):  # the storage gone: counted in this process, never an error
        one.hit("login", "ip", "203.0.113.6")
    with pytest.raises(RateLimited):
        one.hit("login", "ip", "203.0.113.6")
