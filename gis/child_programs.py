"""Debian's programs that a run starts as children of its own: redis-server for several API
processes (gis/redis_server.py), nginx as the caching proxy (gis/proxy.py).

Each is found on the PATH or at Debian's path, installed from Debian first when we are root
(as scripts/system-deps.sh would), started with Linux's parent-death signal so that a killed
`hromada run` leaves none behind, and stopped with SIGTERM, then SIGKILL if it lingers.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
from pathlib import Path

_PR_SET_PDEATHSIG = 1


def find_program(name: str, debian_path: str) -> str | None:
    return shutil.which(name) or (debian_path if Path(debian_path).exists() else None)


def ensure_program(
    name: str, debian_path: str, package: str, error: type[Exception], not_installed: str
) -> str:
    """The program, installed from Debian's `package` first when we are root; else `error`
    with `not_installed` (what to do) or the installer's own complaint."""
    found = find_program(name, debian_path)
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env, capture_output=True)
        done = subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", package],
            env=env, capture_output=True,
        )  # fmt: skip
        found = find_program(name, debian_path)
        if found:
            return found
        raise error(f"Could not install {name}: " + done.stderr.decode(errors="replace")[-500:])
    raise error(not_installed)


def _die_with_parent() -> None:  # runs in the child between fork and exec
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(command: list[str], *, stderr: int = subprocess.DEVNULL) -> subprocess.Popen:
    """The program as a child that ends when its parent does."""
    return subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr,
        preexec_fn=_die_with_parent,
    )  # fmt: skip


def stop(process: subprocess.Popen | None) -> None:
    """SIGTERM (both programs shut down at once on it), then SIGKILL after 10 s."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def alive(pid: int) -> bool:
    """Whether the process exists and is not a zombie (Linux's /proc)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def children(pid: int) -> list[int]:
    """The process ids whose parent is `pid` (Linux's /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found
