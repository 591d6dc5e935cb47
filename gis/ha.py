"""High availability on existing engines (issue 18): etcd (Debian's `etcd-server`) as the
distributed configuration store and Patroni (PyPI, the `ha` extra) managing Debian's
PostgreSQL 15 + PostGIS — one primary, its streaming replicas, and a failover when the
primary dies.

This module starts such a cluster on THIS machine — an etcd member and Patroni nodes, each in
its own directory at free ports on 127.0.0.1 — for tests/test_ha.py and for trying the setup
by hand; docs/HA.md says how a city runs it on several machines (3 etcd members, 2+ Patroni
nodes, synchronous_mode). The service reaches the cluster through a multi-host URL,
`postgresql://postgres@h1:p1,h2:p2/hromada?target_session_attrs=read-write` (`HaCluster.url`):
libpq tries the hosts in turn and keeps the one that accepts writes, so after a failover the
pool's new connections find the promoted replica by themselves.

PostgreSQL refuses to run as root, so when we are root Patroni runs as the `postgres` system
user (as gis/embedded does for its cluster), with an interpreter that user can execute: the
venv's, or else the system's python3 of the same version with the venv's site-packages on its
path (a venv made from an interpreter under /root cannot be run by another user).
"""

from __future__ import annotations

import importlib.util
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from gis.child_programs import alive, children
from gis.embedded import (
    SERVICE_USER,
    EmbeddedDatabaseError,
    _is_root,
    _reachable_by,
    ensure_binaries,
    free_port,
)

ETCD_HINT = "sudo apt-get install -y etcd-server"
PATRONI_HINT = "pip install -e '.[ha]' (Patroni with its etcd3 client)"


class HaError(RuntimeError):
    """The HA cluster cannot be set up or did not reach the state waited for."""


