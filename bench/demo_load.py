"""How long `hromada demo` takes to build the demo city, by number of appeals.

Each size gets a fresh database on a private embedded cluster (or on --url's server), is
migrated, then timed through `generate(url, appeals=N)`: the real reference data first, then
the generated city and appeals, in one transaction, then ANALYZE. Prints the phases, the
rate, and what the tables weigh. `--durable` keeps fsync and full-page writes on, as the
cluster of `make run` has them; the default is a throwaway cluster, like the other benches.

    .venv/bin/python bench/demo_load.py                      # 50,000 and 3,000,000 appeals
    .venv/bin/python bench/demo_load.py --appeals 50000 --rerun
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gis.embedded import EmbeddedCluster, free_port  # noqa: E402
from gis.migrate import upgrade  # noqa: E402
from importers.demo import generate  # noqa: E402

PHASES = (
    ("reference_data", "load_reference_data (real Kyiv files)"),
    ("city", "executors, territories, rules, wards, structures"),
    ("appeals_draw_and_copy", "appeals: numpy draw + COPY to staging"),
    ("appeals_areas", "appeals: ST_Covers districts/wards/territories"),
    ("appeals_routes", "appeals: routing per distinct combination"),
    ("insert_appeals", "appeals: INSERT … SELECT"),
    ("insert_appeal_authors", "authors: INSERT … SELECT"),
    ("insert_appeal_events", "events: INSERT … SELECT"),
    ("restore", "indexes and foreign keys rebuilt"),
    ("commit", "commit"),
    ("analyze", "ANALYZE"),
)


def _database(admin_url: str, name: str) -> str:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{admin_url.rpartition('/')[0]}/{name}"
    upgrade(url)
    return url


def _sizes(url: str) -> str:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT relname, pg_total_relation_size(oid) FROM pg_class"
            " WHERE relname IN ('appeals', 'appeal_authors', 'appeal_events') ORDER BY relname"
        ).fetchall()
    return ", ".join(f"{name} {size / 2**20:,.0f} MB" for name, size in rows)


def _report(n: int, summary: dict, wall: float) -> None:
    t = summary["timings"]
    t = {**t, "restore": round(sum(v for k, v in t.items() if k.startswith("restore ")), 2)}
    print(f"\n{n:,} appeals: {wall:.1f} s wall, {n / wall:,.0f} appeals/s overall")
    for key, label in PHASES:
        if key in t:
            print(f"  {t[key]:8.2f} s  {label}")
    print(f"  executors {summary['executors']}, rules {summary['routing_rules']}, wards "
          f"{summary['wards']}, ads {summary['advertising_structures']}, kiosks "
          f"{summary['kiosks']}, events {summary['appeal_events']:,}, "
          f"routing combinations {summary['routes']:,}")  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--appeals", type=int, nargs="+", default=[50_000, 3_000_000])
    p.add_argument("--url", help="a server to create the databases on (maintenance DB URL)")
    p.add_argument("--durable", action="store_true", help="fsync on, like make run's cluster")
    p.add_argument("--rerun", action="store_true", help="also time a second run on the same DB")
    p.add_argument("--seed", type=int, default=1551)
    args, _ = p.parse_known_args()
    shared = ROOT.parent / "shared" / "data"

    cluster = None
    admin = args.url
    if not admin:
        base = Path(tempfile.mkdtemp(prefix="hromada-bench-demo-"))
        os.chmod(base, 0o755)
        cluster = EmbeddedCluster(base_dir=base, port=free_port(), database="postgres",
                                  throwaway=not args.durable)  # fmt: skip
        cluster.start()
        admin = cluster.url
    print(f"{os.cpu_count()} CPUs; cluster: "
          f"{'given server' if args.url else ('durable' if args.durable else 'throwaway')}")  # fmt: skip
    try:
        for n in args.appeals:
            url = _database(admin, f"bench_demo_{n}")
            started = time.monotonic()
            summary = generate(url, seed=args.seed, appeals=n, shared_dir=shared)
            _report(n, summary, time.monotonic() - started)
            print(f"  sizes: {_sizes(url)}")
            if args.rerun:
                started = time.monotonic()
                summary = generate(url, seed=args.seed, appeals=n, shared_dir=shared)
                print("  re-run on the same database (replaces the demo rows):", end="")
                _report(n, summary, time.monotonic() - started)
    finally:
        if cluster is not None:
            cluster.destroy()


if __name__ == "__main__":
    main()
