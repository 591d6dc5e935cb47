"""Vector tiles and GeoJSON pages of the appeals layer: Hromada beside tipg 1.6.1 and beside
pgbench running our own tile SQL (the database's ceiling), same database, same run.

    .venv/bin/python bench/tiles_vs_tipg.py [--url DATABASE_URL] [--appeals N] [--seconds S]
        [--scaling-url SIZE=URL ...] [--scaling-sizes 100000,1000000] [--no-scaling]

Without --url it loads the demo city with 3,000,000 appeals into a throwaway cluster first
(about 200 s). Then:

1. both servers' tiles are fetched and decoded (mapbox-vector-tile) at z10, z12, z14 and z16,
   unfiltered and filtered; at z14 and z16, where both serve the raw points, the feature ids
   inside the tile are compared; at lower zooms our tiles hold aggregates, so only the counts
   are shown;
2. each request is loaded for S seconds by wrk (8 connections, 2 threads), Hromada with its
   tile cache off (HROMADA_TILE_CACHE_SIZE=0), then tipg, then pgbench (8 clients) runs the
   SQL our server runs for that tile; GeoJSON pages of 100 and 1000 items; one tile again with
   our cache on;
3. the filtered z10 and a z14 tile are timed again over smaller databases (100 thousand and
   1 million appeals by default), to show how latency grows with the table;
4. one table, with each of issue 5's targets met or the gap named.

Everything shares the machine: the load generator, both servers (one uvicorn worker each) and
PostgreSQL. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, loaded_database, measure, peer_python, server  # noqa: E402

from gis.embedded import free_port  # noqa: E402

TIPG = "tipg==1.6.1"
MVT_PACKAGE = "mapbox-vector-tile==2.2.0"
CONCURRENCY = 8
CENTRE = (30.52, 50.45)  # lon, lat: central Kyiv
ZOOMS = (10, 12, 14, 16)
RAW_ZOOMS = (14, 16)  # where both servers serve the points themselves
CAP = 10_000  # points per tile, ours (tiles.mvt.DEFAULT_MAX_FEATURES) and tipg's alike
# Our raw tiles carry id, number, status, kind, category_id and overdue; the table tipg reads
# has no `overdue` (our view computes it), so tipg is asked for the others.
TIPG_PROPERTIES = "id,number,status,kind,category_id"
# Timed over every table size, and in the main table with 1 client as well as 8.
# Issue 18: the point tiles' latency (z >= 12) should stay flat as the table grows.
SCALING_TILES = (
    ("z10 filtered", 10, True),
    ("z12", 12, False),
    ("z14", 14, False),
    ("z16", 16, False),
)
SINGLE_CLIENT = {(z, filtered) for _, z, filtered in SCALING_TILES}  # (zoom, filtered)
PGBENCH = next(
    (p for p in ("/usr/bin/pgbench", "/usr/lib/postgresql/15/bin/pgbench") if Path(p).exists()),
    None,
)


# --- what is asked -------------------------------------------------------------------------


def tile_at(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    """The Web Mercator (XYZ) tile holding the point, as mercantile computes it."""
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    lat_r = math.radians(lat)
    y = int((1.0 - math.asinh(math.tan(lat_r)) / math.pi) / 2.0 * n)
    return z, x, y


@dataclass(frozen=True)
class Filter:
    """The category + last-90-days filter: the most frequent category, and the 90 days that
    end at the newest appeal."""

    category_id: int
    since: dt.datetime

    @property
    def since_text(self) -> str:
        return self.since.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def ours(self) -> dict[str, str]:
        return {"category": str(self.category_id), "datetime": f"{self.since_text}/.."}

    def tipg(self) -> dict[str, str]:
        return {
            "category_id": str(self.category_id),
            "datetime": f"{self.since_text}/..",
            "datetime-column": "created_at",
        }

    def where(self) -> str:
        return f"category_id = {self.category_id} AND created_at >= '{self.since.isoformat()}'"


def database_facts(url: str) -> tuple[int, Filter]:
    with psycopg.connect(url) as conn:
        (n,) = conn.execute("SELECT count(*) FROM appeals").fetchone()
        (category,) = conn.execute(
            "SELECT category_id FROM appeals GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
        ).fetchone()
        (newest,) = conn.execute("SELECT max(created_at) FROM appeals").fetchone()
    return n, Filter(category, newest - dt.timedelta(days=90))


def vacuum(url: str) -> None:
    """A freshly loaded table has no visibility map yet, so index-only scans would still
    visit the heap until autovacuum comes by; a settled database is what is measured."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) appeals")


