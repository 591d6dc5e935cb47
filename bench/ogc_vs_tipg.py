"""OGC API – Features items: Hromada's /ogc beside tipg 1.6.1, same database, same run.

    .venv/bin/python bench/ogc_vs_tipg.py [--url DATABASE_URL] [--appeals N] [--seconds S]

Without --url it loads the demo city into a throwaway cluster first. Each server runs as one
uvicorn worker; the load comes from this process (8 concurrent clients) on the same 2 cores,
so both servers share that handicap.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, loaded_database, measure, peer_python, server  # noqa: E402

from gis.embedded import free_port  # noqa: E402

TIPG = "tipg==1.6.1"
# (label, our path, tipg's path)
REQUESTS = [
    ("10 district polygons", "/ogc/collections/districts/items?limit=10",
     "/collections/public.districts/items?limit=10&geom-column=geom"),
    ("100 advertising structures", "/ogc/collections/advertising_structures/items?limit=100",
     "/collections/public.advertising_structures/items?limit=100&geom-column=geom"),
    ("1000 advertising structures", "/ogc/collections/advertising_structures/items?limit=1000",
     "/collections/public.advertising_structures/items?limit=1000&geom-column=geom"),
    ("one kiosk", "/ogc/collections/kiosks/items/1",
     "/collections/public.kiosks/items/1?geom-column=geom"),
]  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url")
    ap.add_argument("--appeals", type=int, default=50_000)
    ap.add_argument("--seconds", type=float, default=8.0)
    args = ap.parse_args()

    tipg_python = peer_python(TIPG)
    with loaded_database(args.url, args.appeals) as url:
        ours_port, tipg_port = free_port(), free_port()
        ours_cmd = [str(ROOT / ".venv" / "bin" / "hromada"), "serve", "--port", str(ours_port)]
        tipg_cmd = [str(tipg_python), "-m", "uvicorn", "tipg.main:app",
                    "--port", str(tipg_port), "--log-level", "warning"]  # fmt: skip
        tipg_env = {"DATABASE_URL": url, "TIPG_DB_SCHEMAS": '["public"]',
                    "TIPG_DB_TABLES": '["public.districts","public.advertising_structures","public.kiosks"]',
                    "TIPG_DB_FUNCTIONS": "[]",
                    "TIPG_MAX_FEATURES_PER_QUERY": "10000"}  # fmt: skip
        rows = []
        with server(ours_cmd, ours_port, {"DATABASE_URL": url}, "/healthz") as ours, \
             server(tipg_cmd, tipg_port, tipg_env, "/healthz") as peer:  # fmt: skip
            for label, our_path, tipg_path in REQUESTS:
                a = measure(ours + our_path, seconds=args.seconds)
                b = measure(peer + tipg_path, seconds=args.seconds)
                rows.append((label, a, b))
    print(f"\n{'request':30} {'hromada req/s':>14} {'p50 ms':>8} {'tipg req/s':>11} "
          f"{'p50 ms':>8} {'bytes ours/tipg':>18}")  # fmt: skip
    for label, a, b in rows:
        print(
            f"{label:30} {a['rps']:>14} {a['p50_ms']!s:>8} {b['rps']:>11} {b['p50_ms']!s:>8} "
            f"{a['bytes']:>9}/{b['bytes']:<8}"
            + (f"  errors {a['errors']}/{b['errors']}" if a["errors"] or b["errors"] else "")
        )


if __name__ == "__main__":
    main()
