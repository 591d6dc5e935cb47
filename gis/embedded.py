"""The embedded PostgreSQL + PostGIS cluster used when no DATABASE_URL is given.

It lives in a project-local data directory, listens on 127.0.0.1 at a private port (and a
unix socket inside the data directory), and is driven with Debian's `initdb` and `pg_ctl`.
PostgreSQL refuses to run as root, so when we are root the cluster belongs to the
unprivileged `postgres` system user that Debian's packages create.

Authentication is `trust` on loopback only: the cluster is a developer's and a test run's
private database. A city's deployment sets DATABASE_URL to its managed server instead.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

DEBIAN_PACKAGES = ["postgresql-15", "postgresql-15-postgis-3"]
INSTALL_HINT = "sudo apt-get install -y " + " ".join(DEBIAN_PACKAGES)
SERVICE_USER = "postgres"


class EmbeddedDatabaseError(RuntimeError):
    """The embedded cluster cannot be set up; the message says what to do."""


def _is_root() -> bool:
    return os.geteuid() == 0


def find_postgres_bindir() -> Path | None:
    """Newest Debian PostgreSQL (15 or later) that has PostGIS 3 installed beside it."""
    candidates = []
    for bindir in Path("/usr/lib/postgresql").glob("*/bin"):
        version = bindir.parent.name
        if not version.isdigit() or int(version) < 15:
            continue
        control = Path(f"/usr/share/postgresql/{version}/extension/postgis.control")
        if (bindir / "pg_ctl").exists() and control.exists():
            candidates.append((int(version), bindir))
    return max(candidates)[1] if candidates else None


def ensure_binaries(*, allow_install: bool = True) -> Path:
    """Return the bin directory, installing Debian's packages first when we are allowed to."""
    bindir = find_postgres_bindir()
    if bindir:
        return bindir
    if allow_install and _is_root() and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env, capture_output=True)
        done = subprocess.run(
            ["apt-get", "install", "-y", "-qq", *DEBIAN_PACKAGES], env=env, capture_output=True
        )
        bindir = find_postgres_bindir()
        if bindir:
            return bindir
        raise EmbeddedDatabaseError(
            "Could not install PostgreSQL with PostGIS: "
            + done.stderr.decode(errors="replace")[-500:]
        )
    raise EmbeddedDatabaseError(
        f"PostgreSQL 15+ with PostGIS 3 is not installed. Run: {INSTALL_HINT} "
        "(or set DATABASE_URL to an existing PostGIS server)."
    )


