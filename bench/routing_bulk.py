"""Routing throughput: the in-process bulk path (gis/routing_bulk.py) against the database
path (gis/routing.decide(), one round trip per appeal), on the real districts with the demo's
wards, housing offices' territories and rules; and what subdivided polygons would change for
the database's point lookup.

    .venv/bin/python bench/routing_bulk.py [--url DATABASE_URL] [--points N] [--db-points M]

Measured 2026-11-26 (10 real districts, 110 demo wards, 78 territories, 631 active rules;
200,000 random points in the city with the demo appeals' category mix, one core):

    bulk: load 17 ms; ~138,000 appeals/s with a fresh decision cache (9,322 distinct
          combinations), ~150,000 appeals/s warm
    database decide(): median 1.42 ms, p95 2.25 ms per appeal (~660 appeals/s on one
          connection), the same decision as the bulk path on all 2,000 compared
    point lookup alone: 0.77 ms on whole polygons, 0.29 ms on 2,770 ST_Subdivide'd parts

Subdivided parts would save ~0.5 ms of decide()'s ~1.4 ms; a table kept in sync by triggers
(and a migration) is not worth that yet. It will be when areas get much bigger (an oblast's
hromadas, real ward maps with tens of thousands of vertices): the lookup on whole polygons
grows with their vertex count, on parts it does not.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import psycopg
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import loaded_database  # noqa: E402

from gis import routing  # noqa: E402
from gis.routing_bulk import BulkRouter  # noqa: E402

# The point lookup alone, on whole polygons (what decide() does) and on ST_Subdivide'd parts.
LOOKUP = {
    "whole": """SELECT ARRAY(SELECT d.id FROM districts d WHERE d.valid_to IS NULL
                     AND ST_Covers(d.geom, p.g)),
                       ARRAY(SELECT w.id FROM wards w WHERE w.valid_to IS NULL
                     AND ST_Covers(w.geom, p.g)),
                       ARRAY(SELECT t.id FROM executor_territories t WHERE t.valid_to IS NULL
                     AND ST_Covers(t.geom, p.g))
                  FROM (SELECT ST_SetSRID(ST_MakePoint(%s, %s), 4326) AS g) p""",
    "subdivided": """SELECT ARRAY(SELECT DISTINCT s.id FROM bench_parts s
                                   WHERE s.type = 'd' AND ST_Covers(s.geom, p.g)),
                            ARRAY(SELECT DISTINCT s.id FROM bench_parts s
                                   WHERE s.type = 'w' AND ST_Covers(s.geom, p.g)),
                            ARRAY(SELECT DISTINCT s.id FROM bench_parts s
                                   WHERE s.type = 't' AND ST_Covers(s.geom, p.g))
                       FROM (SELECT ST_SetSRID(ST_MakePoint(%s, %s), 4326) AS g) p""",
}
PARTS = """
CREATE TEMP TABLE bench_parts AS
SELECT 'd' AS type, id, ST_Subdivide(geom, 64) AS geom FROM districts WHERE valid_to IS NULL
UNION ALL SELECT 'w', id, ST_Subdivide(geom, 64) FROM wards WHERE valid_to IS NULL
UNION ALL SELECT 't', id, ST_Subdivide(geom, 64) FROM executor_territories
 WHERE valid_to IS NULL;
CREATE INDEX ON bench_parts USING gist (geom);
ANALYZE bench_parts;
"""


def points_in_city(conn, n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    city = shapely.from_wkb(bytes(conn.execute(
        "SELECT ST_AsBinary(ST_Union(geom)) FROM districts WHERE valid_to IS NULL"
    ).fetchone()[0]))  # fmt: skip
    shapely.prepare(city)
    minx, miny, maxx, maxy = city.bounds
    xs, ys = [], []
    while sum(len(x) for x in xs) < n:
        x, y = rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)
        inside = shapely.contains_xy(city, x, y)
        xs.append(x[inside])
        ys.append(y[inside])
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="a database with the demo city (default: a throwaway one)")
    ap.add_argument("--appeals", type=int, default=20_000, help="appeals for a throwaway demo")
    ap.add_argument("--points", type=int, default=200_000)
    ap.add_argument("--db-points", type=int, default=2_000)
    args = ap.parse_args()
    rng = np.random.default_rng(1551)
    with loaded_database(args.url, args.appeals) as url, psycopg.connect(url) as conn:
        conn.autocommit = True
        # Categories as the demo's appeals use them (their real mix).
        weights = conn.execute("SELECT category_id, count(*) FROM appeals GROUP BY 1").fetchall()
        ids = np.array([w[0] for w in weights])
        p = np.array([w[1] for w in weights], dtype=float)
        xs, ys = points_in_city(conn, args.points, rng)
        cats = rng.choice(ids, args.points, p=p / p.sum())
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM districts WHERE valid_to IS NULL),"
            " (SELECT count(*) FROM wards WHERE valid_to IS NULL),"
            " (SELECT count(*) FROM executor_territories WHERE valid_to IS NULL),"
            " (SELECT count(*) FROM routing_rules WHERE is_active)"
        ).fetchone()
        print(f"districts {counts[0]}, wards {counts[1]}, territories {counts[2]}, "
              f"active rules {counts[3]}; {args.points:,} random points in the city")  # fmt: skip

        t = time.perf_counter()
        bulk = BulkRouter.load(conn)
        load = time.perf_counter() - t
        t = time.perf_counter()
        decisions = bulk.route_many(xs, ys, cats)
        cold = time.perf_counter() - t
        t = time.perf_counter()
        bulk.route_many(xs, ys, cats)
        warm = time.perf_counter() - t
        print(f"bulk: load {load * 1000:.0f} ms; {args.points / cold:,.0f} appeals/s "
              f"(fresh decision cache), {args.points / warm:,.0f} appeals/s (warm); "
              f"{len(bulk._cache):,} distinct combinations")  # fmt: skip

        m = args.db_points
        times = []
        for x, y, c, expected in zip(xs[:m], ys[:m], cats[:m], decisions[:m], strict=True):
            t = time.perf_counter()
            d = routing.decide_sync(conn, lon=float(x), lat=float(y), category_id=int(c))
            times.append(time.perf_counter() - t)
            assert d == expected, (x, y, c)
        ms = statistics.median(times) * 1000
        p95 = statistics.quantiles(times, n=20)[-1] * 1000
        print(f"database decide(): median {ms:.2f} ms, p95 {p95:.2f} ms per appeal "
              f"= {m / sum(times):,.0f} appeals/s on one connection; agrees with bulk on {m:,}")  # fmt: skip

        conn.execute(PARTS)
        parts = conn.execute("SELECT count(*) FROM bench_parts").fetchone()[0]
        for name, sql in LOOKUP.items():
            times = []
            for x, y in zip(xs[:m].tolist(), ys[:m].tolist(), strict=True):
                t = time.perf_counter()
                conn.execute(sql, (x, y)).fetchone()
                times.append(time.perf_counter() - t)
            print(f"point lookup on {name} polygons"
                  + (f" ({parts:,} parts of ≤64 vertices)" if name == "subdivided" else "")
                  + f": median {statistics.median(times) * 1000:.2f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