def _http_json(url: str, timeout: float = 2.0) -> tuple[int, dict]:
    """GET `url`: (status, JSON body) — (0, {}) when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        try:
            return e.code, json.loads(e.read() or b"{}")
        except ValueError:
            return e.code, {}
    except (OSError, ValueError):
        return 0, {}


def _wait(check, timeout: float, what: str, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(step)
    raise HaError(f"timed out after {timeout:.0f} s waiting for {what}")


def _own(path: Path) -> None:
    if _is_root():
        pw = pwd.getpwnam(SERVICE_USER)
        os.chown(path, pw.pw_uid, pw.pw_gid)


def _kill_group(process: subprocess.Popen | None, sig: int, wait: float) -> None:
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        return
    try:
        process.wait(wait)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


# --- etcd -----------------------------------------------------------------------------------


@dataclass
class Etcd:
    """One etcd member (a single-member cluster) in `base_dir`, on 127.0.0.1."""

    base_dir: Path
    name: str = "hromada-etcd"
    client_port: int = field(default_factory=free_port)
    peer_port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def client_url(self) -> str:
        return f"http://127.0.0.1:{self.client_port}"

    @property
    def hosts(self) -> str:
        """Patroni's `etcd3.hosts`."""
        return f"127.0.0.1:{self.client_port}"

    def start(self, timeout: float = 30) -> Etcd:
        binary = shutil.which("etcd") or "/usr/bin/etcd"
        if not Path(binary).exists():
            raise HaError(f"etcd is not installed. Run: {ETCD_HINT}")
        self.base_dir = Path(self.base_dir)
        self.base_dir.mkdir(parents=True, exist_ok=True)
        peer = f"http://127.0.0.1:{self.peer_port}"
        log = (self.base_dir / "etcd.log").open("ab")
        self.process = subprocess.Popen(
            [binary, "--name", self.name, "--data-dir", str(self.base_dir / "data"),
             "--listen-client-urls", self.client_url, "--advertise-client-urls", self.client_url,
             "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
             "--initial-cluster", f"{self.name}={peer}", "--initial-cluster-state", "new",
             "--initial-cluster-token", f"hromada-{self.client_port}"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        log.close()

        def healthy() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise HaError("etcd exited:\n" + self.output())
            status, body = _http_json(f"{self.client_url}/health")
            return status == 200 and body.get("health") == "true"

        _wait(healthy, timeout, "etcd's /health")
        return self

    def output(self) -> str:
        path = Path(self.base_dir) / "etcd.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def stop(self) -> None:
        _kill_group(self.process, signal.SIGTERM, 10)


# --- Patroni ----------------------------------------------------------------------------------


def patroni_python() -> tuple[str, dict[str, str]]:
    """An interpreter that the user running Patroni can execute and that imports Patroni, and
    the environment it needs (PYTHONPATH when it is not the venv's own)."""
    spec = importlib.util.find_spec("patroni")
    if spec is None or spec.origin is None:
        raise HaError(f"Patroni is not installed. Run: {PATRONI_HINT}")
    site = str(Path(spec.origin).resolve().parent.parent)
    if not _is_root() or _reachable_by(SERVICE_USER, Path(os.path.realpath(sys.executable))):
        return sys.executable, {}
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    system = Path("/usr/bin") / version
    if not system.exists() or not _reachable_by(SERVICE_USER, Path(site)):
        raise HaError(
            f"the {SERVICE_USER} user can run neither {sys.executable} nor {system} with "
            f"Patroni from {site}"
        )
    return str(system), {"PYTHONPATH": site}


@dataclass
class PatroniNode:
    """One Patroni node: its PostgreSQL in `base_dir/pgdata` on `pg_port`, its REST API on
    `api_port`, its state in etcd under /service/<scope>."""

    name: str
    base_dir: Path
    etcd_hosts: str
    scope: str = "hromada"
    pg_port: int = field(default_factory=free_port)
    api_port: int = field(default_factory=free_port)
    synchronous_mode: bool = True
    ttl: int = 20  # Patroni's least: the leader key of a dead primary expires after this
    # tests: no fsync (a killed process loses nothing the kernel holds; only a machine's crash
    # would); commits still wait for the synchronous standby
    throwaway: bool = False
    process: subprocess.Popen | None = None

    @property
    def pgdata(self) -> Path:
        return Path(self.base_dir) / "pgdata"

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.pg_port}"

    def config(self) -> dict:
        bindir = ensure_binaries()
        trust = [
            "local all all trust",
            "host all all 127.0.0.1/32 trust",
            "host replication all 127.0.0.1/32 trust",
        ]
        return {
            "scope": self.scope,
            "name": self.name,
            "log": {"level": "INFO", "dir": str(self.base_dir), "file_num": 2},
            "restapi": {
                "listen": f"127.0.0.1:{self.api_port}",
                "connect_address": f"127.0.0.1:{self.api_port}",
            },
            "etcd3": {"hosts": self.etcd_hosts},
            "bootstrap": {
                "dcs": {
                    "ttl": self.ttl,
                    "loop_wait": 1,
                    "retry_timeout": 5,
                    "maximum_lag_on_failover": 1048576,
                    "synchronous_mode": self.synchronous_mode,
                    "postgresql": {
                        "use_pg_rewind": False,
                        "use_slots": True,
                        "parameters": {
                            "wal_level": "replica",
                            "hot_standby": "on",
                            "max_wal_senders": 10,
                            "max_replication_slots": 10,
                            "wal_keep_size": "128MB",
                        },
                    },
                },
                # as gis/embedded's initdb: Ukrainian collation by ICU
                "initdb": [
                    {"encoding": "UTF8"},
                    {"locale": "C.UTF-8"},
                    {"locale-provider": "icu"},
                    {"icu-locale": "uk-UA"},
                    {"auth": "trust"},
                ],
            },
            "postgresql": {
                "listen": self.host,
                "connect_address": self.host,
                "data_dir": str(self.pgdata),
                "bin_dir": str(bindir),
                "pgpass": str(Path(self.base_dir) / "pgpass"),
                "pg_hba": trust,
                "authentication": {
                    "superuser": {"username": SERVICE_USER},
                    "replication": {"username": SERVICE_USER},
                },
                "parameters": {
                    "unix_socket_directories": str(self.base_dir),
                    "shared_buffers": "128MB",
                    "logging_collector": "off",
                    **({"fsync": "off", "full_page_writes": "off"} if self.throwaway else {}),
                },
                "basebackup": [{"checkpoint": "fast"}],
            },
            "tags": {"nofailover": False, "noloadbalance": False},
        }

    def start(self) -> PatroniNode:
        """Patroni in the background: the first node of a scope bootstraps (initdb) and
        becomes the primary, the next ones clone it (pg_basebackup) and follow."""
        self.base_dir = Path(self.base_dir)
        self.base_dir.mkdir(parents=True, exist_ok=True)
        _own(self.base_dir)
        conf = self.base_dir / "patroni.json"  # YAML is a superset of JSON
        conf.write_text(json.dumps(self.config(), indent=1))
        _own(conf)
        python, extra = patroni_python()
        cmd = [python, "-m", "patroni", str(conf)]
        if _is_root():
            cmd = ["runuser", "-u", SERVICE_USER, "--", *cmd]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PATRONI", "PG"))}
        env.update(extra)
        log = (self.base_dir / "patroni.out").open("ab")
        self.process = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.base_dir,
            start_new_session=True,
        )  # fmt: skip
        log.close()
        return self

    def state(self) -> dict:
        """Patroni's own view (GET /patroni): role (primary/replica), state, timeline…"""
        return _http_json(f"{self.api}/patroni")[1]

    def is_primary(self) -> bool:
        """The leader, running and accepting writes (GET /primary answers 200)."""
        return _http_json(f"{self.api}/primary")[0] == 200

    def is_sync_standby(self) -> bool:
        """A synchronous standby that streams (GET /sync answers 200)."""
        return _http_json(f"{self.api}/sync")[0] == 200

    def is_streaming_replica(self) -> bool:
        status, body = _http_json(f"{self.api}/replica")
        return status == 200 and body.get("replication_state") == "streaming"

    def wait(self, check, timeout: float, what: str) -> None:
        def done() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise HaError(f"Patroni {self.name} exited:\n{self.output()}")
            return bool(check())

        _wait(done, timeout, f"{self.name}: {what}")

    def output(self) -> str:
        text = ""
        for name in ("patroni.out", "patroni.log"):
            path = Path(self.base_dir) / name
            if path.exists():
                text += path.read_text(errors="replace")[-2500:]
        return text

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.pgdata / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def kill(self) -> None:
        """The node's machine lost: SIGKILL to Patroni, then to its postmaster (which Patroni
        runs detached: it would outlive Patroni), and wait for the backends to exit."""
        pid = self.postmaster_pid()
        _kill_group(self.process, signal.SIGKILL, 10)
        if pid is not None and alive(pid):
            kids = children(pid)
            os.kill(pid, signal.SIGKILL)
            _wait(lambda: not any(alive(p) for p in [pid, *kids]), 20,
                  f"{self.name}'s postgres processes to exit")  # fmt: skip

    def stop(self) -> None:
        """Patroni stopped (it stops its PostgreSQL fast); whatever remains is killed."""
        _kill_group(self.process, signal.SIGTERM, 20)
        pid = self.postmaster_pid()
        if pid is not None and alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@dataclass