def _reachable_by(user: str, path: Path) -> bool:
    """Can `user` traverse every ancestor of `path`?"""
    for parent in [path, *path.parents]:
        if parent.exists():
            probe = subprocess.run(["runuser", "-u", user, "--", "test", "-x", str(parent)])
            if probe.returncode != 0:
                return False
    return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class EmbeddedCluster:
    """One PostgreSQL cluster in `base_dir` (its data in `base_dir/pgdata`)."""

    base_dir: Path
    port: int
    database: str = "hromada"
    throwaway: bool = False  # tests: no fsync, nothing worth keeping
    bindir: Path | None = None  # PostgreSQL's programs, found on first use
    wal_archive_dir: Path | None = None  # PITR: archive WAL here (docs/PITR.md)

    def __post_init__(self) -> None:
        self.base_dir = Path(self.base_dir).resolve()
        if _is_root() and not _reachable_by(SERVICE_USER, self.base_dir.parent):
            # The checkout sits somewhere the service user cannot enter (say /root/...):
            # keep the cluster under /var/lib, one per checkout.
            digest = hashlib.sha1(str(self.base_dir).encode()).hexdigest()[:12]
            self.base_dir = Path("/var/lib/hromada") / digest

    @property
    def pgdata(self) -> Path:
        return self.base_dir / "pgdata"

    @property
    def logfile(self) -> Path:
        return self.base_dir / "postgresql.log"

    @property
    def url(self) -> str:
        return f"postgresql://{SERVICE_USER}@127.0.0.1:{self.port}/{self.database}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        self.bindir = self.bindir or ensure_binaries()
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if _is_root():
            cmd = ["runuser", "-u", SERVICE_USER, "--", *cmd]
        result = subprocess.run(cmd, capture_output=True, text=True)
        if check and result.returncode != 0:
            log = self.logfile.read_text(errors="replace")[-1500:] if self.logfile.exists() else ""
            raise EmbeddedDatabaseError(
                f"{args[0]} failed ({result.returncode}): {result.stderr.strip()}\n{log}"
            )
        return result

    def _own(self, path: Path) -> None:
        if _is_root():
            pw = pwd.getpwnam(SERVICE_USER)
            os.chown(path, pw.pw_uid, pw.pw_gid)

    def init(self) -> None:
        """initdb once; a data directory that already exists is left as it is."""
        self.bindir = self.bindir or ensure_binaries()
        if (self.pgdata / "PG_VERSION").exists():
            return
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self._own(self.base_dir)
        self.pgdata.mkdir(mode=0o700, exist_ok=True)
        self._own(self.pgdata)
        self._run(
            "initdb", "-D", str(self.pgdata), "-U", SERVICE_USER, "--auth=trust",
            "--encoding=UTF8", "--locale=C.UTF-8", "--locale-provider=icu", "--icu-locale=uk-UA",
        )  # fmt: skip
        conf = [
            "listen_addresses = '127.0.0.1'",
            f"port = {self.port}",
            f"unix_socket_directories = '{self.pgdata}'",
            "shared_buffers = 256MB",
            "work_mem = 32MB",
            "maintenance_work_mem = 256MB",
            "max_wal_size = 2GB",
            "logging_collector = off",
        ]
        if self.throwaway:
            conf += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
        with open(self.pgdata / "postgresql.auto.conf", "a") as f:
            f.write("\n".join(conf) + "\n")

    def configure_archiving(self) -> bool:
        """With wal_archive_dir: archive_mode on and an archive_command copying each finished
        WAL segment there (never over an existing file), in postgresql.auto.conf. True when
        the file changed (archive_mode takes effect at the next start)."""
        if self.wal_archive_dir is None:
            return False
        archive = Path(self.wal_archive_dir).resolve()
        archive.mkdir(parents=True, exist_ok=True)
        self._own(archive)
        if _is_root() and not _reachable_by(SERVICE_USER, archive):
            raise EmbeddedDatabaseError(
                f"HROMADA_WAL_ARCHIVE_DIR={archive}: the {SERVICE_USER} user cannot reach it"
            )
        wanted = [
            "archive_mode = on",
            f"archive_command = 'test ! -f {archive}/%f && cp %p {archive}/%f'",
            "archive_timeout = 60",
        ]
        conf = self.pgdata / "postgresql.auto.conf"
        lines = conf.read_text().splitlines()
        kept = [ln for ln in lines if not ln.split("=")[0].strip().startswith("archive_")]
        if kept + wanted == lines:
            return False
        conf.write_text("\n".join(kept + wanted) + "\n")
        return True

    def is_running(self) -> bool:
        if not (self.pgdata / "postmaster.pid").exists():
            return False
        self.bindir = self.bindir or ensure_binaries()
        return self._run("pg_ctl", "status", "-D", str(self.pgdata), check=False).returncode == 0

    def start(self) -> None:
        self.init()
        if self.configure_archiving() and self.is_running():
            print(f"WAL archiving into {self.wal_archive_dir} starts when the cluster is"
                  " restarted (hromada db stop, then start)", file=sys.stderr)  # fmt: skip
        if not self.is_running():
            if not self.logfile.exists():
                self.logfile.touch()
                self._own(self.logfile)
            self._run(
                "pg_ctl", "start", "-w", "-t", "60", "-D", str(self.pgdata),
                "-l", str(self.logfile), "-o", f"-p {self.port}",
            )  # fmt: skip
        self._wait_ready()
        self.create_database(self.database)

    def _wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise EmbeddedDatabaseError(f"PostgreSQL did not accept connections on port {self.port}")

    def create_database(self, name: str) -> None:
        import psycopg

        admin = f"postgresql://{SERVICE_USER}@127.0.0.1:{self.port}/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')

    def drop_database(self, name: str) -> None:
        import psycopg

        admin = f"postgresql://{SERVICE_USER}@127.0.0.1:{self.port}/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self.is_running():
            self._run("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.pgdata), check=False)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.base_dir, ignore_errors=True)

    def make_replica(self, base_dir: Path, port: int) -> EmbeddedCluster:
        """A streaming read replica of this running cluster in `base_dir` (issue 18; see the
        README, «Read replica»): `pg_basebackup -R` over the loopback's trusted replication
        connection (initdb's pg_hba allows it; wal_level replica is PostgreSQL's default),
        with its own port and socket directory. Start it with `.start()`; it follows the
        primary until promoted or destroyed. A data directory that exists is kept as it is."""
        replica = EmbeddedCluster(
            base_dir=base_dir, port=port, database=self.database, throwaway=self.throwaway,
            bindir=self.bindir,
        )  # fmt: skip
        if (replica.pgdata / "PG_VERSION").exists():
            return replica
        replica.base_dir.mkdir(parents=True, exist_ok=True)
        replica._own(replica.base_dir)
        self._run(
            "pg_basebackup", "-D", str(replica.pgdata), "-h", "127.0.0.1", "-p", str(self.port),
            "-U", SERVICE_USER, "-R", "-X", "stream", "-c", "fast",
            *(["--no-sync"] if self.throwaway else []),
        )  # fmt: skip
        with open(replica.pgdata / "postgresql.auto.conf", "a") as f:
            f.write(
                f"port = {port}\n"
                f"unix_socket_directories = '{replica.pgdata}'\n"
                # the primary keeps the rows the replica's running queries still read
                "hot_standby_feedback = on\n"
            )
        return replica


def cluster_for(settings) -> EmbeddedCluster:
    return EmbeddedCluster(
        base_dir=settings.data_dir,
        port=settings.embedded_port,
        database=settings.embedded_db,
        wal_archive_dir=getattr(settings, "wal_archive_dir", None),
    )
