"""The caching proxy (issue 18, item 7): requests/s for one and the same cached appeals tile
served, in the same run, on the same machine, by the same load generator,

  (a) by nginx as a static file (the very bytes of the tile, written to disk),
  (b) through the caching proxy (gis/proxy.py: nginx's proxy cache in front of the service,
      the tile kept as the service's `Cache-Control: public, max-age=…` allows, revalidated
      with its ETag when that passes),
  (c) by the service itself (`hromada serve`, its in-memory tile cache warm).

(a) and (b) are one nginx (one configuration, the static file in an extra location), so the
difference between them is the proxy cache's own cost. The issue's target: (b) at least half
of (a). Load by wrk when installed (scripts/system-deps.sh bench), else an asyncio httpx loop
(bench/_common.measure), which tops out far below nginx and is said so. Prints figures and
asserts nothing.

    .venv/bin/python bench/proxy_tiles.py [--database-url URL] [--appeals N] [--seconds S]
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, loaded_database, measure, server  # noqa: E402

from gis.embedded import free_port  # noqa: E402
from gis.proxy import NginxProxy  # noqa: E402

KYIV = (30.5234, 50.4501)


def tile_path(lon: float, lat: float, z: int) -> str:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return f"/tiles/appeals/{z}/{x}/{y}.mvt"


def load(url: str, seconds: float, clients: int) -> tuple[float, int, str]:
    """(requests/s, non-2xx or socket errors, the load generator)."""
    httpx.get(url, timeout=60)  # warm
    if not shutil.which("wrk"):
        m = measure(url, concurrency=clients, seconds=seconds, max_requests=10**9)
        return m["rps"], m["errors"], "httpx"
    out = subprocess.run(
        ["wrk", "-t", "2", "-c", str(clients), "-d", f"{seconds:g}s", "--timeout", "30s", url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(bad.group(1)) if bad else 0) + (sum(map(int, sock.groups())) if sock else 0)
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), errors, "wrk"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--appeals", type=int, default=20_000, help="without --database-url")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--z", type=int, default=14)
    args = parser.parse_args()

    path = tile_path(*KYIV, args.z)
    work = Path(tempfile.mkdtemp(prefix="hromada-proxy-bench-"))
    with loaded_database(args.database_url, args.appeals) as url:
        port = free_port()
        env = {"DATABASE_URL": url, "HROMADA_DATA_DIR": str(work / "data"),
               "HROMADA_RATE_LIMITS_ENABLED": "false", "HROMADA_ACCESS_LOG": "false"}  # fmt: skip
        hromada = str(ROOT / ".venv" / "bin" / "hromada")
        with server([hromada, "serve", "--port", str(port)], port, env, "/healthz") as service:
            tile = httpx.get(service + path, timeout=60)
            tile.raise_for_status()
            assert tile.headers["cache-control"].startswith("public"), tile.headers
            static = work / "static" / "tile.mvt"
            static.parent.mkdir(parents=True)
            static.write_bytes(tile.content)
            extra = (
                f"        location = /static/tile.mvt {{ alias {static}; "
                "default_type application/vnd.mapbox-vector-tile; }\n"
            )
            with NginxProxy(base_dir=work / "nginx", upstream_port=port, extra=extra) as proxy:
                for _ in range(2):  # the second one is the proxy cache's HIT
                    through = httpx.get(proxy.url + path, timeout=60)
                assert through.content == tile.content
                assert through.headers["x-cache-status"] == "HIT", through.headers
                cells = [
                    ("(a) nginx, static file", proxy.url + "/static/tile.mvt"),
                    ("(b) nginx proxy cache", proxy.url + path),
                    ("(c) the service", service + path),
                ]
                figures = []
                for label, target in cells:
                    rps, errors, tool = load(target, args.seconds, args.clients)
                    figures.append((label, rps, errors, tool))
    shutil.rmtree(work, ignore_errors=True)

    print(f"\nthe appeals tile {path} ({len(tile.content):,} bytes), "
          f"{args.clients} keep-alive clients for {args.seconds:g} s each, "
          f"load by {figures[0][3]}, {os.cpu_count()} CPUs")  # fmt: skip
    static_rps = figures[0][1] or 1.0
    for label, rps, errors, _tool in figures:
        print(f"  {label:<26} {rps:>12,.0f} requests/s  {rps / static_rps:6.1%} of (a)"
              f"{f'  ({errors} errors)' if errors else ''}")  # fmt: skip
    print(
        f"target: (b) at least half of (a) — {'met' if figures[1][1] >= static_rps / 2 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
