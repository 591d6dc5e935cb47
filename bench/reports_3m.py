"""Issue 14's benchmark: every report over 3 million appeals for the whole city and one year, and
the full open-data CSV export.

    .venv/bin/python bench/reports_3m.py [--url DATABASE_URL] [--appeals N] [--repeat R]
        [--as city|council|oblast ...]

Without --url it loads `hromada demo --appeals 3000000` into a throwaway cluster (about 8
minutes here; shared_buffers 1GB, --shared-buffers) and VACUUM (ANALYZE)s it; with --url it
reuses a database that already holds the demo city (migrated to head, vacuumed; its own
settings, printed). Then it starts the real server (`hromada serve`, one uvicorn
worker), signs in as the demo admin (a bearer token: the city's scope) and, over HTTP:

1. asks each report of gis.reports.REPORTS for the last 365 Kyiv days of the data (the day of
   the newest appeal and the 364 before it; `daily` for that last day: its date filters do not
   apply), format=json, R times (the first discarded as a warm-up), and the `executors` report
   as XLSX too: p50, p90 and min in ms, the rows and bytes of the answer, target p50 < 1 s.
   The server keeps no cache of reports (the public ones say Cache-Control: public, max-age=300
   to browsers and proxies; this client caches nothing): every request runs its SQL;
2. reads the whole open-data CSV (/api/v1/opendata/appeals.csv, every public appeal) as a
   stream, counting its lines: rows/s (target ≥ 100,000) and the server process's resident
   memory — VmRSS before, the highest VmRSS sampled every 0.1 s during the stream, and VmHWM
   (the kernel's peak, reset just before the stream through /proc/PID/clear_refs) after.

`--as` (repeatable; default `city`) says whose reports are timed (issue 17): `city`, the demo
admin as above; `council`, an administrator bound to one council (the one with the most
appeals); `oblast`, an oblast administrator (bound to none: every council). A council's
principal sees the same rows as the oblast's only when the installation serves several
councils (with one, both are `every_council` and run the same SQL): on a one-council database
the script adds an empty second council for the run (its SQL then carries `a.council_id =
ANY(…)` for the bound one and nothing for the oblast's) and deletes it afterwards; the same
appeals, so the difference is the cost of the council's predicate. The two bench accounts
(`bench-council-admin@bench.hromada`, `bench-oblast-admin@bench.hromada`) stay.

It prints the load average before and after (the machine's 2 cores are shared). Nothing asserts
a time; the figures and what they mean are in bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import secrets
import statistics
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, loaded_database  # noqa: E402

from gis import reports  # noqa: E402
from gis.embedded import free_port  # noqa: E402
from importers.demo import accounts as demo_accounts  # noqa: E402

SEED = 1551  # the demo accounts' passwords follow from the seed
TARGET_MS = 1000.0
TARGET_ROWS_PER_S = 100_000
DAYS = 365
WHO = ("city", "council", "oblast")
BENCH_COUNCIL = ("UA99000000000000001", "bench-other", "Інша громада (бенчмарк)", "БН")


# --- the database ------------------------------------------------------------------------------


def vacuum(url: str) -> None:
    """A freshly loaded table has no visibility map (index-only scans would visit the heap) and
    no statistics: a settled database is what is measured."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")


