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

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from gis.embedded import free_port

DEBIAN_PACKAGE = "redis-server"
INSTALL_HINT = f"sudo apt-get install -y {DEBIAN_PACKAGE}"
_PR_SET_PDEATHSIG = 1


class RedisServerError(RuntimeError):
    """redis-server cannot be started; the message says what to do."""


def find_redis_server() -> str | None:
    return shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )


def ensure_redis_server(*, allow_install: bool = True) -> str:
    """The redis-server program, installed from Debian first when we are root."""
    found = find_redis_server()
    if found:
        return found
    if allow_install and os.geteuid() == 0 and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env, capture_output=True)
        done = subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", DEBIAN_PACKAGE],
            env=env, capture_output=True,
        )  # fmt: skip
        found = find_redis_server()
        if found:
            return found
        raise RedisServerError(
            "Could not install redis-server: " + done.stderr.decode(errors="replace")[-500:]
        )
    raise RedisServerError(
        f"redis-server is not installed. Run: {INSTALL_HINT} (or set "
        "HROMADA_RATE_LIMIT_STORAGE to a shared redis:// of your own)."
    )


def _die_with_parent() -> None:  # runs in the child between fork and exec
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


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
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent,
        )  # fmt: skip
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
        if process is None or process.poll() is not None:
            return
        process.terminate()  # SIGTERM: redis-server exits at once (nothing to save)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def redis_for(settings) -> RedisServer:
    """The run's redis-server, under the project's data directory."""
    return RedisServer(base_dir=Path(settings.data_dir) / "redis")
