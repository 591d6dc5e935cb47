"""A private redis-server for one `hromada run` (or `serve`) with several API processes.

The processes count their rate limits together there (api/ratelimit.py). Like the embedded
PostgreSQL (gis/embedded.py) it is Debian's own program (`redis-server`, package
redis-server), run from the project's data directory (`<data_dir>/redis`), listening on
127.0.0.1 only at a free port, protected mode on, nothing persisted (no RDB snapshot, no
append-only file): rate-limit windows are minutes long, so a restart forgetting them is
harmless. It is a child of the process that started it and is told to end with it (Linux's
parent-death signal), so that a killed `hromada run` leaves no redis-server behind.
"""

from __future__ import annotations

import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from gis import child_programs
from gis.embedded import free_port

DEBIAN_PACKAGE = "redis-server"
INSTALL_HINT = f"sudo apt-get install -y {DEBIAN_PACKAGE}"


class RedisServerError(RuntimeError):
    """redis-server cannot be started; the message says what to do."""


def ensure_redis_server() -> str:
    """The redis-server program, installed from Debian first when we are root."""
    return child_programs.ensure_program(
        "redis-server", "/usr/bin/redis-server", DEBIAN_PACKAGE, RedisServerError,
        f"redis-server is not installed. Run: {INSTALL_HINT} (or set "
        "HROMADA_RATE_LIMIT_STORAGE to a shared redis:// of your own).",
    )  # fmt: skip


def ping(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@dataclass
class RedisServer:
    """One redis-server in `base_dir` on 127.0.0.1:`port` (a free one unless given)."""

    base_dir: Path
    port: int = 0
    process: subprocess.Popen | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.base_dir = Path(self.base_dir).resolve()
        self.port = self.port or free_port()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def logfile(self) -> Path:
        return self.base_dir / f"redis-{self.port}.log"

    def start(self, timeout: float = 10.0) -> RedisServer:
        program = ensure_redis_server()
        self.base_dir.mkdir(parents=True, exist_ok=True)
        command = [
            program, "--bind", "127.0.0.1", "--port", str(self.port), "--protected-mode", "yes",
            "--daemonize", "no", "--dir", str(self.base_dir), "--save", "",
            "--appendonly", "no", "--logfile", str(self.logfile), "--loglevel", "warning",
            "--databases", "1",
        ]  # fmt: skip
        self.process = child_programs.spawn(command)
        deadline = time.monotonic() + timeout
        while not ping(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = (
                    self.logfile.read_text(errors="replace")[-1000:]
                    if self.logfile.exists()
                    else ""
                )
                self.stop()
                raise RedisServerError(
                    f"redis-server did not start on 127.0.0.1:{self.port}: {log.strip()}"
                )
            time.sleep(0.05)
        return self

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None and ping(self.port)

    def stop(self) -> None:
        process, self.process = self.process, None
        child_programs.stop(process)  # redis-server exits at once on SIGTERM (nothing to save)

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def redis_for(settings) -> RedisServer:
    """The run's redis-server, under the project's data directory."""
    return RedisServer(base_dir=Path(settings.data_dir) / "redis")
