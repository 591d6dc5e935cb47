"""Filing appeals while the map is being read (issue 18, item 6): submissions with routing at
least 300 per second with p99 under 250 ms.

    .venv/bin/python bench/submissions_under_load.py [--url DATABASE_URL] [--appeals N]
        [--seconds 20] [--clients 16] [--map-connections 4] [--processes 1,2]

Without --url it loads the demo city (50,000 appeals by default) into a throwaway cluster.
For each number of API processes (`hromada serve --processes N`; N > 1 starts the run's
private redis for the shared rate limits) a fresh server is started and, for S seconds, at
the same time:

1. C clients file appeals as the portal's form does (webmap/static/js/appeal_new.js):
   POST /api/v1/appeals, multipart/form-data with the JSON in a `data` part — a point inside
   the city (points drawn inside the districts), one of the 20 sub-kinds most used in the
   database, a text, the author (name, e-mail, postal address, notices by e-mail), consent
   to publish — each with its own Idempotency-Key, anonymously;
2. another load reads the public map: appeal tiles at z14 and z16 around the centre and
   pages of /ogc/collections/appeals/items (following their `next` links, and one bbox).

Both loads are wrk (4.1, Debian) with a Lua script, not an asyncio httpx loop: at 300+
requests/s an httpx client spends a good part of one of the two cores on itself, which the
server would then miss; wrk's cost is a few per cent. The submissions' script counts the
answers by status and keeps the number of every 201, so that afterwards SQL checks that each
is in the database exactly once and has its executor, assigned by routing at filing
(gis/intake.py place → gis/routing.decide). Appeals of the run without an executor are
counted and their routing reason shown.

The anonymous filing limit (rate_limit_submission, 20/hour per address) would stop the
load at once: it is raised for the server started here through its environment
(HROMADA_RATE_LIMIT_SUBMISSION), and said so; the limiter itself stays on (counted in memory,
or in the run's redis with several processes). Everything shares the machine: wrk, the
server(s), redis and PostgreSQL. Prints figures; asserts no time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, loaded_database, server  # noqa: E402

from gis.embedded import free_port  # noqa: E402

TARGET_RPS = 300
TARGET_P99_MS = 250
CENTRE = (30.52, 50.45)  # lon, lat: central Kyiv
RATE_LIMIT = "1000000/minute"
BOUNDARY = "----hromadabench0b5e1c"
TEXT = ("Біля під'їзду третій тиждень не вивозять сміття, контейнери переповнені, "
        "просимо вжити заходів.")  # fmt: skip


# --- what is asked ---------------------------------------------------------------------------


def tile_path(lon: float, lat: float, z: int, dx: int = 0, dy: int = 0) -> str:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return f"/tiles/appeals/{z}/{x + dx}/{y + dy}.mvt"


def points_and_categories(url: str, n: int = 2000) -> tuple[list[tuple[float, float]], list[int]]:
    """Points drawn inside the districts (so inside the service area) and the 20 sub-kinds
    most used by the appeals already there."""
    with psycopg.connect(url) as conn:
        points = conn.execute(
            "SELECT ST_X(g), ST_Y(g) FROM (SELECT (ST_Dump(ST_GeneratePoints("
            " ST_Union(geom), %s, 1551))).geom AS g FROM districts) s",
            (n,),
        ).fetchall()
        categories = [r[0] for r in conn.execute(
            "SELECT category_id FROM appeals GROUP BY 1 ORDER BY count(*) DESC LIMIT 20"
        )]  # fmt: skip
    return [(round(x, 6), round(y, 6)) for x, y in points], categories


def map_paths(base: str) -> list[str]:
    """z14 (3×3) and z16 (4×4) appeal tiles around the centre, the first five pages of the
    appeals' items (by their `next` links) and one bbox page."""
    paths = [tile_path(*CENTRE, 14, dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
    paths += [tile_path(*CENTRE, 16, dx, dy) for dx in (-2, -1, 0, 1) for dy in (-2, -1, 0, 1)]
    page = "/ogc/collections/appeals/items?limit=100"
    for _ in range(5):
        paths.append(page)
        r = httpx.get(base + page, timeout=60)
        r.raise_for_status()
        nxt = next((link["href"] for link in r.json().get("links", []) if link["rel"] == "next"),
                   None)  # fmt: skip
        if not nxt:
            break
        page = nxt.removeprefix(base) if nxt.startswith("http") else nxt
        page = re.sub(r"^https?://[^/]+", "", page)
    lon, lat = CENTRE
    paths.append(f"/ogc/collections/appeals/items?limit=100&bbox={lon - 0.01},{lat - 0.01},"
                 f"{lon + 0.01},{lat + 0.01}")  # fmt: skip
    return paths


def _lua_bytes(s: str) -> str:
    """A Lua string literal holding the UTF-8 bytes of s."""
    return (
        '"'
        + "".join(
            chr(b) if 32 <= b < 127 and chr(b) not in '"\\' else f"\\{b:03d}" for b in s.encode()
        )
        + '"'
    )


# --- the wrk scripts -------------------------------------------------------------------------

# Shared by both scripts: answers by status per thread, summed in done(), which prints one
# line `RESULT {json}` with the figures (latency in microseconds, as wrk keeps it).
_DONE = r"""
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
function done(summary, latency, requests)
  local statuses, numbers = {}, {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("statuses")) do statuses[k] = (statuses[k] or 0) + v end
    local nums = t:get("numbers")
    if nums then for _, n in ipairs(nums) do table.insert(numbers, n) end end
  end
  local parts = {}
  for k, v in pairs(statuses) do table.insert(parts, string.format('"%s": %d', k, v)) end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "p50": %d, "p90": %d, "p99": %d, ' ..
    '"max": %d, "statuses": {%s}, "socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, table.concat(parts, ", "),
    e.connect + e.read + e.write + e.timeout))
  if numbers_file then
    local f = io.open(numbers_file, "w")
    for _, n in ipairs(numbers) do f:write(n, "\n") end
    f:close()
  end
end
"""


def submissions_script(run: str, points, categories, numbers_file: Path) -> str:
    pts = ",".join(f"{{{x},{y}}}" for x, y in points)
    cats = ",".join(str(c) for c in categories)
    author = json.dumps({
        "full_name": "Бенчмарк Тарас Петрович", "email": "bench@example.org", "phone": None,
        "postal_address": "вулиця Хрещатик, 1, кв. 1", "notify_channel": "email",
        "language": "uk",
    }, ensure_ascii=False)  # fmt: skip
    return (
        f"""
numbers_file = {_lua_bytes(str(numbers_file))}
local run = {_lua_bytes(run)}
local points = {{{pts}}}
local categories = {{{cats}}}
local author = {_lua_bytes(author)}
local text = {_lua_bytes(TEXT)}
local boundary = "{BOUNDARY}"
local counter = 0
statuses = {{}}
numbers = {{}}
function init(args)
  math.randomseed(tid * 7919 + os.time())
end
function request()
  counter = counter + 1
  local p = points[math.random(#points)]
  local data = string.format(
    '{{"category": %d, "text": "%s %s-%d-%d", "location": {{"lon": %.6f, "lat": %.6f}}, ' ..
    '"author": %s, "consent_to_publish": true}}',
    categories[math.random(#categories)], text, run, tid, counter, p[1], p[2], author)
  local body = "--" .. boundary .. "\\r\\n" ..
    'Content-Disposition: form-data; name="data"\\r\\n\\r\\n' .. data .. "\\r\\n" ..
    "--" .. boundary .. "--\\r\\n"
  return wrk.format("POST", "/api/v1/appeals", {{
    ["Content-Type"] = "multipart/form-data; boundary=" .. boundary,
    ["Idempotency-Key"] = run .. "-" .. tid .. "-" .. counter,
    ["Accept-Language"] = "uk",
  }}, body)
end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 201 then
    local n = string.match(body, '"number":%s*"([^"]+)"')
    if n then table.insert(numbers, n) end
  end
end
"""
        + _DONE
    )


def map_script(paths: list[str]) -> str:
    listed = ",".join(_lua_bytes(p) for p in paths)
    return (
        f"""
local paths = {{{listed}}}
statuses = {{}}
function init(args)
  math.randomseed(tid * 104729 + os.time())
end
function request()
  return wrk.format("GET", paths[math.random(#paths)])
end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
"""
        + _DONE
    )


def _wrk(base: str, script: Path, connections: int, threads: int, seconds: float):
    return subprocess.Popen(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s",
         "--timeout", "30s", "-s", str(script), base],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _result(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate()
    line = next((x for x in out.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result: {out[-2000:]} {err[-2000:]}")
    r = json.loads(line.removeprefix("RESULT "))
    seconds = r["duration_us"] / 1e6
    r["ok"] = sum(v for k, v in r["statuses"].items() if 200 <= int(k) < 400)
    r["rps"] = r["ok"] / seconds if seconds else 0.0
    return r


# --- the run ---------------------------------------------------------------------------------


def check_database(url: str, run: str, numbers: list[str]) -> dict:
    """Every 201's number in the database exactly once, with its executor; and the run's
    appeals (its marker in the text) without an executor, with their routing reasons."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT number, count(*), count(executor_id) FROM appeals"
            " WHERE number = ANY(%s) GROUP BY number",
            (numbers,),
        ).fetchall()
        (total,) = conn.execute(
            "SELECT count(*) FROM appeals WHERE text LIKE %s",
            (f"%{run}-%",),
        ).fetchone()
        no_executor = conn.execute(
            "SELECT coalesce(routing_reason, '(none)'), count(*) FROM appeals"
            " WHERE text LIKE %s AND executor_id IS NULL GROUP BY 1 ORDER BY 2 DESC",
            (f"%{run}-%",),
        ).fetchall()
    once = sum(1 for _, c, _e in rows if c == 1)
    return {
        "answered_201": len(numbers),
        "distinct_201": len(set(numbers)),
        "found_once": once,
        "found_more": sum(1 for _, c, _e in rows if c > 1),
        "missing": len(set(numbers)) - len(rows),
        "with_executor": sum(e for _, c, e in rows if c == 1),
        "run_in_db": total,
        "run_without_executor": sum(c for _, c in no_executor),
        "why_no_executor": no_executor,
    }


# --- CPU: where the two cores went -------------------------------------------------------------


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, clock ticks of the process and of its children it has waited for)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[1]), sum(int(f) for f in fields[11:15])  # utime stime cutime cstime


def tree_cpu(root: int | None) -> float:
    """CPU seconds of a process and every descendant, living or waited for, so far."""
    if root is None:
        return 0.0
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (st := _stat(int(entry))) is not None:
            stats[int(entry)] = st
    wanted, total, grew = {root}, 0, True
    while grew:
        more = {pid for pid, (ppid, _) in stats.items() if ppid in wanted} - wanted
        grew = bool(more)
        wanted |= more
    total = sum(stats[pid][1] for pid in wanted if pid in stats)
    return total / os.sysconf("SC_CLK_TCK")


def postmaster_pid(url: str) -> int | None:
    """The cluster's postmaster, when it runs on this machine: a backend's parent."""
    with psycopg.connect(url) as conn:
        (backend,) = conn.execute("SELECT pg_backend_pid()").fetchone()
        st = _stat(backend)
    return st[0] if st else None


def server_pid(port: int) -> int | None:
    for entry in os.listdir("/proc"):
        try:
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve" in cmd and str(port).encode() in cmd:
            return int(entry)
    return None


def one_run(url: str, processes: int, args, points, categories, work: Path) -> dict:
    port = free_port()
    env = {
        "DATABASE_URL": url,
        "HROMADA_DATA_DIR": str(work / f"data-{processes}"),
        "HROMADA_RATE_LIMIT_SUBMISSION": RATE_LIMIT,
        "HROMADA_ACCESS_LOG": "false",
    }
    print(f"\n{processes} API process(es): HROMADA_RATE_LIMIT_SUBMISSION={RATE_LIMIT} in the "
          f"server's environment (default 20/hour per address; the limiter stays on"
          f"{', counted in the run’s redis' if processes > 1 else ''})", flush=True)  # fmt: skip
    hromada = str(ROOT / ".venv" / "bin" / "hromada")
    cmd = [hromada, "serve", "--port", str(port), "--processes", str(processes)]
    log = work / f"server-{processes}.log"
    with server(cmd, port, env, "/healthz", log=log) as base:
        run = f"bench{uuid.uuid4().hex[:10]}"
        paths = map_paths(base)
        for p in paths:  # warm: each read once
            httpx.get(base + p, timeout=60)
        # One filing first, so that a body the server refuses shows before the load.
        first = _post_once(base, points[0], categories[0], f"{run}w")
        print(f"  a first appeal: {first}", flush=True)
        numbers_file = work / f"numbers-{processes}.txt"
        sub_lua = work / f"submit-{processes}.lua"
        sub_lua.write_text(submissions_script(run, points, categories, numbers_file))
        map_lua = work / "map.lua"
        map_lua.write_text(map_script(paths))
        service, postmaster = server_pid(port), postmaster_pid(url)
        load_before = os.getloadavg()
        cpu_before = (tree_cpu(service), tree_cpu(postmaster), _children_cpu())
        readers = _wrk(base, map_lua, args.map_connections, 1, args.seconds)
        filers = _wrk(base, sub_lua, args.clients, 2, args.seconds)
        sub, rd = _result(filers), _result(readers)
        cpu_after = (tree_cpu(service), tree_cpu(postmaster), _children_cpu())
        load_after = os.getloadavg()
        cpu = [b - a for a, b in zip(cpu_before, cpu_after, strict=True)]
    numbers = numbers_file.read_text().split() if numbers_file.exists() else []
    if any(int(k) >= 500 for k in sub["statuses"]) or any(int(k) >= 500 for k in rd["statuses"]):
        errors = [line for line in log.read_text().splitlines() if "Error" in line]
        print("  the server's last errors:", *errors[-8:], sep="\n    ")
    check = check_database(url, run, numbers)
    return {"processes": processes, "sub": sub, "map": rd, "check": check,
            "load": (load_before, load_after), "map_paths": len(paths), "cpu": cpu,
            "postmaster": postmaster}  # fmt: skip


def _children_cpu() -> float:
    """CPU seconds of this script's waited-for children: the wrk processes."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _post_once(base: str, point, category: int, run: str) -> str:
    data = {"category": category, "text": f"{TEXT} {run}-0-0",
            "location": {"lon": point[0], "lat": point[1]},
            "author": {"full_name": "Бенчмарк Тарас Петрович", "email": "bench@example.org",
                       "postal_address": "вулиця Хрещатик, 1, кв. 1", "notify_channel": "email",
                       "language": "uk"},
            "consent_to_publish": True}  # fmt: skip
    r = httpx.post(base + "/api/v1/appeals", files={"data": (None, json.dumps(data))},
                   headers={"Idempotency-Key": f"{run}-0-0"}, timeout=60)  # fmt: skip
    if r.status_code != 201:
        raise RuntimeError(f"the first appeal was refused: {r.status_code} {r.text[:500]}")
    body = r.json()
    return (
        f"201 {body['number']}, executor {body['executor']['name']!r}, "
        f"routing: {body['routing_reason']!r}"
    )


def machine_facts(url: str) -> str:
    with psycopg.connect(url) as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]
        postgis = conn.execute("SELECT postgis_lib_version()").fetchone()[0]
        (n,) = conn.execute("SELECT count(*) FROM appeals").fetchone()
    mem = subprocess.run(["free", "-g"], capture_output=True, text=True).stdout.split("\n")[1]
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    wrk_version = (wrk.stdout or wrk.stderr).split("\n")[0].split(" [")[0]
    return (f"{os.cpu_count()} CPUs, {mem.split()[1]} GiB RAM, PostgreSQL {pg.split()[0]}, "
            f"PostGIS {postgis}, {n:,} appeals in the database, load by {wrk_version}")  # fmt: skip


def _ms(us: float) -> str:
    return f"{us / 1000:.0f}" if us >= 10_000 else f"{us / 1000:.1f}"


def print_table(results: list[dict], args) -> None:
    print(f"\n{args.clients} clients filing, {args.map_connections} connections reading the map"
          f", {args.seconds:g} s each run")  # fmt: skip
    head = (f"{'proc':>4}  {'filed/s':>8} {'p50':>6} {'p90':>6} {'p99':>6}  {'errors':<18}"
            f"{'map reads/s':>11} {'p50':>6} {'p99':>6}  targets")  # fmt: skip
    print(head)
    print("-" * len(head))
    for r in results:
        s, m = r["sub"], r["map"]
        filed = s["statuses"].get("201", 0) / (s["duration_us"] / 1e6)
        errors = {k: v for k, v in s["statuses"].items() if k != "201"}
        if s["socket_errors"]:
            errors["socket"] = s["socket_errors"]
        err = ", ".join(f"{k}: {v}" for k, v in sorted(errors.items())) or "none"
        rps_ok = "met" if filed >= TARGET_RPS else "GAP"
        p99_ok = "met" if s["p99"] / 1000 < TARGET_P99_MS else "GAP"
        print(f"{r['processes']:>4}  {filed:>8,.1f} {_ms(s['p50']):>6} {_ms(s['p90']):>6} "
              f"{_ms(s['p99']):>6}  {err:<18}{m['rps']:>11,.1f} {_ms(m['p50']):>6} "
              f"{_ms(m['p99']):>6}  ≥ {TARGET_RPS}/s: {rps_ok}, p99 < {TARGET_P99_MS} ms: "
              f"{p99_ok}")  # fmt: skip
    print("(latencies in ms; filed/s counts 201 answers only)")
    for r in results:
        c, m = r["check"], r["map"]
        merr = {k: v for k, v in m["statuses"].items() if not 200 <= int(k) < 400}
        ok = (c["found_once"] == c["distinct_201"] == c["answered_201"] and not c["missing"]
              and c["with_executor"] == c["answered_201"])  # fmt: skip
        print(f"{r['processes']} process(es): {c['answered_201']:,} answered 201 — "
              f"{c['found_once']:,} in the database exactly once, {c['found_more']} more than "
              f"once, {c['missing']} missing, {c['with_executor']:,} with their executor "
              f"({'all' if ok else 'NOT all'}); the run's appeals in the database: "
              f"{c['run_in_db']:,} (more than the 201s by those still in flight when wrk "
              f"stopped, and the first one), without an executor: {c['run_without_executor']}"
              f"{'' if not merr else f'; map read errors {merr}'}; load average before/after: "
              f"{', '.join(f'{v:.1f}' for v in r['load'][0])} / "
              f"{', '.join(f'{v:.1f}' for v in r['load'][1])}")  # fmt: skip
        for reason, n in c["why_no_executor"]:
            print(f"    no executor, {n}: routing said {reason!r}")
        server_s, pg_s, wrk_s = r["cpu"]
        filed = max(c["answered_201"], 1)
        elapsed = r["sub"]["duration_us"] / 1e6
        print(f"    CPU over the {elapsed:.1f} s: the server {server_s:.1f} s, PostgreSQL (the cluster) "
              f"{pg_s:.1f} s{'' if r['postmaster'] else ' (not on this machine)'}, wrk "
              f"{wrk_s:.1f} s, of {(os.cpu_count() or 1) * elapsed:.0f} "
              f"core-seconds; per appeal filed (the map reads included): server "
              f"{server_s / filed * 1000:.1f} ms, PostgreSQL {pg_s / filed * 1000:.1f} ms")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", help="a database already holding the demo city (appeals are added)")
    ap.add_argument("--appeals", type=int, default=50_000, help="without --url")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--clients", type=int, default=16, help="concurrent filing connections")
    ap.add_argument("--map-connections", type=int, default=4)
    ap.add_argument("--processes", default="1,2", help="API processes per run, e.g. 1,2")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed (Debian's wrk; scripts/system-deps.sh bench)")
    work = Path(tempfile.mkdtemp(prefix="hromada-submissions-bench-"))
    results = []
    with loaded_database(args.url, args.appeals) as url:
        facts = machine_facts(url)
        points, categories = points_and_categories(url)
        for n in (int(p) for p in args.processes.split(",") if p):
            results.append(one_run(url, n, args, points, categories, work))
    shutil.rmtree(work, ignore_errors=True)
    print(f"\n{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; {facts}")
    print(f"map reads: {results[0]['map_paths']} paths (z14/z16 appeal tiles, items pages)")
    print_table(results, args)


if __name__ == "__main__":
    main()