class HaCluster:
    """etcd and `nodes` Patroni nodes under `base_dir`; `url` is the service's multi-host URL
    of `database`. Use as a context manager: everything is stopped and removed at the end."""

    base_dir: Path
    nodes: int = 2
    database: str = "hromada"
    synchronous_mode: bool = True
    throwaway: bool = False  # tests: PatroniNode.throwaway
    etcd: Etcd | None = None
    members: list[PatroniNode] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.base_dir = Path(self.base_dir).resolve()
        if _is_root() and not _reachable_by(SERVICE_USER, self.base_dir.parent):
            raise EmbeddedDatabaseError(
                f"{self.base_dir}: the {SERVICE_USER} user cannot reach it (choose one under /tmp)"
            )

    @property
    def url(self) -> str:
        hosts = ",".join(node.host for node in self.members)
        return (f"postgresql://{SERVICE_USER}@{hosts}/{self.database}"
                "?target_session_attrs=read-write&connect_timeout=2")  # fmt: skip

    def node_url(self, node: PatroniNode, database: str | None = None) -> str:
        return f"postgresql://{SERVICE_USER}@{node.host}/{database or self.database}"

    def start(self, timeout: float = 90) -> HaCluster:
        """etcd, then the first node (bootstraps, becomes the primary), then the others
        (clone it, stream from it); returns once a replica streams (and, with
        synchronous_mode, is the synchronous standby) and `database` exists."""
        self.base_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.base_dir, 0o755)
        self.etcd = Etcd(self.base_dir / "etcd").start()
        scope = f"hromada-{self.etcd.client_port}"
        for n in range(self.nodes):
            node = PatroniNode(
                f"node{n + 1}", self.base_dir / f"node{n + 1}", self.etcd.hosts, scope=scope,
                synchronous_mode=self.synchronous_mode, throwaway=self.throwaway,
            )  # fmt: skip
            self.members.append(node)
        first, others = self.members[0], self.members[1:]
        first.start().wait(first.is_primary, timeout, "bootstrapped as the primary")
        self.create_database(first)
        for node in others:
            node.start()
        for node in others:
            node.wait(node.is_streaming_replica, timeout, "streaming from the primary")
        if self.synchronous_mode and others:
            _wait(lambda: any(n.is_sync_standby() for n in others), timeout,
                  "a synchronous standby")  # fmt: skip
        return self

    def create_database(self, node: PatroniNode) -> None:
        import psycopg

        with psycopg.connect(self.node_url(node, "postgres"), autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                (self.database,)).fetchone():  # fmt: skip
                conn.execute(f'CREATE DATABASE "{self.database}"')

    def primary(self) -> PatroniNode | None:
        return next((node for node in self.members if node.is_primary()), None)

    def stop(self) -> None:
        """Every Patroni (and its PostgreSQL) and etcd stopped, their directories removed."""
        try:
            for node in self.members:
                node.stop()
            if self.etcd is not None:
                self.etcd.stop()
        finally:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def __enter__(self) -> HaCluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """`python -m gis.ha DIR [NODES]`: etcd and NODES (2) Patroni nodes under DIR (which the
    postgres user can reach, e.g. under /tmp) until Ctrl-C; prints the multi-host URL to give
    `hromada migrate` / `hromada serve` as HROMADA_DATABASE_URL and each node's REST API (kill
    the primary's to see a failover: docs/HA.md). Everything is removed at the end."""
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python -m gis.ha DIR [NODES]", file=sys.stderr)
        return 2
    with HaCluster(Path(args[0]), nodes=int(args[1]) if len(args) > 1 else 2) as cluster:
        print(f"HROMADA_DATABASE_URL='{cluster.url}'", flush=True)
        for node in cluster.members:
            role = "primary" if node.is_primary() else "replica"
            print(f"{node.name}: {role}, postgres {node.host}, Patroni {node.api}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