def facts(url: str) -> dict:
    with psycopg.connect(url) as conn:
        (n,) = conn.execute("SELECT count(*) FROM appeals").fetchone()
        (public,) = conn.execute("SELECT count(*) FROM appeal_features").fetchone()
        (last_day,) = conn.execute(
            "SELECT (max(created_at) AT TIME ZONE 'Europe/Kyiv')::date FROM appeals"
        ).fetchone()
        first_day = last_day - dt.timedelta(days=DAYS - 1)
        (in_year,) = conn.execute(
            "SELECT count(*) FROM appeals WHERE created_at >= %s AND created_at < %s",
            (reports.kyiv_day_start(first_day), reports.kyiv_day_start(last_day + dt.timedelta(1))),
        ).fetchone()
        pg = conn.execute("SHOW server_version").fetchone()[0]
        (shared_buffers,) = conn.execute("SHOW shared_buffers").fetchone()
        (work_mem,) = conn.execute("SHOW work_mem").fetchone()
        postgis = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'postgis'")
        (postgis_v,) = postgis.fetchone() or (None,)
        (head,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    return {"appeals": n, "public": public, "first_day": first_day, "last_day": last_day,
            "in_year": in_year, "pg": pg, "postgis": postgis_v, "head": head,
            "shared_buffers": shared_buffers, "work_mem": work_mem}  # fmt: skip


# --- the server --------------------------------------------------------------------------------


@contextmanager
def hromada_server(url: str):
    """`hromada serve` in a subprocess (uvicorn in the process itself: its PID is the server's);
    yields (base URL, PID)."""
    port = free_port()
    cmd = [str(ROOT / ".venv" / "bin" / "hromada"), "serve", "--port", str(port)]
    env = {**os.environ, "DATABASE_URL": url, "HROMADA_BASEMAP_URL": "off"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"hromada serve exited: {proc.stderr.read()[-2000:]}")
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code < 500:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        yield base, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def sign_in(base: str, url: str, who: str = "city") -> str:
    """A bearer token of the demo admin (the whole city), or of the bench's administrator
    bound to the council with the most appeals (`council`) or bound to none (`oblast`)."""
    if who == "city":
        accounts = demo_accounts.create(url, SEED, demo_mode=True)
        admin = next(a for a in accounts if a.role == "admin")
        login, password = admin.login, admin.password
    else:
        login, password = bench_admin(url, who)
    r = httpx.post(base + "/api/v1/auth/login", timeout=30, json={
        "email": login, "password": password, "session": "token"})  # fmt: skip
    r.raise_for_status()
    return r.json()["access_token"]


def bench_admin(url: str, who: str) -> tuple[str, str]:
    """(login, a fresh password) of the bench's administrator of `who`: council (bound to the
    council holding the most appeals) or oblast (bound to none)."""
    from argon2 import PasswordHasher

    login = f"bench-{who}-admin@bench.hromada"
    password = secrets.token_urlsafe(12)
    hashed = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(password)
    with psycopg.connect(url) as conn:
        council = None
        if who == "council":
            (council,) = conn.execute(
                "SELECT k.id FROM councils k ORDER BY (SELECT count(*) FROM appeals a"
                " WHERE a.council_id = k.id) DESC, k.id LIMIT 1"
            ).fetchone()
        conn.execute(
            "INSERT INTO users (email, password_hash, full_name, role, council_id, is_active,"
            " email_confirmed_at) VALUES (%s, %s, %s, 'admin', %s, true, now())"
            " ON CONFLICT ((lower(email))) DO UPDATE SET password_hash = EXCLUDED.password_hash,"
            " role = 'admin', council_id = EXCLUDED.council_id, is_active = true",
            (login, hashed, f"Адміністратор ({who}, бенчмарк)", council),
        )
    return login, password


@contextmanager
def several_councils(url: str):
    """An empty second council for the run when the database serves one (so that a council's
    administrator is bound and the oblast's is not); deleted afterwards. Yields the number
    of councils during the run."""
    code, slug, name, prefix = BENCH_COUNCIL
    with psycopg.connect(url, autocommit=True) as conn:
        (n,) = conn.execute("SELECT count(*) FROM councils").fetchone()
        added = n == 1
        if added:
            conn.execute("INSERT INTO councils (code, slug, name, number_prefix)"
                         " VALUES (%s, %s, %s, %s)", (code, slug, name, prefix))  # fmt: skip
    try:
        yield n + added
    finally:
        if added:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("DELETE FROM councils WHERE code = %s", (code,))


def memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of the process, in KiB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":")
                out[key] = int(value.split()[0])
    return out