def rows_in_tile(url: str, z: int, x: int, y: int, where: str | None) -> int:
    """How many appeals lie in the tile (no buffer): what a raw-point tile would hold."""
    cond = f" AND {where}" if where else ""
    with psycopg.connect(url) as conn:
        return conn.execute(
            f"SELECT count(*) FROM appeals WHERE geom_3857 && ST_TileEnvelope({z}, {x}, {y})"
            f" AND ST_Intersects(geom_3857, ST_TileEnvelope({z}, {x}, {y})){cond}"
        ).fetchone()[0]


def ours_tile_path(z, x, y, flt: Filter | None) -> str:
    return f"/tiles/appeals/{z}/{x}/{y}.mvt" + _query(flt.ours() if flt else {})


def tipg_tile_path(z, x, y, flt: Filter | None, newest_first: bool = False) -> str:
    """tipg's tile, carrying the properties ours carry (tipg's default is every column of the
    table, five times the bytes); `newest_first` orders the capped points as ours does."""
    params = {"geom-column": "geom_3857", "properties": TIPG_PROPERTIES}
    params.update(flt.tipg() if flt else {})
    if newest_first:
        params["sortby"] = "-id"
    return f"/collections/public.appeals/tiles/WebMercatorQuad/{z}/{x}/{y}" + _query(params)


def _query(params: dict[str, str]) -> str:
    return ("?" + str(httpx.QueryParams(params))) if params else ""


# --- the tile SQL our server runs, for pgbench -----------------------------------------------

# Used only when tiles.mvt.tile_sql_text is missing or refuses the call: raw points, as
# bench/tile_3857_column.py builds them. The table says which SQL pgbench ran.
FALLBACK_SQL = """SELECT ST_AsMVT(t, 'appeals', 4096, 'g', 'id') FROM (
  SELECT id, status, category_id,
         ST_AsMVTGeom(geom_3857, ST_TileEnvelope({z}, {x}, {y}), 4096, 64) AS g
  FROM appeals
  WHERE geom_3857 && ST_TileEnvelope({z}, {x}, {y}, margin => 64.0 / 4096){where}
) t"""


def our_tile_sql(z: int, x: int, y: int, flt: Filter | None) -> tuple[str, str]:
    """(SQL, where it came from): the server's own statement, from tiles.mvt, when it can."""
    try:
        from tiles.mvt import tile_sql_text

        sql = tile_sql_text("appeals", z, x, y, flt.ours() if flt else {})
        return sql, "tiles.mvt.tile_sql_text (the server's own SQL)"
    except Exception as e:  # noqa: BLE001 — say what failed and go on with the fallback
        where = f" AND {flt.where()}" if flt else ""
        reason = f"{type(e).__name__}: {e}"
        return FALLBACK_SQL.format(z=z, x=x, y=y, where=where), f"bench fallback SQL ({reason})"


# --- load generators -------------------------------------------------------------------------


@dataclass
class Figures:
    rps: float = 0.0
    p50_ms: float | None = None
    p99_ms: float | None = None
    requests: int = 0
    errors: int = 0
    note: str = ""

    def cells(self) -> list[str]:
        if self.note:
            return ["-", "-", "-"]
        if not self.requests and not self.rps:
            return ["0", "none done", "-"]
        return [f"{self.rps:,.1f}", _ms(self.p50_ms), _ms(self.p99_ms)]


def _ms(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:.1f}" if v < 1000 else f"{v:,.0f}"


_WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _wrk_ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(m.group(1)) * _WRK_UNITS[m.group(2)]


