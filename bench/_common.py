"""Helpers shared by the benchmarks: a loaded database, servers in subprocesses, a bounded
HTTP load loop. Benchmarks print their figures; nothing here asserts a time."""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PEERS_VENV = ROOT / ".make" / "bench-peers"


@contextmanager
def loaded_database(url: str | None, appeals: int, seed: int = 1551, settings: dict | None = None):
    """Yield the URL of a database holding the demo city: the given one, or a throwaway
    embedded cluster loaded with `appeals` appeals (with `settings`, e.g. {"shared_buffers":
    "1GB"}, added to its configuration)."""
    if url:
        yield url
        return
    from gis.embedded import EmbeddedCluster, free_port
    from gis.migrate import upgrade
    from importers.demo import generate

    base = Path(tempfile.mkdtemp(prefix="hromada-bench-"))
    os.chmod(base, 0o755)
    cluster = EmbeddedCluster(base_dir=base, port=free_port(), database="bench", throwaway=True)
    cluster.init()
    if settings:
        with open(cluster.pgdata / "postgresql.auto.conf", "a") as f:
            f.write("".join(f"{k} = '{v}'\n" for k, v in settings.items()))
    cluster.start()
    try:
        upgrade(cluster.url)
        started = time.monotonic()
        generate(cluster.url, seed=seed, appeals=appeals,
                 shared_dir=ROOT.parent / "shared" / "data")  # fmt: skip
        print(f"demo city with {appeals:,} appeals loaded in {time.monotonic() - started:.1f} s")
        yield cluster.url
    finally:
        cluster.destroy()


def peer_python(package: str) -> Path:
    """A separate virtualenv for a peer server, so its pins never touch ours."""
    python = PEERS_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True)
    probe = subprocess.run([str(python), "-c", f"import {package.split('==')[0]}"],
                           capture_output=True)  # fmt: skip
    if probe.returncode != 0:
        subprocess.run([str(python), "-m", "pip", "install", "-q", package, "uvicorn"],
                       check=True, capture_output=True)  # fmt: skip
    return python


@contextmanager
def server(cmd: list[str], port: int, env: dict, health_path: str = "/", log: Path | None = None):
    """The server in a subprocess until it answers `health_path`; with `log`, its output goes
    there (a long run's output would fill a pipe nobody reads and stall it)."""
    if log is None:
        proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)  # fmt: skip
    else:
        with open(log, "w") as out:
            proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=out, stderr=out)

    def output() -> str:
        return log.read_text() if log is not None else proc.stderr.read()  # type: ignore[union-attr]

    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{cmd[0]} exited: {output()[-2000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}{health_path}", timeout=2).status_code < 500:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


async def _load(url: str, concurrency: int, seconds: float, max_requests: int):
    latencies: list[float] = []
    sizes: list[int] = []
    errors = 0
    stop_at = time.monotonic() + seconds
    async with httpx.AsyncClient(timeout=30) as client:

        async def worker():
            nonlocal errors
            while time.monotonic() < stop_at and len(latencies) + errors < max_requests:
                t0 = time.perf_counter()
                r = await client.get(url)
                if r.status_code != 200:
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - t0)
                sizes.append(len(r.content))

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.monotonic() - started
    return latencies, sizes, errors, elapsed


def measure(url: str, concurrency: int = 8, seconds: float = 8.0, max_requests: int = 20_000):
    """Requests per second, median, p95 and p99 latency (ms), mean response size, errors."""
    httpx.get(url, timeout=30)  # warm up
    lat, sizes, errors, elapsed = asyncio.run(_load(url, concurrency, seconds, max_requests))
    if not lat:
        return {"rps": 0.0, "p50_ms": None, "p95_ms": None, "p99_ms": None, "bytes": 0,
                "errors": errors}  # fmt: skip
    lat.sort()
    return {
        "rps": round(len(lat) / elapsed, 1),
        "p50_ms": round(statistics.median(lat) * 1000, 1),
        "p95_ms": round(lat[int(len(lat) * 0.95) - 1] * 1000, 1),
        "p99_ms": round(lat[max(0, int(len(lat) * 0.99) - 1)] * 1000, 1),
        "bytes": int(statistics.mean(sizes)),
        "errors": errors,
    }
