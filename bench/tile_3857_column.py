"""Why appeals carry a stored EPSG:3857 copy: the same MVT tile built from `geom_3857` and
from `ST_Transform(geom, 3857)` per row, in the same run.

    .venv/bin/python bench/tile_3857_column.py [--url DATABASE_URL] [--appeals N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import loaded_database  # noqa: E402

STORED = """
SELECT length(ST_AsMVT(t, 'appeals')) FROM (
  SELECT id, status, ST_AsMVTGeom(geom_3857, ST_TileEnvelope(%(z)s, %(x)s, %(y)s), 4096, 64) AS g
  FROM appeals
  WHERE geom_3857 && ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => 64.0 / 4096)
) t"""
PER_ROW = """
SELECT length(ST_AsMVT(t, 'appeals')) FROM (
  SELECT id, status,
         ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope(%(z)s, %(x)s, %(y)s), 4096, 64) AS g
  FROM appeals
  WHERE geom && ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => 64.0 / 4096), 4326)
) t"""
# Tiles over the centre of Kyiv (Maidan Nezalezhnosti, 30.524 E 50.450 N).
TILES = [(10, 598, 345), (12, 2395, 1381), (14, 9581, 5524)]


def timed(conn, sql, params, runs=7):
    conn.execute(sql, params)  # warm
    times, size = [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        size = conn.execute(sql, params).fetchone()[0]
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000, size


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url")
    ap.add_argument("--appeals", type=int, default=200_000)
    args = ap.parse_args()
    with loaded_database(args.url, args.appeals) as url, psycopg.connect(url) as conn:
        n = conn.execute("SELECT count(*) FROM appeals").fetchone()[0]
        print(f"\nappeals: {n:,}; median of 7 runs per tile")
        print(f"{'tile':16} {'geom_3857 ms':>13} {'ST_Transform ms':>16} {'tile bytes':>11}")
        for z, x, y in TILES:
            p = {"z": z, "x": x, "y": y}
            a, size = timed(conn, STORED, p)
            b, _ = timed(conn, PER_ROW, p)
            print(f"{z}/{x}/{y}".ljust(16) + f"{a:>13.1f} {b:>16.1f} {size:>11}")


if __name__ == "__main__":
    main()