def settle(db: str, timeout: float = 300) -> None:
    """Wait until no statement runs on the database: a slow server's requests cut off by the
    end of a cell go on in PostgreSQL and would weigh on the next cell."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(db, autocommit=True) as conn:
        while time.monotonic() < deadline:
            (busy,) = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND state = 'active' AND backend_type = 'client backend'"
                " AND pid <> pg_backend_pid()"
            ).fetchone()
            if not busy:
                return
            time.sleep(0.2)


def load(url: str, seconds: float, clients: int = CONCURRENCY, db: str | None = None) -> Figures:
    """`clients` concurrent keep-alive clients for `seconds`: wrk when the machine has it (it
    costs the shared CPUs far less than a Python client), else the httpx loop of _common.
    With `db`, waits for that database to fall idle before and after."""
    if db:
        settle(db)
    try:
        return _load(url, seconds, clients)
    finally:
        if db:
            settle(db)


def _load(url: str, seconds: float, clients: int) -> Figures:
    httpx.get(url, timeout=120)  # warm: plans, caches, connections
    if not shutil.which("wrk"):
        m = measure(url, concurrency=clients, seconds=seconds)
        return Figures(m["rps"], m["p50_ms"], m.get("p99_ms"), 0, m["errors"], "httpx")
    out = subprocess.run(
        ["wrk", "-t", str(min(2, clients)), "-c", str(clients), "-d", f"{seconds:g}s",
         "--timeout", "120s", "--latency", url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    pct = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.M))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(bad.group(1)) if bad else 0) + (sum(map(int, sock.groups())) if sock else 0)
    return Figures(
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        p50_ms=_wrk_ms(pct["50"]) if requests and "50" in pct else None,
        p99_ms=_wrk_ms(pct["99"]) if requests and "99" in pct else None,
        requests=requests,
        errors=errors,
    )


def _session_options() -> str:
    """The settings our server puts before each tile's SELECT (tiles.mvt.TILE_SETTINGS, `SET
    LOCAL name = value; ...`), as PGOPTIONS for pgbench's sessions."""
    try:
        from tiles.mvt import TILE_SETTINGS
    except ImportError:
        return ""
    pairs = re.findall(r"SET\s+(?:LOCAL\s+)?(\w+)\s*(?:=|TO)\s*([^;\s]+)", TILE_SETTINGS, re.I)
    return " ".join(f"-c {name}={value}" for name, value in pairs)


def pgbench(url: str, sql: str, seconds: float, clients: int = CONCURRENCY) -> Figures:
    """The tile SQL straight on the database, 8 clients, no HTTP: the ceiling."""
    if not PGBENCH:
        return Figures(note="no pgbench")
    env = {**os.environ, "PGOPTIONS": _session_options()}
    with tempfile.TemporaryDirectory(prefix="hromada-pgbench-") as tmp:
        script = Path(tmp) / "tile.sql"
        script.write_text(sql.strip().rstrip(";") + ";\n")
        out = subprocess.run(
            [PGBENCH, "-n", "-c", str(clients), "-j", str(min(2, clients)),
             "-T", f"{max(1, round(seconds))}",
             "-l", "--log-prefix", f"{tmp}/tx", "-f", str(script), url],
            capture_output=True, text=True, env=env,
        )  # fmt: skip
        if out.returncode != 0:
            return Figures(note=f"pgbench failed: {out.stderr.strip()[-300:]}")
        # Per-transaction log lines: client_id tx_no latency_us script_no epoch epoch_us
        latencies = sorted(
            int(line.split()[2]) / 1000
            for log in Path(tmp).glob("tx*")
            for line in log.read_text().splitlines()
        )
    tps = float(re.search(r"tps = ([\d.]+)", out.stdout).group(1))
    if not latencies:
        return Figures(rps=tps)
    return Figures(
        rps=tps,
        p50_ms=latencies[len(latencies) // 2],
        p99_ms=latencies[max(0, math.ceil(len(latencies) * 0.99) - 1)],
        requests=len(latencies),
    )


# --- do both servers serve the same tiles? ---------------------------------------------------


def _mvt():
    try:
        import mapbox_vector_tile
    except ImportError:  # a bench-only dependency, installed on first use like tipg's venv
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", MVT_PACKAGE,
             "-c", str(ROOT / "constraints.txt")],
            check=True,
        )  # fmt: skip
        import mapbox_vector_tile
    return mapbox_vector_tile


def decode(data: bytes) -> dict:
    return _mvt().decode(data, default_options={"y_coord_down": True})


def _inside(feature: dict, extent: int, edge: int = 1) -> bool:
    """A point feature that lies in the tile proper, not in the buffer around it nor on the
    edge pixels (a point a hair outside the tile rounds onto the edge)."""
    geom = feature["geometry"]
    if geom["type"] != "Point":
        return True
    px, py = geom["coordinates"]
    return edge <= px < extent - edge and edge <= py < extent - edge


def _fid(feature: dict):
    """The appeal id: ours is the MVT feature id, tipg's the `id` property (no feature id)."""
    return feature["properties"].get("id", feature.get("id"))


@dataclass
class TileCheck:
    label: str
    db_rows: int
    ours: str = ""
    tipg: str = ""
    verdict: str = ""


def check_tiles(ours: str, tipg: str, url: str, tiles, flt: Filter) -> list[TileCheck]:
    checks = []
    with httpx.Client(timeout=300) as client:
        for z, x, y in tiles:
            for f in (None, flt):
                label = f"z{z} {x}/{y}" + (" filtered" if f else "")
                check = TileCheck(label, rows_in_tile(url, z, x, y, f.where() if f else None))
                layers = {}
                for name, base, path in (
                    ("ours", ours, ours_tile_path(z, x, y, f)),
                    ("tipg", tipg, tipg_tile_path(z, x, y, f, newest_first=True)),
                ):
                    r = client.get(base + path)
                    if r.status_code != 200:
                        setattr(check, name, f"HTTP {r.status_code}: {r.text[:120]}")
                        continue
                    try:
                        decoded = decode(r.content)
                    except Exception as e:  # noqa: BLE001 — reported, not raised
                        setattr(check, name, f"does not decode: {e}")
                        continue
                    layer = decoded.get("appeals")
                    if layer is None:
                        setattr(check, name, f"no 'appeals' layer (has {sorted(decoded)})")
                        continue
                    feats = layer["features"]
                    clustered = [ft for ft in feats if "count" in ft["properties"]]
                    summary = f"{len(feats):,} features, {len(r.content):,} B"
                    inside = sum(
                        int(ft["properties"]["count"])
                        for ft in clustered
                        if _cell_in_tile(ft["id"], z, x, y)
                    )
                    if clustered:
                        summary += f" ({len(clustered):,} clusters, {inside:,} inside the tile)"
                    setattr(check, name, summary)
                    layers[name] = (layer, feats, clustered, inside)
                check.verdict = _compare(z, layers, check.db_rows)
                checks.append(check)
    return checks


def _cell_in_tile(cluster_id: int, z: int, x: int, y: int) -> bool:
    """Whether a cluster's cell lies in the tile, not in the ring of its neighbours' cells
    that cluster tiles also carry. Its id numbers the cell as tiles.mvt does: a cell is a tile
    of zoom z + 3, and the id is cx * 2^(z + 3) + cy."""
    cx, cy = divmod(cluster_id, 2 ** (z + 3))
    return x * 8 <= cx < x * 8 + 8 and y * 8 <= cy < y * 8 + 8


def _compare(z: int, layers: dict, db_rows: int) -> str:
    if len(layers) < 2:
        return "cannot compare"
    (lo, fo, co, inside), (lt, ft, _, _) = layers["ours"], layers["tipg"]
    if co or z not in RAW_ZOOMS:
        same = "=" if inside == db_rows else "≠"
        return f"both decode; the counts of our clusters inside the tile {same} rows in tile"
    ids_o = {_fid(f) for f in fo if _inside(f, lo["extent"])}
    ids_t = {_fid(f) for f in ft if _inside(f, lt["extent"])}
    if ids_o == ids_t:
        return f"same {len(ids_o):,} ids"
    if db_rows >= CAP and ids_o <= ids_t:
        # Ours spends part of its cap on the buffer around the tile, tipg only on the tile.
        return f"capped: ours' {len(ids_o):,} ids inside the tile all in tipg's {len(ids_t):,}"
    return (
        f"DIFFER: {len(ids_o & ids_t):,} shared, {len(ids_o - ids_t):,} only ours, "
        f"{len(ids_t - ids_o):,} only tipg"
    )


# --- the run ---------------------------------------------------------------------------------


@dataclass
class Row:
    label: str
    ours: Figures
    tipg: Figures | None = None
    ceiling: Figures | None = None
    targets: list[tuple[str, bool | None, str]] = field(default_factory=list)


def _ratio(a: Figures, b: Figures | None) -> float | None:
    if b is None or b.note or a.errors or b.errors:
        return None
    if not b.rps:  # not one request of the peer finished in the time given
        return math.inf if a.rps else None
    return a.rps / b.rps


def judge(row: Row, kind: str, z: int | None = None) -> None:
    """Issue 5's targets for this row: (target, met?, the figure)."""
    vs_tipg = _ratio(row.ours, row.tipg)
    vs_ceiling = _ratio(row.ours, row.ceiling)

    def target(name, ratio, need):
        met = None if ratio is None else ratio >= need
        row.targets.append((name, met, "n/a" if ratio is None else f"{ratio:.2f}×"))

    if kind == "tile":
        target("≥ tipg", vs_tipg, 1.0)
        if z == 16:
            target("≥ 3× tipg", vs_tipg, 3.0)
        target("≥ 80% of pgbench", vs_ceiling, 0.8)
    elif kind == "page":
        target("≥ 4× tipg", vs_tipg, 4.0)
    elif kind == "cached":
        met = None if row.ours.errors else row.ours.rps >= 2000
        row.targets.append(("≥ 2,000 req/s", met, f"{row.ours.rps:,.0f} req/s"))


def _p50_target(row: Row) -> None:
    p50 = row.ours.p50_ms
    row.targets.append(("p50 < 100 ms", None if p50 is None else p50 < 100, f"{_ms(p50)} ms"))


def _tile_label(z: int, x: int, y: int, filtered: bool) -> str:
    return f"tile z{z} {x}/{y}" + (" filtered" if filtered else "")


def run_main(url: str, seconds: float, flt: Filter, tiles, tipg_python: Path):
    ours_port, cached_port, tipg_port = free_port(), free_port(), free_port()
    hromada = str(ROOT / ".venv" / "bin" / "hromada")
    tipg_cmd = [str(tipg_python), "-m", "uvicorn", "tipg.main:app", "--port", str(tipg_port),
                "--log-level", "warning"]  # fmt: skip
    tipg_env = {
        "DATABASE_URL": url,
        "TIPG_DB_SCHEMAS": '["public"]',
        "TIPG_DB_TABLES": '["public.appeals"]',
        "TIPG_DB_FUNCTIONS": "[]",
        "TIPG_MAX_FEATURES_PER_QUERY": "10000",
        "TIPG_MAX_FEATURES_PER_TILE": str(CAP),
        "TIPG_SET_MVT_LAYERNAME": "true",  # the layer is then `appeals`, as in ours
        # No catalogue refresh every 5 minutes (it reads the 3M-row table's extents and
        # stalled whichever cell it fell in); the table does not change during the run.
        "TIPG_CATALOG_TTL": "0",
    }
    rows: list[Row] = []
    with (
        server([hromada, "serve", "--port", str(ours_port)], ours_port,
               {"DATABASE_URL": url, "HROMADA_TILE_CACHE_SIZE": "0"}, "/healthz") as ours,
        server([hromada, "serve", "--port", str(cached_port)], cached_port,
               {"DATABASE_URL": url}, "/healthz") as cached,
        server(tipg_cmd, tipg_port, tipg_env, "/healthz") as tipg,
    ):  # fmt: skip
        print("\nDo the tiles decode and hold the same features?", flush=True)
        checks = check_tiles(ours, tipg, url, tiles, flt)
        _print_checks(checks)

        sql_sources = set()
        for z, x, y in tiles:
            for f in (None, flt):
                label = _tile_label(z, x, y, f is not None)
                print(f"  measuring {label}", flush=True)
                sql, source = our_tile_sql(z, x, y, f)
                sql_sources.add(source)
                row = Row(
                    label,
                    load(ours + ours_tile_path(z, x, y, f), seconds, db=url),
                    load(tipg + tipg_tile_path(z, x, y, f), seconds, db=url),
                    pgbench(url, sql, seconds),
                )
                judge(row, "tile", z)
                rows.append(row)
                if (z, f is not None) in SINGLE_CLIENT:
                    # The same tile one request at a time: its latency without queueing.
                    print(f"  measuring {label}, 1 client", flush=True)
                    single = Row(
                        f"{label}, 1 client",
                        load(ours + ours_tile_path(z, x, y, f), seconds, clients=1, db=url),
                        load(tipg + tipg_tile_path(z, x, y, f), seconds, clients=1, db=url),
                        pgbench(url, sql, seconds, clients=1),
                    )
                    rows.append(single)
                if z == 10 and f:
                    _p50_target(row)
                    _p50_target(single)
                    cached_path = ours_tile_path(z, x, y, f)
        for limit in (100, 1000):
            label = f"GeoJSON page of {limit}"
            print(f"  measuring {label}", flush=True)
            row = Row(
                label,
                load(f"{ours}/ogc/collections/appeals/items?limit={limit}", seconds, db=url),
                load(f"{tipg}/collections/public.appeals/items?limit={limit}&geom-column=geom",
                     seconds, db=url),
            )  # fmt: skip
            judge(row, "page")
            rows.append(row)
        print("  measuring the cached tile", flush=True)
        row = Row("cached tile z10 filtered", load(cached + cached_path, seconds, db=url))
        judge(row, "cached")
        rows.append(row)
    return rows, sql_sources


def _print_checks(checks: list[TileCheck]) -> None:
    w = max(len(c.label) for c in checks)
    print(f"  {'tile':{w}}  {'rows in tile':>12}  {'hromada':56}  {'tipg':32}  comparison")
    for c in checks:
        print(f"  {c.label:{w}}  {c.db_rows:>12,}  {c.ours:56}  {c.tipg:32}  {c.verdict}")


def print_table(n: int, seconds: float, rows: list[Row], flt: Filter, sources) -> None:
    head = ["request", "hromada req/s", "p50", "p99", "tipg req/s", "p50", "p99",
            "pgbench tps", "p50", "p99", "ours/tipg", "ours/pgbench", "targets"]  # fmt: skip
    table = []
    for r in rows:
        vt, vc = _ratio(r.ours, r.tipg), _ratio(r.ours, r.ceiling)
        marks = "; ".join(
            f"{name}: {'met' if met else 'n/a' if met is None else 'GAP'} ({fig})"
            for name, met, fig in r.targets
        )
        errs = [f"{who} {f.errors} errors" for who, f in (("hromada", r.ours), ("tipg", r.tipg),
                ("pgbench", r.ceiling)) if f and f.errors]  # fmt: skip
        notes = [f.note for f in (r.ours, r.tipg, r.ceiling) if f and f.note]
        table.append([
            r.label, *r.ours.cells(),
            *(r.tipg.cells() if r.tipg else ["", "", ""]),
            *(r.ceiling.cells() if r.ceiling else ["", "", ""]),
            f"{vt:.2f}×" if vt else "", f"{vc:.2f}×" if vc else "",
            "; ".join([marks, *errs, *notes]).strip("; "),
        ])  # fmt: skip
    print(
        f"\n{n:,} appeals; {CONCURRENCY} concurrent clients, {seconds:g} s per cell; latency in "
        f"ms; filter: category {flt.category_id}, created_at ≥ {flt.since_text}; Hromada's "
        f"tile cache off except in the last row\npgbench SQL: {'; '.join(sorted(sources))}; "
        f"PGOPTIONS='{_session_options()}'\n"
    )
    _print_grid(head, table)


def _print_grid(head: list[str], table: list[list[str]]) -> None:
    widths = [max(len(str(c)) for c in col) for col in zip(head, *table, strict=True)]
    for i, line in enumerate([head, *table]):
        cells = [f"{c:<{w}}" if j in (0, len(head) - 1) else f"{c:>{w}}"
                 for j, (c, w) in enumerate(zip(line, widths, strict=True))]  # fmt: skip
        print("  ".join(cells).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))


# --- how latency grows with the table ---------------------------------------------------------


def scaling_point(url: str, seconds: float) -> tuple[int, dict[tuple[str, int], Figures]]:
    """Our filtered z10 tile and unfiltered z14 tile (cache off) over this database, one
    client at a time (latency alone) and 8 (under load)."""
    n, flt = database_facts(url)
    port = free_port()
    env = {"DATABASE_URL": url, "HROMADA_TILE_CACHE_SIZE": "0"}
    hromada = str(ROOT / ".venv" / "bin" / "hromada")
    figures = {}
    with server([hromada, "serve", "--port", str(port)], port, env, "/healthz") as ours:
        for name, z, filtered in SCALING_TILES:
            path = ours_tile_path(*tile_at(*CENTRE, z), flt if filtered else None)
            for clients in (1, CONCURRENCY):
                figures[name, clients] = load(ours + path, seconds, clients=clients, db=url)
    return n, figures


def print_scaling(points: list[tuple[int, dict[tuple[str, int], Figures]]]) -> None:
    print(f"\nHow our latency grows with the table (cache off; ms; 1 client, then {CONCURRENCY})")
    head, keys = ["appeals"], []
    for name, _, _ in SCALING_TILES:
        head += [f"{name} p50", "p99", f"p50 ×{CONCURRENCY}", "req/s"]
        keys.append(name)
    table = []
    for n, figures in sorted(points, key=lambda p: p[0]):
        line = [f"{n:,}"]
        for name in keys:
            one, many = figures[name, 1], figures[name, CONCURRENCY]
            line += [_ms(one.p50_ms), _ms(one.p99_ms), _ms(many.p50_ms), f"{many.rps:,.1f}"]
        table.append(line)
    _print_grid(head, table)


def machine_facts(url: str) -> str:
    with psycopg.connect(url) as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]
        postgis = conn.execute("SELECT postgis_lib_version()").fetchone()[0]
    mem = subprocess.run(["free", "-g"], capture_output=True, text=True).stdout.split("\n")[1]
    return (
        f"{subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} CPUs, "
        f"{mem.split()[1]} GiB RAM, PostgreSQL {pg.split()[0]}, PostGIS {postgis}, "
        f"load by {'wrk' if shutil.which('wrk') else 'httpx'}, ceiling by {PGBENCH}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", help="a database already holding the demo city")
    ap.add_argument("--appeals", type=int, default=3_000_000)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument(
        "--scaling-sizes",
        default="100000,1000000",
        help="smaller tables to time too (loaded into throwaway clusters)",
    )
    ap.add_argument(
        "--scaling-url",
        action="append",
        default=[],
        metavar="SIZE=URL",
        help="reuse a database for one of the scaling sizes",
    )
    ap.add_argument("--no-scaling", action="store_true")
    args = ap.parse_args()  # fmt: skip

    tipg_python = peer_python(TIPG)
    _mvt()
    load_before = os.getloadavg()
    tiles = [tile_at(*CENTRE, z) for z in ZOOMS]
    with loaded_database(args.url, args.appeals) as url:
        vacuum(url)
        n, flt = database_facts(url)
        facts = machine_facts(url)
        rows, sources = run_main(url, args.seconds, flt, tiles, tipg_python)
    # The largest table's point of the growth table: the main table's figures.
    by_label = {r.label: r for r in rows}
    largest = {}
    for name, z, filtered in SCALING_TILES:
        label = _tile_label(*tile_at(*CENTRE, z), filtered)
        largest[name, CONCURRENCY] = by_label[label].ours
        largest[name, 1] = by_label[f"{label}, 1 client"].ours
    points = [] if args.no_scaling else [(n, largest)]

    if not args.no_scaling:
        reuse = dict(s.split("=", 1) for s in args.scaling_url)
        sizes = [int(s) for s in args.scaling_sizes.split(",") if s] + [int(s) for s in reuse]
        for size in sorted(set(sizes)):
            print(f"\nscaling: {size:,} appeals", flush=True)
            with loaded_database(reuse.get(str(size)), size) as small:
                vacuum(small)
                points.append(scaling_point(small, args.seconds))

    print(f"\n{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; {facts}")
    # Anything else running on these cores shows here (the run itself makes about 2-4).
    print(
        "load average (1, 5, 15 min) before the run: "
        + ", ".join(f"{v:.1f}" for v in load_before)
        + "; after: "
        + ", ".join(f"{v:.1f}" for v in os.getloadavg())
    )
    print_table(n, args.seconds, rows, flt, sources)
    if points:
        print_scaling(points)


if __name__ == "__main__":
    main()