def reset_peak(pid: int) -> bool:
    """Reset the process's VmHWM to its current RSS (Linux ≥ 4.0); False where not allowed."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


# --- the measurements --------------------------------------------------------------------------


def report_cases(f: dict) -> list[tuple[str, str, dict]]:
    """(label, report, query) for every report, over the year (daily: its last day)."""
    cases = []
    for name in reports.REPORTS:
        if name in reports.APPLIES.get("date", ()):
            query = {"date": f["last_day"].isoformat()}
        else:
            query = {"date_from": f["first_day"].isoformat(), "date_to": f["last_day"].isoformat()}
        cases.append((name, name, {**query, "format": "json"}))
        if name == "executors":
            cases.append(("executors (xlsx)", name, {**query, "format": "xlsx"}))
    return cases


def time_report(client: httpx.Client, path: str, query: dict, repeat: int) -> dict:
    times, size, rows, scope = [], 0, None, None
    for i in range(repeat):
        t0 = time.perf_counter()
        r = client.get(path, params=query)
        elapsed = time.perf_counter() - t0
        if r.status_code != 200:  # e.g. 503 when the statement timeout (30 s) cut it off
            error = r.json().get("code") if "json" in r.headers.get("content-type", "") else ""
            return {"error": f"{r.status_code} {error} after {elapsed:,.1f} s"}
        size = len(r.content)
        if query.get("format") == "json":
            rows, scope = len(r.json()["rows"]), r.json().get("scope")
        if i:  # the first one warms the caches and the pool
            times.append(elapsed * 1000)
    times.sort()
    return {"p50": statistics.median(times), "p90": times[max(0, round(len(times) * 0.9) - 1)],
            "min": times[0], "bytes": size, "rows": rows, "scope": scope}  # fmt: skip


def stream_csv(base: str, pid: int) -> dict:
    """Read the whole open-data CSV, counting its records, while sampling the server's RSS."""
    before = memory(pid)
    peak_reset = reset_peak(pid)
    samples: list[int] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            try:
                samples.append(memory(pid)["VmRSS"])
            except OSError:
                return
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    lines = nbytes = 0
    first_byte = None
    t0 = time.perf_counter()
    with httpx.stream("GET", base + "/api/v1/opendata/appeals.csv", timeout=600) as r:
        r.raise_for_status()
        for chunk in r.iter_raw(1 << 20):
            if first_byte is None:
                first_byte = time.perf_counter() - t0
            nbytes += len(chunk)
            # One line per record (checked against the database's count below: a newline
            # inside a quoted text would count twice).
            lines += chunk.count(b"\n")
    elapsed = time.perf_counter() - t0
    done.set()
    sampler.join()
    after = memory(pid)
    rows = lines - 1  # the header
    return {"rows": rows, "bytes": nbytes, "seconds": elapsed, "first_byte": first_byte,
            "rows_per_s": rows / elapsed, "rss_before": before["VmRSS"],
            "hwm_before": before["VmHWM"], "rss_peak_sampled": max(samples or [0]),
            "rss_after": after["VmRSS"], "hwm_after": after["VmHWM"], "peak_reset": peak_reset,
            "samples": len(samples)}  # fmt: skip


def loadavg() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def commit() -> str:
    r = subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%h"], capture_output=True,
                       text=True)  # fmt: skip
    measured = ["gis/reports.py", "gis/opendata.py", "gis/migrations", "api/routers"]
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "-uno", "--", *measured],
                           capture_output=True, text=True).stdout.strip()  # fmt: skip
    return r.stdout.strip() + (" (with uncommitted changes to the code measured)" if dirty else "")


def measure_reports(base: str, url: str, who: str, f: dict, args) -> list:
    """Every report (or --only's) as `who`: (label, query, measurement) each."""
    token = sign_in(base, url, who)
    headers = {"Authorization": f"Bearer {token}"}
    results = []
    with httpx.Client(base_url=base, headers=headers, timeout=600) as client:
        for label, name, query in report_cases(f):
            if args.only and name not in args.only:
                continue
            m = time_report(client, f"/api/v1/reports/{name}", query, args.repeat)
            results.append((label, query, m))
            done = m.get("error") or f"p50 {m['p50']:,.0f} ms"
            print(f"  {who} {label}: {done}", file=sys.stderr, flush=True)
    return results


AS_TEXT = {
    "city": "the demo admin, the whole city",
    "council": "an administrator bound to one council",
    "oblast": "an oblast administrator, bound to no council",
}


def print_reports(who: str, results: list, repeat: int, councils: int | None) -> None:
    scopes = sorted({m["scope"] for _, _, m in results if m.get("scope")})
    served = f"; {councils} councils in the database" if who != "city" and councils else ""
    print(f"\nreports over HTTP as {AS_TEXT[who]} (the reports' scope: {', '.join(scopes)}"
          f"{served}), {repeat} requests each, the first discarded; ms\n")  # fmt: skip
    head = f"{'report':24} {'p50':>8} {'p90':>8} {'min':>8} {'rows':>7} {'bytes':>11}  target"
    print(head)
    print("-" * len(head))
    for label, _query, m in results:
        if "error" in m:
            print(f"{label:24} {m['error']:>46}  p50 < 1 s: GAP")
            continue
        verdict = "met" if m["p50"] < TARGET_MS else "GAP"
        rows = "" if m["rows"] is None else f"{m['rows']:,}"
        print(f"{label:24} {m['p50']:>8,.0f} {m['p90']:>8,.0f} {m['min']:>8,.0f} {rows:>7} "
              f"{m['bytes']:>11,}  p50 < 1 s: {verdict}")  # fmt: skip


