"""The real app served by uvicorn in a background thread, for tests that need a real HTTP
server (a browser, concurrent clients); real `hromada worker` processes for the background
jobs' tests (start_worker, stop_worker) and wait_for, polling a condition."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import uvicorn

from gis.embedded import free_port


@contextmanager
def serve(app, port: int | None = None) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 (a free port unless given); yields its base URL."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        assert thread.is_alive(), "uvicorn stopped while starting"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")


def start_worker(
    db_url: str, name: str = "w", env: dict[str, str] | None = None, *,
    shift_seconds: float = 0.0, stalled_after_seconds: float = 6,
) -> subprocess.Popen:  # fmt: skip
    """A real `hromada worker --name NAME` process on `db_url`, its output piped (stop_worker
    returns it): its clock moved by `shift_seconds` (gis/clock.py), the jobs of a worker silent
    for `stalled_after_seconds` run again; `env` adds variables (HROMADA_…) or overrides these."""
    full = {**os.environ, "HROMADA_DATABASE_URL": db_url,
            "HROMADA_CLOCK_SHIFT_SECONDS": str(shift_seconds),
            "HROMADA_WORKER_STALLED_AFTER_SECONDS": str(stalled_after_seconds),
            "HROMADA_WORKER_POLL_SECONDS": "0.5", **(env or {})}  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "-c", "from cli.main import main; raise SystemExit(main())", "worker",
         "--name", name],
        cwd=ROOT, env=full, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def stop_worker(worker: subprocess.Popen, *, check: bool = True) -> str:
    """SIGTERM to the worker (unless it has stopped already); its output, whose end is printed
    (shown when the test fails). With `check` it must have stopped cleanly (exit status 0)."""
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
    out, _ = worker.communicate(timeout=30)
    print(out[-3000:])
    if check:
        assert worker.returncode == 0, out
    return out


def wait_for(
    check: Callable[[], T], timeout: float = 60.0, what: str = "the condition", step: float = 0.1
) -> T:
    """check()'s first true value, asked every `step` seconds; AssertionError after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out waiting for {what}")