def print_comparison(council: list, oblast: list) -> None:
    """p50 of each report as the council's administrator beside the oblast's."""
    print("\none council's administrator beside the oblast's, p50 ms (rows)\n")
    head = f"{'report':24} {'council':>16} {'oblast':>16} {'ratio':>7}"
    print(head)
    print("-" * len(head))
    by_label = {label: m for label, _q, m in oblast}
    for label, _q, m in council:
        o = by_label.get(label)
        if o is None or "error" in m or "error" in o:
            line = f"{label:24} {m.get('error', ''):>16} {(o or {}).get('error', ''):>16}"
            print(line.rstrip())
            continue

        def cell(x: dict) -> str:
            return f"{x['p50']:,.0f}" + ("" if x["rows"] is None else f" ({x['rows']:,})")

        print(f"{label:24} {cell(m):>16} {cell(o):>16} {m['p50'] / o['p50']:>7.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", help="a database already holding the demo city")
    ap.add_argument("--appeals", type=int, default=3_000_000)
    ap.add_argument(
        "--shared-buffers",
        default="1GB",
        help="the throwaway cluster's shared_buffers (the embedded default is 256MB)",
    )
    ap.add_argument("--repeat", type=int, default=7, help="requests per report (first discarded)")
    ap.add_argument("--only", action="append", help="measure only this report (repeatable)")
    ap.add_argument("--no-csv", action="store_true", help="skip the open-data CSV")
    ap.add_argument("--no-reports", action="store_true", help="only the open-data CSV")
    ap.add_argument(
        "--as", dest="who", action="append", choices=WHO,
        help="whose reports (repeatable; default city): the demo admin, an admin bound to one"
        " council, an oblast admin (see above)",
    )  # fmt: skip
    args = ap.parse_args()
    whom = [w for w in WHO if w in (args.who or ["city"])]

    settings = {"shared_buffers": args.shared_buffers}
    with loaded_database(args.url, args.appeals, seed=SEED, settings=settings) as url:
        if not args.url:
            started = time.monotonic()
            vacuum(url)
            print(f"VACUUM (ANALYZE) in {time.monotonic() - started:.1f} s")
        f = facts(url)
        load_before = loadavg()
        results: dict[str, list] = {}
        councils = None
        with hromada_server(url) as (base, pid):
            if not args.no_reports:
                if "city" in whom:
                    results["city"] = measure_reports(base, url, "city", f, args)
                bound = [w for w in whom if w != "city"]
                if bound:
                    with several_councils(url) as councils:
                        for who in bound:
                            results[who] = measure_reports(base, url, who, f, args)
            csv_result = None if args.no_csv else stream_csv(base, pid)
        load_after = loadavg()

    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(
        f"\n{now}; commit {commit()}; migration head {f['head']}; {os.cpu_count()} CPUs; "
        f"PostgreSQL {f['pg']} (shared_buffers {f['shared_buffers']}, work_mem {f['work_mem']}),"
        f" PostGIS {f['postgis']}; Python {platform.python_version()}"
    )
    print(f"load average (1, 5, 15 min) before: {load_before}; after: {load_after}")
    print(
        f"{f['appeals']:,} appeals; the year {f['first_day']} – {f['last_day']} (Kyiv days) "
        f"holds {f['in_year']:,}; no report cache"
    )
    for who, rows in results.items():
        print_reports(who, rows, args.repeat, councils)
    if "council" in results and "oblast" in results:
        print_comparison(results["council"], results["oblast"])
    if csv_result:
        c = csv_result
        verdict = "met" if c["rows_per_s"] >= TARGET_ROWS_PER_S else "GAP"
        check = "= " if c["rows"] == f["public"] else "≠ "
        mib = 1024
        print("\nopen-data CSV /api/v1/opendata/appeals.csv, whole city, streamed once")
        print(
            f"  rows {c['rows']:,} ({check}{f['public']:,} public appeals in appeal_features), "
            f"{c['bytes'] / 2**20:,.0f} MiB in {c['seconds']:.1f} s, first byte after "
            f"{(c['first_byte'] or 0) * 1000:,.0f} ms"
        )
        print(
            f"  {c['rows_per_s']:,.0f} rows/s, {c['bytes'] / 2**20 / c['seconds']:.1f} MiB/s: "
            f"≥ 100,000 rows/s: {verdict}"
        )
        print(
            f"  server RSS: before {c['rss_before'] / mib:,.0f} MiB; highest sampled during "
            f"the stream ({c['samples']} samples) {c['rss_peak_sampled'] / mib:,.0f} MiB; "
            f"after {c['rss_after'] / mib:,.0f} MiB; VmHWM "
            + (
                f"reset before the stream, after it {c['hwm_after'] / mib:,.0f} MiB"
                if c["peak_reset"]
                else f"before {c['hwm_before'] / mib:,.0f}, after {c['hwm_after'] / mib:,.0f} MiB"
            )
        )


if __name__ == "__main__":
    main()
